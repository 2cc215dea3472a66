"""The web application in a real browser: Debian's Chromium driven by Playwright (pytest-playwright) against
the session's server on 127.0.0.1, with axe-core on every page and a guard that fails a test when a page asks
for anything outside the app. Screenshots go to a temporary folder, and to ``docs/`` when
``CONVERGENZE_SCREENSHOTS=docs`` (``make screenshots``).

Chromium comes from Debian (``make setup-browser``): Playwright's own browser download is not used."""

from __future__ import annotations

import os
import re
import shutil
import time
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit

import pytest

pytest.importorskip("playwright")
from axe_playwright_python.sync_playwright import Axe  # noqa: E402
from playwright.sync_api import Page, Route, expect  # noqa: E402

from tests.conftest import ADMIN_KEY  # noqa: E402

pytestmark = pytest.mark.slow

CHROMIUM = os.environ.get("CONVERGENZE_CHROMIUM") or shutil.which("chromium") or "/usr/bin/chromium"
AXE_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "best-practice"]
DOCS = Path(__file__).resolve().parents[1] / "docs"
PROJECT = ("Il comune vuole trasferire in cloud i servizi digitali dell'anagrafe e dello stato civile "
           "e migliorare l'esperienza dei cittadini sul sito istituzionale.")


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args: dict) -> dict:
    if not Path(CHROMIUM).exists():
        pytest.skip(f"no Chromium at {CHROMIUM}: run `make setup-browser` (Debian's chromium package) or set "
                    "CONVERGENZE_CHROMIUM")
    # Root (CI) cannot use Chromium's sandbox; no background calls to Google's services.
    return {**browser_type_launch_args, "executable_path": CHROMIUM,
            "args": ["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--disable-background-networking",
                     "--disable-component-update", "--disable-sync", "--no-first-run"]}


@pytest.fixture(scope="session")
def browser_context_args(browser_context_args: dict) -> dict:
    return {**browser_context_args, "locale": "it-IT", "viewport": {"width": 1280, "height": 900}}


@pytest.fixture(autouse=True)
def only_the_app(page: Page, base_url: str) -> Iterator[list[str]]:
    """Aborts and records every request that does not go to the app; collects the page's errors (a CSP
    violation is a console error)."""
    host = urlsplit(base_url).netloc
    foreign: list[str] = []
    errors: list[str] = []

    def guard(route: Route) -> None:
        url = route.request.url
        if urlsplit(url).netloc != host and not url.startswith(("data:", "about:", "blob:")):
            foreign.append(url)
            route.abort()
        else:
            route.continue_()

    page.context.route("**/*", guard)
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: errors.append(f"pageerror: {e}"))
    page.set_default_timeout(60_000)
    yield errors
    assert not foreign, f"the page asked for something outside the app: {foreign}"
    assert not [e for e in errors if "Content Security Policy" in e or e.startswith("pageerror")], errors


@pytest.fixture(scope="session")
def shots(tmp_path_factory: pytest.TempPathFactory) -> list[Path]:
    folders = [tmp_path_factory.mktemp("screenshots")]
    if os.environ.get("CONVERGENZE_SCREENSHOTS") == "docs":
        folders.append(DOCS)
    return folders


def screenshot(page: Page, shots: list[Path], name: str, top: str | None = None) -> None:
    """The whole page to the temporary folder; to docs/, the first screen from ``top`` (a selector) down."""
    page.screenshot(path=shots[0] / name, full_page=True)
    if len(shots) > 1:
        if top:
            page.locator(top).first.evaluate("e => window.scrollTo(0, e.getBoundingClientRect().top + scrollY - 8)")
        page.screenshot(path=shots[1] / name)
        page.evaluate("window.scrollTo(0, 0)")


def accessible(page: Page) -> None:
    """axe-core (shipped inside axe-playwright-python): no serious or critical violation."""
    results = Axe().run(page, options={"runOnly": {"type": "tag", "values": AXE_TAGS}})
    blocking = [v for v in results.response["violations"] if v["impact"] in ("serious", "critical")]
    assert not blocking, results.generate_report()


def wait_for_htmx(page: Page) -> None:
    """Not page.wait_for_function: its polling evaluates a string in the page, which the CSP refuses."""
    deadline = time.monotonic() + 10
    while page.evaluate("typeof window.htmx") == "undefined":
        assert time.monotonic() < deadline, "htmx did not load"
        time.sleep(0.05)


def test_home_and_every_page_of_the_navigation_pass_axe(page: Page) -> None:
    page.goto("/")
    expect(page.locator("html")).to_have_attribute("lang", "it")
    expect(page.get_by_role("heading", level=1)).to_be_visible()
    accessible(page)
    for name in ("Cerca", "Il mio progetto", "Sovrapposizioni", "Scadenze", "Soggetti", "Mappa", "Avvisi", "Stato"):
        page.get_by_role("navigation", name="Navigazione principale").get_by_role("link", name=name, exact=True).click()
        expect(page.get_by_role("heading", level=1)).to_be_visible()
        expect(page.get_by_role("link", name=name, exact=True).first).to_have_attribute("aria-current", "page")
        accessible(page)


def test_search_with_two_facets_narrows_the_results(page: Page, shots: list[Path]) -> None:
    query = "contributi alle imprese per progetti di innovazione"
    page.goto("/search")
    page.get_by_label("Parole chiave").fill(query)
    page.get_by_role("button", name="Cerca", exact=True).click()
    expect(page.locator("article.card").first).to_be_visible()
    types = page.locator(".facet").filter(has=page.get_by_role("heading", name="Tipo di documento"))
    calls = int(types.get_by_role("link").filter(has_text="Bando").locator(".count").inner_text().replace(".", ""))
    types.get_by_role("link").filter(has_text="Bando").click()
    expect(page).to_have_url(re.compile(r"type=call"))
    regions = page.locator(".facet").filter(has=page.get_by_role("heading", name="Regione"))
    first = regions.get_by_role("link").first
    region = first.locator("span").first.inner_text()
    in_region = int(first.locator(".count").inner_text().replace(".", ""))
    assert 0 < in_region < calls
    first.click()
    expect(page).to_have_url(re.compile(r"(?=.*region=)(?=.*type=call)"))
    expect(regions.get_by_role("link", name=re.compile(region)).first).to_have_attribute("aria-current", "true")
    # the page shows what GET /v1/search answers under the same two filters, and nothing outside them
    api = page.request.get("/v1/search", params={"q": query, "type": "call", "region": region}).json()["data"]
    assert api and all(h["type"] == "call" and region in h["metadata"]["region"] for h in api)
    shown = page.locator("article.card h3 a").all_inner_texts()
    assert shown == [h["title"] for h in api]
    expect(page.locator("mark").first).to_be_visible()
    accessible(page)
    screenshot(page, shots, "web-search.png")


def test_search_page_by_keyboard_only(page: Page) -> None:
    page.goto("/search")
    page.keyboard.press("Tab")
    expect(page.get_by_role("link", name="Salta al contenuto")).to_be_focused()
    page.keyboard.press("Enter")
    expect(page.locator("main")).to_be_focused()
    page.keyboard.press("Tab")
    expect(page.get_by_label("Parole chiave")).to_be_focused()
    page.keyboard.type("servizi digitali dei comuni")
    page.keyboard.press("Enter")
    expect(page).to_have_url(re.compile(r"servizi\+digitali"))
    # the header, in reading order: skip link, home, language, navigation
    for target in (page.get_by_role("link", name="Salta al contenuto"), page.get_by_role("link", name="Convergenze"),
                   page.get_by_role("link", name="English"),
                   page.get_by_role("navigation", name="Navigazione principale").get_by_role("link").first):
        page.keyboard.press("Tab")
        expect(target).to_be_focused()
    page.get_by_role("button", name="Cerca", exact=True).focus()
    page.keyboard.press("Tab")
    skip = page.get_by_role("link", name="Salta ai risultati")
    expect(skip).to_be_focused()
    expect(skip).to_be_visible()
    page.keyboard.press("Enter")
    expect(page.locator("#results-title")).to_be_focused()
    for _ in range(12):  # past the sort and export links to the first result
        page.keyboard.press("Tab")
        if page.evaluate("!!document.activeElement.closest('article.card')"):
            break
    first = page.locator("article.card h3 a").first
    expect(first).to_be_focused()
    assert page.evaluate("getComputedStyle(document.activeElement).outlineStyle") != "none"
    page.keyboard.press("Enter")
    expect(page).to_have_url(re.compile(r"/documents/"))


def test_match_typed_in_the_form_shows_eligibility_and_evidence(page: Page, shots: list[Path]) -> None:
    page.goto("/match")
    page.get_by_label("Descrizione del progetto").fill(PROJECT)
    page.get_by_label("Tipo di soggetto").select_option("public_administration")
    page.get_by_label("Comune").fill("Viter")
    expect(page.locator("#municipalities option[value='Viterbo']")).to_have_count(1)
    page.get_by_label("Comune").fill("Viterbo")
    page.get_by_label("Importo necessario (euro)").fill("800.000")
    page.get_by_role("button", name="Trova i bandi").click()
    results = page.locator("#match-results > li.card")
    expect(results.first).to_be_visible()
    chip = results.first.locator(".verdicts details").filter(has_text="Territorio")
    chip.locator("summary").click()
    expect(chip.locator(".verdict-body")).to_be_visible()
    expect(results.first.locator(".why")).to_be_visible()
    expect(results.first.locator(".pair").first).to_be_visible()
    expect(page.get_by_label("Descrizione del progetto")).to_have_value(PROJECT)
    accessible(page)
    screenshot(page, shots, "web-match.png", top="#read-title")


def test_match_from_an_uploaded_pdf(page: Page, tmp_path: Path) -> None:
    from fpdf import FPDF

    pdf = FPDF()
    pdf.add_page()
    pdf.set_font("helvetica", size=12)
    pdf.multi_cell(0, 8, "Progetto del comune: trasferire in cloud i servizi digitali dell'anagrafe e dello "
                         "stato civile, e migliorare il sito istituzionale per i cittadini.")
    path = tmp_path / "progetto.pdf"
    pdf.output(str(path))
    page.goto("/match")
    page.get_by_label("Oppure carica un file (PDF, DOCX o TXT)").set_input_files(str(path))
    page.get_by_role("button", name="Trova i bandi").click()
    expect(page.get_by_text("Testo ricavato dal file caricato (PDF).")).to_be_visible()
    results = page.locator("#match-results > li.card")
    expect(results.first.locator(".verdicts summary").first).to_be_visible()
    expect(results.first.locator(".verdicts details")).to_have_count(4)


def test_a_bad_upload_gets_a_message_and_keeps_the_form(page: Page, tmp_path: Path) -> None:
    broken = tmp_path / "progetto.pdf"
    broken.write_bytes(b"%PDF-1.7\n" + b"\x00garbage" * 100)
    page.goto("/match")
    page.get_by_label("Tipo di soggetto").select_option("cooperative")
    page.get_by_label("Oppure carica un file (PDF, DOCX o TXT)").set_input_files(str(broken))
    page.get_by_role("button", name="Trova i bandi").click()
    alert = page.get_by_role("alert")
    expect(alert).to_contain_text("Il file non si può leggere")
    expect(page.get_by_label("Tipo di soggetto")).to_have_value("cooperative")
    accessible(page)


def test_overlaps_page_groups_what_overlaps_and_completes(page: Page) -> None:
    page.goto("/overlaps")
    page.get_by_label("Descrizione del programma").fill(
        "La fondazione finanzia con contributi a fondo perduto la digitalizzazione dei servizi dei piccoli "
        "comuni del Lazio e la formazione del personale comunale sui servizi digitali per i cittadini.")
    page.get_by_label("Regione").fill("Lazio")
    page.get_by_role("button", name="Confronta").click()
    expect(page.get_by_role("heading", name="Lo sovrappongono")).to_be_visible()
    expect(page.get_by_role("heading", name="Lo completano")).to_be_visible()
    expect(page.get_by_role("heading", name="Partner da contattare")).to_be_visible()
    cards = page.locator("article.card")
    if cards.count():
        expect(cards.first.locator(".chips .chip")).to_have_count(4)
    accessible(page)


def test_document_page_shows_the_call_card(page: Page, shots: list[Path]) -> None:
    page.goto("/documents/pnrr-measure:M1C1I1.02.00")
    expect(page.get_by_role("heading", level=1)).to_be_visible()
    for heading in ("Date", "Risorse", "Chi può partecipare", "Territorio", "Missioni", "Versioni e modifiche",
                    "Bandi simili", "Progetti finanziati sulla stessa misura"):
        expect(page.get_by_role("heading", name=heading, exact=True)).to_be_visible()
    accessible(page)
    screenshot(page, shots, "web-document.png")
    page.goto("/documents/nessuno:questo")
    expect(page.get_by_role("alert")).to_contain_text("non è nell'indice")


def test_calendar_month_and_list_and_its_feed(page: Page, base_url: str) -> None:
    page.goto("/calendar?view=month&month=2027-01")
    expect(page.get_by_role("heading", name="gennaio 2027")).to_be_visible()
    expect(page.get_by_role("table")).to_be_visible()
    accessible(page)
    page.get_by_role("link", name="Elenco").click()
    feed = page.get_by_role("link", name="Abbonati al calendario (.ics)")
    href = feed.get_attribute("href")
    assert href and href.startswith(base_url) and "/calendar.ics" in href
    response = page.request.get(href)
    assert response.ok and response.headers["content-type"].startswith("text/calendar")
    assert b"BEGIN:VCALENDAR" in response.body()


def test_create_and_delete_an_alert_from_a_search(page: Page) -> None:
    page.goto("/search?q=comunità+energetiche&type=call")
    page.get_by_role("link", name="Salva come avviso").click()
    expect(page.get_by_label("Parole da seguire")).to_have_count(0)  # alerts are personal: sign in first
    accessible(page)
    page.get_by_label("Chiave").fill("not-a-key")
    page.get_by_role("button", name="Accedi").click()
    expect(page.get_by_role("alert")).to_contain_text("non è valida")
    page.get_by_label("Chiave").fill(ADMIN_KEY)
    page.get_by_role("button", name="Accedi").click()
    expect(page.get_by_text("Accesso con la chiave")).to_be_visible()
    expect(page.get_by_label("Parole da seguire")).to_have_value("comunità energetiche")
    expect(page.get_by_label("Tipo di documento")).to_have_value("call")
    page.get_by_label("Nome", exact=True).fill("Comunità energetiche (prova)")
    page.get_by_role("button", name="Salva l'avviso").click()
    expect(page.get_by_role("status")).to_contain_text("Avviso salvato")
    card = page.locator("article.card").filter(has_text="Comunità energetiche (prova)")
    expect(card).to_have_count(1)
    expect(card.get_by_role("link", name="Feed dell'avviso (Atom)")).to_be_visible()
    accessible(page)
    card.get_by_role("button", name="Elimina l'avviso Comunità energetiche (prova)").click()
    expect(page.get_by_role("status")).to_contain_text("Avviso eliminato")
    expect(page.locator("article.card").filter(has_text="Comunità energetiche (prova)")).to_have_count(0)
    page.get_by_role("button", name="Esci").click()
    expect(page.get_by_label("Chiave")).to_be_visible()


def test_language_switch_keeps_the_page_and_its_state(page: Page) -> None:
    page.goto("/search?q=energia")
    page.get_by_role("link", name="English").click()
    expect(page.locator("html")).to_have_attribute("lang", "en")
    expect(page).to_have_url(re.compile(r"(?=.*q=energia)(?=.*lang=en)"))
    expect(page.get_by_label("Keywords")).to_have_value("energia")
    page.get_by_role("navigation", name="Main navigation").get_by_role("link", name="Deadlines").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Deadlines of open and forthcoming calls")
    accessible(page)
    page.get_by_role("link", name="Italiano").click()
    expect(page.locator("html")).to_have_attribute("lang", "it")


def test_map_and_actors_pages(page: Page, shots: list[Path]) -> None:
    page.goto("/map")
    svg = page.get_by_role("img")
    expect(svg).to_be_visible()
    expect(page.locator("svg path.reg")).to_have_count(20)
    # The legend says which values each colour stands for, lowest class first.
    expect(page.locator("ul.legend li").nth(1)).to_contain_text(re.compile(r"^fino a (€ )?\d"))
    expect(page.get_by_role("link", name="Scarica la tabella (CSV)")).to_be_visible()
    accessible(page)
    screenshot(page, shots, "web-map.png")
    page.goto("/actors")
    expect(page.get_by_role("heading", level=1)).to_be_visible()
    first = page.locator("table a").first
    if first.count():
        first.click()
        expect(page.get_by_role("heading", name="Documenti")).to_be_visible()
        accessible(page)
