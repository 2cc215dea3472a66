"""The incentivi.gov.it open-data export (200 incentives) as a labelled set for benchmarks/extraction.py.

Texts are the documents the connector builds (title, "Cos'è", "A chi si rivolge", "Cosa prevede", the opening and
closing notes), as the ingestion's enricher reads them. Truth is the portal's official fields, read from the
export itself: Data_apertura/Data_chiusura (UTC, as Rome days), Stanziamento_incentivo (placeholders 99999999999
and 0.01 left out), per-project max/min = Agevolazione_Concedibile or Spesa_Ammessa (either counts), the issuer
(Soggetto_Concedente), Regioni (19+ = national), Tipologia_Soggetto, Forma_agevolazione (the "all six forms"
placeholder left out), Dimensioni, and Obiettivo_Finalita through the taxonomy's crosswalk (the missions).

The official values are mostly not written in the summaries (an opening in 30 of 197, a closing in 7 of 144):
single-valued fields are scored where the text writes the value (recall) and where it writes none (the share of
records the extractor still returns a value for: hallucination). "Written": a date in any Italian form, an amount
in Italian notation within 0.1% or as the extractor's own reader finds it within 1%, an issuer by its first name
part or acronym. A value the extractor returns correctly counts as written.

Split: the incentives sorted by sha256 of their id; the first 140 are the development set the extractor was
tuned on, the other 60 are held out. Figures for the held-out 60 and for all 200.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

from extraction_scoring import NATIONAL, Baseline, Score, close, merged_types, regions_of, types_of

from convergenze.core.records import CallMetadata, Document
from convergenze.core.settings import DataSettings, EmbeddingSettings
from convergenze.core.vocabulary import SupportForm
from convergenze.corpora.connectors.base import SourceSpec
from convergenze.corpora.connectors.incentivi import (
    FIRM_SIZES,
    SUBJECT_TYPES,
    SUPPORT_FORMS,
    VOCABULARY,
    IncentiviConnector,
    amount,
    rome_day,
    values,
)
from convergenze.extractors.amounts_it import find_amounts
from convergenze.extractors.dates_it import find_dates
from convergenze.extractors.taxonomy import Taxonomy
from convergenze.matching.actors import normalize_name

EXPORT = Path("incentivi-opendata") / "opendata-export-sample.json"
DEVELOPMENT = 140
_PLACEHOLDERS = (99_999_999_999.0, 0.01)
_MONTHS = ("gennaio", "febbraio", "marzo", "aprile", "maggio", "giugno", "luglio", "agosto", "settembre", "ottobre",
           "novembre", "dicembre")
_NUMBER = re.compile(
    r"(?<![\d.,])(?P<int>\d{1,3}(?:[.\u00a0\u202f ]\d{3})+|\d+)(?:,(?P<dec>\d+))?"
    r"(?:\s*(?P<mult>miliardi|miliardo|mld|milioni|milione|mln|mila)\b)?",
    re.IGNORECASE,
)
_MULT = {"miliardi": 1e9, "miliardo": 1e9, "mld": 1e9, "milioni": 1e6, "milione": 1e6, "mln": 1e6, "mila": 1e3}
_MISE_MIMIT = ("ministero dello sviluppo economico", "ministero delle imprese e del made in italy")
_ISSUER_STOP = {"di", "del", "della", "dell", "dei", "delle", "e", "per", "la", "il", "le", "lo", "gli", "l", "d",
                "spa", "s", "p", "a", "giunta", "regionale"}


# --- truth ---------------------------------------------------------------------------------------------------------


@dataclass
class Truth:
    opening: str | None
    deadline: str | None
    total: float | None
    maxima: list[float]
    minima: list[float]
    issuer: str
    regions: set[str]
    types: set[str]
    forms: set[str] | None  # None: the official field is a placeholder
    sizes: set[str]
    missions: set[str]


def _money(value: Any) -> float | None:
    number = amount(value)
    return None if number in _PLACEHOLDERS else number


def truth_of(record: dict[str, Any], connector: IncentiviConnector, taxonomy: Taxonomy) -> Truth:
    names = {e.name for e in (connector.gazetteer.lookup(n, "region") for n in values(record["Regioni"])) if e}
    forms = {SUPPORT_FORMS[f].value for f in values(record["Forma_agevolazione"])}
    rules = [taxonomy.objective(VOCABULARY, v) for v in values(record["Obiettivo_Finalita"])]
    return Truth(
        opening=rome_day(record["Data_apertura"]),
        deadline=rome_day(record["Data_chiusura"]),
        total=_money(record["Stanziamento_incentivo"]),
        maxima=[v for v in (_money(record[k]) for k in ("Agevolazione_Concedibile_max", "Spesa_Ammessa_max")) if v],
        minima=[v for v in (_money(record[k]) for k in ("Agevolazione_Concedibile_min", "Spesa_Ammessa_min")) if v],
        issuer=record["Soggetto_Concedente"].strip(),
        regions={NATIONAL} if len(names) >= 19 else names,
        types=merged_types({t for s in values(record["Tipologia_Soggetto"]) for t in SUBJECT_TYPES[s]}),
        forms=None if len(forms) == len(SupportForm) else forms,
        sizes={s.value for v in values(record["Dimensioni"]) if (s := FIRM_SIZES[v])},
        missions={code for r in rules if r and r.weight > 0 for fw, code in r.targets if fw == "convergenze"},
    )


# --- written in the text? ------------------------------------------------------------------------------------------


def date_written(text: str, iso: str | None) -> bool:
    if iso is None:
        return False
    day = date.fromisoformat(iso)
    d, m, y = day.day, day.month, day.year
    patterns = (
        rf"(?<!\d)0?{d}\s*[/.\-]\s*0?{m}\s*[/.\-]\s*(?:{y}|{y % 100:02d})(?!\d)",
        rf"(?<!\d)0?{d}\s*(?:°|º|o)?\s+{_MONTHS[m - 1]}\s*,?\s+(?:del(?:l['’])?\s+)?{y}(?!\d)",
        rf"(?<!\d){y}-{m:02d}-{d:02d}(?!\d)",
    )
    return any(re.search(p, text, re.IGNORECASE) for p in patterns) or any(x.day == day for x in find_dates(text))


def numbers_in(text: str) -> list[float]:
    """Every number in Italian notation; a bare year-like figure counts only beside a currency sign or word."""
    out = []
    for match in _NUMBER.finditer(text):
        whole = re.sub(r"[.\u00a0\u202f ]", "", match.group("int"))
        value = float(f"{whole}.{match.group('dec')}") if match.group("dec") else float(whole)
        value *= _MULT.get((match.group("mult") or "").lower(), 1.0)
        if re.fullmatch(r"(?:19|20)\d\d", match.group(0)) and not re.search(
                r"€|\beur", text[max(0, match.start() - 15): match.end() + 15], re.IGNORECASE):
            continue
        out.append(value)
    return out


def amount_written(text: str, gold: float, numbers: list[float]) -> bool:
    return any(abs(v - gold) <= 0.001 * gold for v in numbers) or any(
        close(m.value, gold) for m in find_amounts(text, "it"))


def _key(text: str) -> str:
    return re.sub(r"\s+", " ", re.sub(r"\b(?:autonoma|autonomo)\b", " ", normalize_name(text))).strip()


def issuer_written(text: str, official: str) -> bool:
    parts = [p.strip() for p in re.split(r"\s+[-–]\s+|/|,\s*(?=Minister)", official) if p.strip()] or [official]
    candidates = [parts[0]] + [p for p in parts[1:] if re.fullmatch(r"[A-Z.]{3,10}", p)]
    key = f" {_key(text)} "
    return any(f" {_key(p)} " in key for p in candidates if _key(p))


def issuer_match(predicted: str, official: str) -> bool:
    pred, off = _key(predicted), _key(official)
    if pred in _MISE_MIMIT and any(m in off for m in _MISE_MIMIT):
        return True  # the ministry was renamed in 2022: the same body
    tokens = {t for t in pred.split() if t not in _ISSUER_STOP}
    return bool(tokens) and (tokens <= {t for t in off.split() if t not in _ISSUER_STOP} or f" {pred} " in f" {off} ")


# --- scores --------------------------------------------------------------------------------------------------------


@dataclass
class Stated:
    """A single-valued field: right where the text writes the value, returned where it writes none."""

    written: int = 0
    right: int = 0
    wrong: int = 0
    unstated: int = 0
    returned: int = 0

    def add(self, predicted: Any, gold: list[Any], written: bool, same: Callable[[Any, Any], bool]) -> None:
        ok = predicted is not None and any(same(predicted, g) for g in gold)
        if written or ok:
            self.written += 1
            self.right += ok
            self.wrong += predicted is not None and not ok
        else:
            self.unstated += 1
            self.returned += predicted is not None


@dataclass
class Report:
    name: str
    docs: int = 0
    stated: dict[str, dict[str, Stated]] = field(default_factory=dict)
    sets: dict[str, dict[str, Score]] = field(default_factory=dict)
    notes: dict[str, str] = field(default_factory=dict)

    def single(self, name: str, variant: str) -> Stated:
        return self.stated.setdefault(name, {}).setdefault(variant, Stated())

    def set_score(self, name: str, variant: str) -> Score:
        return self.sets.setdefault(name, {}).setdefault(variant, Score())

    def print(self) -> None:
        print(f"\n## {self.name} — {self.docs} incentives")
        print(f"{'field':<18}{'written':>8} | {'recall new':>10} {'before':>6} | {'not stated':>10} |"
              f" {'returned new':>12} {'before':>6}")
        for name, by in self.stated.items():
            new, old = by["new"], by["before"]
            print(f"{name:<18}{new.written:>8} | {_share(new.right, new.written):>10} "
                  f"{_share(old.right, old.written):>6} | {new.unstated:>10} | "
                  f"{_share(new.returned, new.unstated):>12} {_share(old.returned, old.unstated):>6}")
        print(f"\n{'set field':<24}{'gold':>5} | {'P':>5} {'R':>5} {'F1':>5} | {'before':>6} {'keyword':>7}")
        for name, by in self.sets.items():
            p, r, f = by["new"].prf
            keyword = f"{by['keyword'].prf[2]:7.2f}" if "keyword" in by else "      -"
            note = f"  ({self.notes[name]})" if name in self.notes else ""
            print(f"{name:<24}{by['new'].gold:>5} | {p:5.2f} {r:5.2f} {f:5.2f} | {by['before'].prf[2]:6.2f} "
                  f"{keyword}{note}")


def _share(part: int, whole: int) -> str:
    return f"{part / whole:.2f}" if whole else "-"


# --- the run -------------------------------------------------------------------------------------------------------


def split(ids: list[int]) -> tuple[set[int], set[int]]:
    ordered = sorted(ids, key=lambda i: hashlib.sha256(str(i).encode()).hexdigest())
    return set(ordered[:DEVELOPMENT]), set(ordered[DEVELOPMENT:])


def _record_scores(report: Report, variant: str, meta: CallMetadata, truth: Truth, text: str,
                   numbers: list[float], base: Baseline) -> None:
    day = lambda v: v.value[:10] if v else None  # noqa: E731
    value = lambda a: a.value if a else None  # noqa: E731
    for name, predicted, gold, written in (
        ("opening", day(meta.opening), [truth.opening], date_written(text, truth.opening)),
        ("deadline", day(meta.deadline), [truth.deadline], date_written(text, truth.deadline)),
    ):
        report.single(name, variant).add(predicted, [g for g in gold if g], written, str.__eq__)
    for name, predicted, gold in (
        ("total budget", value(meta.total_budget), [truth.total] if truth.total else []),
        ("max per project", value(meta.max_per_project), truth.maxima),
        ("min per project", value(meta.min_per_project), truth.minima),
    ):
        written = any(amount_written(text, g, numbers) for g in gold)
        report.single(name, variant).add(predicted, gold, written, close)
    report.single("issuer", variant).add(meta.issuer, [truth.issuer], issuer_written(text, truth.issuer),
                                         issuer_match)
    report.set_score("regions", variant).sets(regions_of(meta, base.gazetteer), truth.regions)
    report.set_score("beneficiary types", variant).sets(merged_types(types_of(meta)), truth.types)
    if truth.forms is not None:
        report.set_score("support forms", variant).sets({f.form.value for f in meta.support_forms}, truth.forms)
    report.set_score("firm sizes", variant).sets({s.size.value for s in meta.firm_sizes}, truth.sizes)


def incentives_export(data: DataSettings, extractors: dict[str, Any], base: Baseline, old_missions: Any) -> None:
    """Prints the held-out and the whole-set reports; ``old_missions``: the missions module at ``--before``
    (None leaves objectives -> missions out)."""
    path = data.corpora_dir / EXPORT
    records = json.loads(path.read_text(encoding="utf-8"))
    spec = SourceSpec("incentivi-gov", "incentivi-opendata", {"export": str(EXPORT)})
    connector = IncentiviConnector(spec, {"export": path})
    documents = {d.id: d for d in connector.run().documents}
    taxonomy = Taxonomy.load()
    classifiers = _classifiers(data, old_missions) if old_missions is not None else {}
    _, held_out = split([r["ID_Incentivo"] for r in records])
    reports = {"held-out": Report("incentivi.gov.it export, held-out 60"),
               "all": Report("incentivi.gov.it export, all 200")}
    for record in records:
        truth = truth_of(record, connector, taxonomy)
        document = documents[f"incentivi:{record['ID_Incentivo']}"]
        text = f"{document.title}\n\n{document.text}"
        numbers = numbers_in(text)
        metas = {name: extractor.run(text) for name, extractor in extractors.items()}
        labels = {name: _missions(classifier, document) for name, classifier in classifiers.items()}
        for key, report in reports.items():
            if key == "held-out" and record["ID_Incentivo"] not in held_out:
                continue
            report.docs += 1
            for variant, meta in metas.items():
                _record_scores(report, variant, meta, truth, text, numbers, base)
            report.set_score("regions", "keyword").sets(base.regions(text), truth.regions)
            report.set_score("beneficiary types", "keyword").sets(merged_types(base.actors(text)), truth.types)
            if truth.missions:
                for variant, found in labels.items():
                    report.set_score("objectives -> missions", variant).sets(found, truth.missions)
    for report in reports.values():
        report.notes["regions"] = "19+ official regions = national; provinces and towns counted as their region"
        report.notes["support forms"] = "records with the 'all six forms' placeholder left out; 13 INAIL ISI grants " \
                                        "are filed as equity"
        report.notes["objectives -> missions"] = "text-only Convergenze missions vs the portal's objectives " \
                                                 "through the taxonomy; records with a mapped objective"
        report.print()


def _classifiers(data: DataSettings, old_missions: Any) -> dict[str, Any]:
    from convergenze.extractors.missions import MissionClassifier
    from convergenze.index.embeddings import create_embedder

    embedder = create_embedder(EmbeddingSettings(), data)
    return {"new": MissionClassifier.from_settings(embedder, data),
            "before": old_missions.MissionClassifier.from_settings(embedder, data)}


def _missions(classifier: Any, document: Document) -> set[str]:
    """The Convergenze missions the text alone gives (the portal's objectives are the truth: kept out)."""
    text_only = Document(document.id, document.source, document.type, document.title, document.sections,
                         document.url, document.language, {})
    return {label.code for label in classifier.run(text_only) if label.framework == "convergenze"}
