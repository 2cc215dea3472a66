"""Call metadata extraction against official truth, with a keyword/regex-only baseline beside it.

Six labelled sets, each text built only from free-text fields, never from the fields being predicted:

- PNRR calls (Italia Domani ``PNRR_Bandi_e_Avvisi.csv``, 245): text = call title + sub-measure description.
  Truth: recipients (mapped onto actor types with the same lexicon), programme (every row is a PNRR call), and
  open/close dates, PNRR amount and issuer. Titles almost never state dates, amounts or issuer: those rows are
  printed with how often the true value is written in the text at all, and are not a fair test.
- incentivi.gov.it (13): text = title + ``zs_body``. Truth: open/close dates, budget, cost min/max, regions,
  subject types.
- EU Funding & Tenders topics (629): text = description + conditions (``ftfy``-repaired). Truth: deadline,
  budgetMin/budgetMax (the per-project contribution range), programme.
- The twelve hand-labelled PDFs (tests/fixtures/pdf_labels.json): text from pdfplumber. The extractor's cues
  were tuned while reading these twelve: they are a development set, not a held-out one.
- Held out (not looked at while writing the extractor): Lazio Innova notices (15; title + HTML content;
  truth: the site's audience tags and its "fondi europei" tag) and Emilia-Romagna notices (18; title +
  description; truth: the 'destinatari' field and the open/close dates).

Dates are compared by day (the official sets carry no time), amounts within 1%. Single-valued fields count a
wrong value as both a false positive and a false negative; set fields are micro-averaged over items.

    python benchmarks/extraction.py [--skip-pdfs]
"""

from __future__ import annotations

import argparse
import json
import time
from collections.abc import Callable, Iterable
from datetime import date
from pathlib import Path
from typing import Any

import pandas as pd
from extraction_scoring import (
    NATIONAL,
    PUBLIC,
    Baseline,
    Table,
    close,
    day_of,
    one_of,
    regions_of,
    types_of,
)

from convergenze.core.records import Amount, CallMetadata
from convergenze.core.settings import DataSettings
from convergenze.extractors import call_parties
from convergenze.extractors.amounts_it import find_amounts
from convergenze.extractors.call_metadata import CallMetadataExtractor
from convergenze.extractors.dates_it import find_dates
from convergenze.extractors.gazetteer import default_gazetteer

ROOT = Path(__file__).resolve().parents[1]
# incentivi.gov.it's subject types as Convergenze actor types (cooperatives and non-profits share a label).
SUBJECT_TYPES = {
    "Impresa": "company",
    "Impresa - SU/PMI innovativa": "company",
    "Impresa - prevalenza femminile": "company",
    "Impresa - prevalenza giovanile": "company",
    "Professionista": "company",
    "Rete d'impresa": "company",
    "Consorzio": "company",
    "Impresa da costituire - Altro": "company",
    "Impresa da costituire - Femminile": "company",
    "Impresa da costituire - Giovanile": "company",
    "Cooperative/Associazioni Non Profit": "coop_or_non_profit",
    "Università/Ente di Ricerca": "university_research",
    "Ente pubblico": "public_body",
    "Persona fisica": "citizen",
}
EU_PROGRAMMES = {
    "European Defence Fund": "EDF",
    "Connecting Europe Facility": "CEF",
    "ESF+": "FSE+",
    "EMFAF": "FEAMPA",
}
_KEYWORD_MAX = ("massim", "max", "fino a", "up to", "maximum")
_KEYWORD_MIN = ("minim", "almeno", "at least", "minimum")


def _timed(table: Table, extractor: CallMetadataExtractor, text: str, language: str = "it") -> CallMetadata:
    started = time.perf_counter()
    meta = extractor.run(text, language=language)
    table.seconds += time.perf_counter() - started
    table.docs += 1
    return meta


def _amount(value: Any) -> float | None:
    if value is None or (isinstance(value, float) and pd.isna(value)):
        return None
    try:
        number = float(str(value).replace(".", "").replace(",", ".")) if "," in str(value) else float(value)
    except ValueError:
        return None
    return number if number > 0 else None


def _it_date(value: Any) -> str | None:
    if not isinstance(value, str) or not value.strip():
        return None
    found = find_dates(value.strip())
    return found[0].day.isoformat() if found else None


# --- the sets -------------------------------------------------------------------------------------


def pnrr(corpora: Path, extractor: CallMetadataExtractor, base: Baseline) -> Table:
    frame = pd.read_csv(corpora / "italia-domani" / "PNRR_Bandi_e_Avvisi.csv", sep=";", encoding="utf-8-sig")
    table = Table("PNRR calls (title + sub-measure description)")
    for row in frame.to_dict("records"):
        text = f"{row['Titolo Bando o Avviso']}\n{row['Descrizione Submisura']}"
        meta = _timed(table, extractor, text)
        recipients = row["Destinatari del Bando o dell’Avviso"]
        if isinstance(recipients, str):
            gold = {s.value for s in call_parties.actors_in(recipients, 0, len(recipients))}
            table.pair("beneficiary types")[0].sets(types_of(meta), gold)
            table.pair("beneficiary types")[1].sets(base.actors(text), gold)
        table.pair("programmes (PNRR)")[0].sets({p.code for p in meta.programmes} & {"PNRR"}, {"PNRR"})
        table.pair("programmes (PNRR)")[1].sets(base.programmes(text) & {"PNRR"}, {"PNRR"})
        gold_open, gold_close = (
            _it_date(row["Data apertura bando"]),
            _it_date(row["Data chiusura effettiva bando"]),
        )
        _dates(table, meta, base, text, gold_open, gold_close)
        gold_amount = _amount(row["Importo previsto PNRR"]) or _amount(row["Importo complessivo gara"])
        _amount_row(
            table, "total budget", meta.total_budget, base.largest(text, "it"), gold_amount, text, "it"
        )
    table.notes["beneficiary types"] = "truth: the 'Destinatari' column read with the same actor lexicon"
    for name in ("opening", "deadline", "total budget"):
        table.notes[name] = f"not a fair test: true value written in {table.pair(name)[0].in_text} titles"
    table.notes["opening [written]"] = "the dates written are those of the decree the title cites"
    return table


def _dates(
    table: Table, meta: CallMetadata, base: Baseline, text: str, gold_open: str | None, gold_close: str | None
) -> None:
    in_text = {m.day.isoformat() for m in find_dates(text)}
    for name, predicted, gold in (
        ("opening", meta.opening, gold_open),
        ("deadline", meta.deadline, gold_close),
    ):
        _score(
            table,
            name,
            day_of(predicted.value) if predicted else None,
            base.date(text),
            gold,
            str.__eq__,
            gold in in_text,
        )


def _score(
    table: Table,
    name: str,
    ours: Any,
    theirs: Any,
    gold: Any,
    same: Callable[[Any, Any], bool],
    written: bool,
) -> None:
    """Score one field, and again on the subset where the true value is written in the text at all."""
    for row in (name, f"{name} [written]") if written else (name,):
        mine, base = table.pair(row)
        mine.single(ours, gold, same)
        base.single(theirs, gold, same)
    table.pair(name)[0].in_text += written


def _amount_row(
    table: Table,
    name: str,
    predicted: Amount | None,
    baseline: float | None,
    gold: float | None,
    text: str,
    language: str,
) -> None:
    written = gold is not None and any(close(m.value, gold) for m in find_amounts(text, language))
    _score(table, name, predicted.value if predicted else None, baseline, gold, close, written)


def incentivi(corpora: Path, extractor: CallMetadataExtractor, base: Baseline) -> Table:
    docs = json.loads((corpora / "regional-api-captures" / "incentivi_solr_select.json").read_text("utf-8"))[
        "docs"
    ]
    table = Table("incentivi.gov.it (title + zs_body)")
    for doc in docs:
        text = f"{doc['zs_title']}\n{doc['zs_body']}"
        meta = _timed(table, extractor, text)
        _dates(
            table,
            meta,
            base,
            text,
            day_of(doc.get("zs_field_open_date")),
            day_of(doc.get("zs_field_close_date")),
        )
        for name, predicted, baseline, gold in (
            (
                "total budget",
                meta.total_budget,
                base.largest(text, "it"),
                doc.get("zs_field_budget_allocation"),
            ),
            (
                "max per project",
                meta.max_per_project,
                base.after_keyword(text, "it", _KEYWORD_MAX),
                doc.get("zs_field_cost_max"),
            ),
            (
                "min per project",
                meta.min_per_project,
                base.after_keyword(text, "it", _KEYWORD_MIN),
                doc.get("zs_field_cost_min"),
            ),
        ):
            _amount_row(table, name, predicted, baseline, _amount(gold), text, "it")
        regions = {
            e.name
            for e in (base.gazetteer.lookup(r, "region") for r in doc.get("zm_field_regions_value") or [])
            if e
        }
        gold_regions = {NATIONAL} if len(regions) >= 19 else regions
        table.pair("regions")[0].sets(regions_of(meta, base.gazetteer), gold_regions)
        table.pair("regions")[1].sets(base.regions(text), gold_regions)
        gold_types = {SUBJECT_TYPES.get(s, s) for s in doc.get("zm_field_subject_type_value") or []}
        table.pair("subject types")[0].sets(types_of(meta, merge_coop=True), gold_types)
        merged = {
            "coop_or_non_profit" if t in ("cooperative", "third_sector") else t for t in base.actors(text)
        }
        table.pair("subject types")[1].sets(merged, gold_types)
    for name in ("opening", "deadline", "total budget", "max per project", "min per project"):
        table.notes[name] = f"true value written in {table.pair(name)[0].in_text} of {table.docs} texts"
    table.notes["regions"] = "provinces and towns counted as their region; 19+ regions = national"
    return table


def eu_topics(corpora: Path, extractor: CallMetadataExtractor, base: Baseline) -> Table:
    import ftfy

    topics = json.loads((corpora / "eu-funding-tenders" / "topics.json").read_text("utf-8"))
    table = Table("EU Funding & Tenders topics (description + conditions)")
    for topic in topics:
        text = ftfy.fix_text(f"{topic['description']}\n{topic['topicConditions']}")
        meta = _timed(table, extractor, text, "en")
        _dates(table, meta, base, text, None, day_of(topic["deadline"]))
        for name, predicted, baseline, gold in (
            (
                "max per project",
                meta.max_per_project or meta.total_budget,
                base.largest(text, "en"),
                topic["budgetMax"],
            ),
            (
                "min per project",
                meta.min_per_project or meta.max_per_project or meta.total_budget,
                base.after_keyword(text, "en", _KEYWORD_MIN),
                topic["budgetMin"],
            ),
        ):
            _amount_row(table, name, predicted, baseline, _amount(gold), text, "en")
        gold_programme = {EU_PROGRAMMES.get(topic["programme"], topic["programme"])}
        table.pair("programme")[0].sets({p.code for p in meta.programmes}, gold_programme)
        table.pair("programme")[1].sets(base.programmes(text), gold_programme)
    del table.rows["opening"]
    table.notes["deadline"] = f"true date written in {table.pair('deadline')[0].in_text} texts"
    table.notes["max per project"] = "truth: budgetMax; prediction: max per project, else total budget"
    table.notes["min per project"] = (
        "truth: budgetMin; prediction: min, else max, else total (one stated amount)"
    )
    return table


def pdfs(corpora: Path, cache: Path, extractor: CallMetadataExtractor, base: Baseline) -> Table:
    import pdfplumber

    labels = json.loads((ROOT / "tests" / "fixtures" / "pdf_labels.json").read_text("utf-8"))["documents"]
    table = Table("hand-labelled PDFs (pdfplumber text)")
    cache.mkdir(parents=True, exist_ok=True)
    for name, label in sorted(labels.items()):
        cached = cache / f"{name}.txt"
        if not cached.is_file():
            with pdfplumber.open(corpora / "bandi-pdf" / f"{name}.pdf") as pdf:
                cached.write_text("\n".join(p.extract_text() or "" for p in pdf.pages), encoding="utf-8")
        text = cached.read_text(encoding="utf-8")
        meta = _timed(table, extractor, text)
        _dates(table, meta, base, text, day_of(label["opening"]), day_of(label["deadline"]))
        ours, theirs = table.pair("total budget")
        ours.single(meta.total_budget.value if meta.total_budget else None, label["total_budget"], close)
        theirs.single(base.largest(text, "it"), label["total_budget"], close)
        accepted = [label["issuer"], *label["issuer_alternatives"]] if label["issuer"] else []
        ours, theirs = table.pair("issuer")
        ours.single(meta.issuer, label["issuer"], one_of(accepted))
        theirs.single(base.issuer(text), label["issuer"], one_of(accepted))
        table.pair("beneficiary types")[0].sets(types_of(meta), set(label["beneficiary_types"]))
        table.pair("beneficiary types")[1].sets(base.actors(text), set(label["beneficiary_types"]))
        table.pair("programmes")[0].sets({p.code for p in meta.programmes}, set(label["programmes"]))
        table.pair("programmes")[1].sets(base.programmes(text), set(label["programmes"]))
        for name_, predicted, baseline, gold in (
            ("not a call", not meta.is_funding_call, False, not label["is_funding_call"]),
            ("rolling", meta.rolling, _rolling_words(text), label["rolling"]),
        ):
            ours, theirs = table.pair(name_)
            ours.single(True if predicted else None, True if gold else None, bool.__eq__)
            theirs.single(True if baseline else None, True if gold else None, bool.__eq__)
    return table


def _rolling_words(text: str) -> bool:
    lowered = text.lower()
    return "sportello" in lowered or "esaurimento" in lowered


# Held-out sites' own audience tags, as Convergenze actor types ("public" joins the two public types).
LAZIO_INNOVA_TAGS = {
    **dict.fromkeys(
        (
            "imprese",
            "micro-imprese",
            "piccole-imprese",
            "medie-imprese",
            "grandi-imprese",
            "startup-e-spinoff",
            "liberi-professionisti",
            "imprese-costituende",
        ),
        "company",
    ),
    **dict.fromkeys(("donne", "giovani", "persone-fisiche"), "citizen"),
    "pubblica-amministrazione": "public",
    "no-profit": "third_sector",
}
EMILIA_ROMAGNA_TYPES = {
    "Enti del Terzo settore": "third_sector",
    "Enti pubblici": "public",
    "Scuole": "public",
    "Cooperative": "cooperative",
    "Università": "university_research",
    "Cittadini": "citizen",
}
EU_FUNDED = {
    "PNRR",
    "FESR",
    "FSE+",
    "FSE",
    "FEASR",
    "FEAMPA",
    "JTF",
    "Cohesion Fund",
    "Interreg",
    "Horizon Europe",
}


def _public(types: set[str]) -> set[str]:
    return {PUBLIC.get(t, t) for t in types}


def regional_sites(corpora: Path, extractor: CallMetadataExtractor, base: Baseline) -> list[Table]:
    """Two sets not looked at while writing the extractor: their audience and EU-fund tags are the truth."""
    from bs4 import BeautifulSoup

    captures = corpora / "regional-api-captures"
    lazio = Table("Lazio Innova notices (title + HTML content; held out)")
    for post in json.loads((captures / "lazioinnova_wp_bandi.json").read_text("utf-8"))["posts"]:
        html = f"<h1>{post['title']['rendered']}</h1>{post['content']['rendered']}"
        text = BeautifulSoup(html, "html.parser").get_text("\n")
        meta = _timed(lazio, extractor, text)
        tags = {t.removeprefix("destinatari-") for t in post["class_list"]}
        gold = {LAZIO_INNOVA_TAGS[t] for t in tags if t in LAZIO_INNOVA_TAGS}
        lazio.pair("beneficiary types")[0].sets(_public(types_of(meta)), gold)
        lazio.pair("beneficiary types")[1].sets(_public(base.actors(text)), gold)
        eu = {"EU funds"} if "tipologie-fondi-europei" in post["class_list"] else set()
        found = {p.code for p in meta.programmes}
        lazio.pair("EU-funded")[0].sets({"EU funds"} if found & EU_FUNDED else set(), eu)
        lazio.pair("EU-funded")[1].sets({"EU funds"} if base.programmes(text) & EU_FUNDED else set(), eu)
    lazio.notes["EU-funded"] = "truth: the site's 'fondi europei' tag; predicted: any EU programme code"
    emilia = Table("Emilia-Romagna notices (title + description; held out)")
    for item in json.loads((captures / "emilia-romagna_plone_search_bando.json").read_text("utf-8"))["items"]:
        text = f"{item['title']}\n{item['description'] or ''}"
        meta = _timed(emilia, extractor, text)
        gold = {EMILIA_ROMAGNA_TYPES[d] for d in item["destinatari"] or [] if d in EMILIA_ROMAGNA_TYPES}
        emilia.pair("beneficiary types")[0].sets(_public(types_of(meta)), gold)
        emilia.pair("beneficiary types")[1].sets(_public(base.actors(text)), gold)
        _dates(emilia, meta, base, text, day_of(item["apertura_bando"]), day_of(item["scadenza_bando"]))
    emilia.notes["beneficiary types"] = "'Enti di formazione' has no actor type and is left out of the truth"
    for name in ("opening", "deadline"):
        emilia.notes[name] = f"true date written in {emilia.pair(name)[0].in_text} of {emilia.docs} texts"
    return [lazio, emilia]


def main(argv: Iterable[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--skip-pdfs", action="store_true", help="leave out the twelve PDFs (pdfplumber is slow)"
    )
    args = parser.parse_args(list(argv) if argv is not None else None)
    data = DataSettings()
    gazetteer = default_gazetteer()
    extractor = CallMetadataExtractor(today=date(2026, 6, 1), gazetteer=gazetteer)
    extractor.run("warm-up: build the pipeline and the gazetteer")
    base = Baseline(gazetteer)
    print(f"gazetteer: {gazetteer.sizes}")
    tables = [pnrr(data.corpora_dir, extractor, base), incentivi(data.corpora_dir, extractor, base)]
    tables.append(eu_topics(data.corpora_dir, extractor, base))
    tables += regional_sites(data.corpora_dir, extractor, base)
    if not args.skip_pdfs:
        tables.append(pdfs(data.corpora_dir, data.data_dir / "cache" / "pdf-text", extractor, base))
    for table in tables:
        table.print()


if __name__ == "__main__":
    main()
