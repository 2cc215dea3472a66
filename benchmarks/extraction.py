"""Call metadata extraction against official truth: today's extractor, the extractor at the commit given by
``--before`` (default: the branch point 17b124a, run in the same process) and a keyword/regex-only baseline.

Seven labelled sets, each text built only from free-text fields, never from the fields being predicted:

- PNRR calls (Italia Domani ``PNRR_Bandi_e_Avvisi.csv``, 245): text = call title + sub-measure description.
  Truth: recipients (mapped onto actor types with the same lexicon), programme (every row is a PNRR call), and
  open/close dates, PNRR amount and issuer. Titles almost never state dates, amounts or issuer: those rows are
  printed with how often the true value is written in the text at all, and are not a fair test.
- incentivi.gov.it (13, Solr capture): text = title + ``zs_body``. Truth: open/close dates, budget, cost
  min/max, regions, subject types.
- incentivi.gov.it open-data export (200; benchmarks/extraction_incentivi.py): text = the document the connector
  builds. Per field, recall where the value is written in the text and the rate of values returned where the
  text states none; F1 for regions, beneficiary types, support forms, firm sizes and objectives -> missions.
  Developed on a hash-selected 140, reported on the held-out 60 and on all 200.
- EU Funding & Tenders topics (629): text = description + conditions (``ftfy``-repaired). Truth: deadline,
  budgetMin/budgetMax (the per-project contribution range), programme.
- The twelve hand-labelled PDFs (tests/fixtures/pdf_labels.json): text from pdfplumber. The extractor's cues
  were tuned while reading these twelve: they are a development set, not a held-out one.
- Held out (not looked at while writing the extractor): Lazio Innova notices (15; title + HTML content;
  truth: the site's audience tags and its "fondi europei" tag) and Emilia-Romagna notices (18; title +
  description; truth: the 'destinatari' field and the open/close dates).

Dates are compared by day (the official sets carry no time), amounts within 1%. Single-valued fields count a
wrong value as both a false positive and a false negative; set fields are micro-averaged over items.

    python benchmarks/extraction.py [--skip-pdfs] [--skip-missions] [--before REF]
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
from extraction_incentivi import incentives_export
from extraction_scoring import (
    NATIONAL,
    PUBLIC,
    Baseline,
    Table,
    close,
    day_of,
    load_before,
    merged_types,
    one_of,
    regions_of,
    types_of,
)

from convergenze.core.records import Amount, CallMetadata
from convergenze.core.settings import DataSettings
from convergenze.corpora.connectors.incentivi import SUBJECT_TYPES
from convergenze.extractors import call_parties
from convergenze.extractors.amounts_it import find_amounts
from convergenze.extractors.call_metadata import CallMetadataExtractor
from convergenze.extractors.dates_it import find_dates
from convergenze.extractors.gazetteer import default_gazetteer

ROOT = Path(__file__).resolve().parents[1]
BEFORE = "17b124a"  # the commit the incentives work started from
EU_PROGRAMMES = {
    "European Defence Fund": "EDF",
    "Connecting Europe Facility": "CEF",
    "ESF+": "FSE+",
    "EMFAF": "FEAMPA",
}
_KEYWORD_MAX = ("massim", "max", "fino a", "up to", "maximum")
_KEYWORD_MIN = ("minim", "almeno", "at least", "minimum")


class Extractors:
    """Today's extractor and the one at ``--before``, run on the same texts."""

    def __init__(self, new: CallMetadataExtractor, before: Any) -> None:
        self.variants = {"new": new, "before": before}

    def run(self, table: Table, text: str, language: str = "it") -> dict[str, CallMetadata]:
        out = {}
        for name, extractor in self.variants.items():
            started = time.perf_counter()
            out[name] = extractor.run(text, language=language)
            table.seconds[name] = table.seconds.get(name, 0.0) + time.perf_counter() - started
        table.docs += 1
        return out


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


def _types(metas: dict[str, CallMetadata], keyword: set[str]) -> dict[str, set[str]]:
    return {**{v: types_of(m) for v, m in metas.items()}, "keyword": keyword}


def _programmes(metas: dict[str, CallMetadata], keyword: set[str]) -> dict[str, set[str]]:
    return {**{v: {p.code for p in m.programmes} for v, m in metas.items()}, "keyword": keyword}


def pnrr(corpora: Path, extractors: Extractors, base: Baseline) -> Table:
    frame = pd.read_csv(corpora / "italia-domani" / "PNRR_Bandi_e_Avvisi.csv", sep=";", encoding="utf-8-sig")
    table = Table("PNRR calls (title + sub-measure description)")
    for row in frame.to_dict("records"):
        text = f"{row['Titolo Bando o Avviso']}\n{row['Descrizione Submisura']}"
        metas = extractors.run(table, text)
        recipients = row["Destinatari del Bando o dell’Avviso"]
        if isinstance(recipients, str):
            gold = {s.value for s in call_parties.actors_in(recipients, 0, len(recipients))}
            table.sets("beneficiary types", _types(metas, base.actors(text)), gold)
        found = _programmes(metas, base.programmes(text))
        table.sets("programmes (PNRR)", {v: p & {"PNRR"} for v, p in found.items()}, {"PNRR"})
        gold_open, gold_close = (
            _it_date(row["Data apertura bando"]),
            _it_date(row["Data chiusura effettiva bando"]),
        )
        _dates(table, metas, base, text, gold_open, gold_close)
        gold_amount = _amount(row["Importo previsto PNRR"]) or _amount(row["Importo complessivo gara"])
        _amount_row(table, "total budget", {v: m.total_budget for v, m in metas.items()},
                    base.largest(text, "it"), gold_amount, text, "it")
    table.notes["beneficiary types"] = "truth: the 'Destinatari' column read with the same actor lexicon"
    for name in ("opening", "deadline", "total budget"):
        table.notes[name] = f"not a fair test: true value written in {table.row(name)['new'].in_text} titles"
    table.notes["opening [written]"] = "the dates written are those of the decree the title cites"
    return table


def _dates(table: Table, metas: dict[str, CallMetadata], base: Baseline, text: str, gold_open: str | None,
           gold_close: str | None) -> None:
    in_text = {m.day.isoformat() for m in find_dates(text)}
    for name, gold in (("opening", gold_open), ("deadline", gold_close)):
        found = {v: getattr(m, name) for v, m in metas.items()}
        predicted = {v: day_of(d.value) if d else None for v, d in found.items()}
        _score(table, name, {**predicted, "keyword": base.date(text)}, gold, str.__eq__, gold in in_text)


def _score(table: Table, name: str, predicted: dict[str, Any], gold: Any, same: Callable[[Any, Any], bool],
           written: bool) -> None:
    """Score one field, and again on the subset where the true value is written in the text at all."""
    for row in (name, f"{name} [written]") if written else (name,):
        table.single(row, predicted, gold, same)
    table.row(name)["new"].in_text += written


def _amount_row(table: Table, name: str, predicted: dict[str, Amount | None], keyword: float | None,
                gold: float | None, text: str, language: str) -> None:
    written = gold is not None and any(close(m.value, gold) for m in find_amounts(text, language))
    values = {v: a.value if a else None for v, a in predicted.items()}
    _score(table, name, {**values, "keyword": keyword}, gold, close, written)


def incentivi(corpora: Path, extractors: Extractors, base: Baseline) -> Table:
    docs = json.loads((corpora / "regional-api-captures" / "incentivi_solr_select.json").read_text("utf-8"))[
        "docs"
    ]
    table = Table("incentivi.gov.it Solr capture (title + zs_body)")
    for doc in docs:
        text = f"{doc['zs_title']}\n{doc['zs_body']}"
        metas = extractors.run(table, text)
        _dates(table, metas, base, text, day_of(doc.get("zs_field_open_date")), day_of(doc.get("zs_field_close_date")))
        for name, attribute, keyword, gold in (
            ("total budget", "total_budget", base.largest(text, "it"), doc.get("zs_field_budget_allocation")),
            ("max per project", "max_per_project", base.after_keyword(text, "it", _KEYWORD_MAX),
             doc.get("zs_field_cost_max")),
            ("min per project", "min_per_project", base.after_keyword(text, "it", _KEYWORD_MIN),
             doc.get("zs_field_cost_min")),
        ):
            predicted = {v: getattr(m, attribute) for v, m in metas.items()}
            _amount_row(table, name, predicted, keyword, _amount(gold), text, "it")
        regions = {
            e.name
            for e in (base.gazetteer.lookup(r, "region") for r in doc.get("zm_field_regions_value") or [])
            if e
        }
        gold_regions = {NATIONAL} if len(regions) >= 19 else regions
        found = {v: regions_of(m, base.gazetteer) for v, m in metas.items()}
        table.sets("regions", {**found, "keyword": base.regions(text)}, gold_regions)
        gold_types = merged_types({t for s in doc.get("zm_field_subject_type_value") or [] for t in SUBJECT_TYPES[s]})
        found = {v: merged_types(types_of(m)) for v, m in metas.items()}
        table.sets("subject types", {**found, "keyword": merged_types(base.actors(text))}, gold_types)
    for name in ("opening", "deadline", "total budget", "max per project", "min per project"):
        table.notes[name] = f"true value written in {table.row(name)['new'].in_text} of {table.docs} texts"
    table.notes["regions"] = "provinces and towns counted as their region; 19+ regions = national"
    table.notes["subject types"] = "public bodies and administrations as one class, cooperatives with the third sector"
    return table


def eu_topics(corpora: Path, extractors: Extractors, base: Baseline) -> Table:
    import ftfy

    topics = json.loads((corpora / "eu-funding-tenders" / "topics.json").read_text("utf-8"))
    table = Table("EU Funding & Tenders topics (description + conditions)")
    for topic in topics:
        text = ftfy.fix_text(f"{topic['description']}\n{topic['topicConditions']}")
        metas = extractors.run(table, text, "en")
        _dates(table, metas, base, text, None, day_of(topic["deadline"]))
        _amount_row(table, "max per project",
                    {v: m.max_per_project or m.total_budget for v, m in metas.items()},
                    base.largest(text, "en"), _amount(topic["budgetMax"]), text, "en")
        _amount_row(table, "min per project",
                    {v: m.min_per_project or m.max_per_project or m.total_budget for v, m in metas.items()},
                    base.after_keyword(text, "en", _KEYWORD_MIN), _amount(topic["budgetMin"]), text, "en")
        gold_programme = {EU_PROGRAMMES.get(topic["programme"], topic["programme"])}
        table.sets("programme", _programmes(metas, base.programmes(text)), gold_programme)
    del table.rows["opening"]
    table.notes["deadline"] = f"true date written in {table.row('deadline')['new'].in_text} texts"
    table.notes["max per project"] = "truth: budgetMax; prediction: max per project, else total budget"
    table.notes["min per project"] = (
        "truth: budgetMin; prediction: min, else max, else total (one stated amount)"
    )
    return table


def pdfs(corpora: Path, cache: Path, extractors: Extractors, base: Baseline) -> Table:
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
        metas = extractors.run(table, text)
        _dates(table, metas, base, text, day_of(label["opening"]), day_of(label["deadline"]))
        totals = {v: m.total_budget.value if m.total_budget else None for v, m in metas.items()}
        table.single("total budget", {**totals, "keyword": base.largest(text, "it")}, label["total_budget"], close)
        accepted = [label["issuer"], *label["issuer_alternatives"]] if label["issuer"] else []
        issuers = {v: m.issuer for v, m in metas.items()}
        table.single("issuer", {**issuers, "keyword": base.issuer(text)}, label["issuer"], one_of(accepted))
        table.sets("beneficiary types", _types(metas, base.actors(text)), set(label["beneficiary_types"]))
        table.sets("programmes", _programmes(metas, base.programmes(text)), set(label["programmes"]))
        for row, predicted, keyword, gold in (
            ("not a call", {v: not m.is_funding_call for v, m in metas.items()}, False, not label["is_funding_call"]),
            ("rolling", {v: m.rolling for v, m in metas.items()}, _rolling_words(text), label["rolling"]),
        ):
            found = {v: True if p else None for v, p in {**predicted, "keyword": keyword}.items()}
            table.single(row, found, True if gold else None, bool.__eq__)
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


def regional_sites(corpora: Path, extractors: Extractors, base: Baseline) -> list[Table]:
    """Two sets not looked at while writing the extractor: their audience and EU-fund tags are the truth."""
    from bs4 import BeautifulSoup

    captures = corpora / "regional-api-captures"
    lazio = Table("Lazio Innova notices (title + HTML content; held out)")
    for post in json.loads((captures / "lazioinnova_wp_bandi.json").read_text("utf-8"))["posts"]:
        html = f"<h1>{post['title']['rendered']}</h1>{post['content']['rendered']}"
        text = BeautifulSoup(html, "html.parser").get_text("\n")
        metas = extractors.run(lazio, text)
        tags = {t.removeprefix("destinatari-") for t in post["class_list"]}
        gold = {LAZIO_INNOVA_TAGS[t] for t in tags if t in LAZIO_INNOVA_TAGS}
        lazio.sets("beneficiary types", {v: _public(t) for v, t in _types(metas, base.actors(text)).items()}, gold)
        eu = {"EU funds"} if "tipologie-fondi-europei" in post["class_list"] else set()
        found = _programmes(metas, base.programmes(text))
        lazio.sets("EU-funded", {v: {"EU funds"} if p & EU_FUNDED else set() for v, p in found.items()}, eu)
    lazio.notes["EU-funded"] = "truth: the site's 'fondi europei' tag; predicted: any EU programme code"
    emilia = Table("Emilia-Romagna notices (title + description; held out)")
    for item in json.loads((captures / "emilia-romagna_plone_search_bando.json").read_text("utf-8"))["items"]:
        text = f"{item['title']}\n{item['description'] or ''}"
        metas = extractors.run(emilia, text)
        gold = {EMILIA_ROMAGNA_TYPES[d] for d in item["destinatari"] or [] if d in EMILIA_ROMAGNA_TYPES}
        emilia.sets("beneficiary types", {v: _public(t) for v, t in _types(metas, base.actors(text)).items()}, gold)
        _dates(emilia, metas, base, text, day_of(item["apertura_bando"]), day_of(item["scadenza_bando"]))
    emilia.notes["beneficiary types"] = "'Enti di formazione' has no actor type and is left out of the truth"
    for name in ("opening", "deadline"):
        emilia.notes[name] = f"true date written in {emilia.row(name)['new'].in_text} of {emilia.docs} texts"
    return [lazio, emilia]


def main(argv: Iterable[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--skip-pdfs", action="store_true", help="leave out the twelve PDFs (pdfplumber is slow)"
    )
    parser.add_argument("--skip-missions", action="store_true",
                        help="leave out objectives -> missions on the export (it loads the embedding model)")
    parser.add_argument("--before", default=BEFORE, help=f"the git commit to compare with (default {BEFORE})")
    args = parser.parse_args(list(argv) if argv is not None else None)
    data = DataSettings()
    gazetteer = default_gazetteer()
    old_calls, old_missions, commit = load_before(args.before, ROOT)
    extractors = Extractors(CallMetadataExtractor(today=date(2026, 6, 1), gazetteer=gazetteer),
                            old_calls.CallMetadataExtractor(today=date(2026, 6, 1)))
    for extractor in extractors.variants.values():
        extractor.run("warm-up: build the pipeline and the gazetteer")
    base = Baseline(gazetteer)
    print(f"gazetteer: {gazetteer.sizes}; 'before' is the extractor at {commit}")
    tables = [pnrr(data.corpora_dir, extractors, base), incentivi(data.corpora_dir, extractors, base)]
    tables.append(eu_topics(data.corpora_dir, extractors, base))
    tables += regional_sites(data.corpora_dir, extractors, base)
    if not args.skip_pdfs:
        tables.append(pdfs(data.corpora_dir, data.data_dir / "cache" / "pdf-text", extractors, base))
    for table in tables:
        table.print()
    incentives_export(data, extractors.variants, base, None if args.skip_missions else old_missions)


if __name__ == "__main__":
    main()
