"""Scoring for benchmarks/extraction.py: precision/recall counters, the printed table, and the
keyword/regex-only baseline the extractor is compared with."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from convergenze.core.records import CallMetadata
from convergenze.extractors import call_cues, call_parties
from convergenze.extractors.amounts_it import find_amounts
from convergenze.extractors.dates_it import find_dates
from convergenze.extractors.gazetteer import Gazetteer, normalize

NATIONAL = "national"
# Granularity differs between taxonomies: regional sites say "Enti pubblici" for both kinds of public actor.
PUBLIC = {"public_body": "public", "public_administration": "public"}


@dataclass
class Score:
    tp: int = 0
    fp: int = 0
    fn: int = 0
    gold: int = 0
    in_text: int = 0

    def single(self, predicted: Any, gold: Any, same: Callable[[Any, Any], bool]) -> None:
        self.gold += gold is not None
        if predicted is not None and gold is not None and same(predicted, gold):
            self.tp += 1
            return
        self.fp += predicted is not None
        self.fn += gold is not None

    def sets(self, predicted: set[str], gold: set[str]) -> None:
        self.gold += len(gold)
        self.tp += len(predicted & gold)
        self.fp += len(predicted - gold)
        self.fn += len(gold - predicted)

    @property
    def prf(self) -> tuple[float, float, float]:
        p = self.tp / (self.tp + self.fp) if self.tp + self.fp else 0.0
        r = self.tp / (self.tp + self.fn) if self.tp + self.fn else 0.0
        return p, r, (2 * p * r / (p + r) if p + r else 0.0)


@dataclass
class Table:
    name: str
    rows: dict[str, tuple[Score, Score]] = field(default_factory=dict)
    notes: dict[str, str] = field(default_factory=dict)
    seconds: float = 0.0
    docs: int = 0

    def pair(self, name: str) -> tuple[Score, Score]:
        return self.rows.setdefault(name, (Score(), Score()))

    def print(self) -> None:
        per_doc = 1000 * self.seconds / max(1, self.docs)
        print(f"\n## {self.name} — {self.docs} documents, extractor {per_doc:.1f} ms/doc")
        print(
            f"{'field':<26}{'gold':>5} | {'P':>5} {'R':>5} {'F1':>5} | {'base P':>6} {'R':>5} {'F1':>5}"
            f" | {'ratio':>5}"
        )
        for name, (ours, base) in self.rows.items():
            p, r, f = ours.prf
            bp, br, bf = base.prf
            ratio = f"{f / bf:5.2f}" if bf else "  inf" if f else "    -"
            note = f"  ({self.notes[name]})" if name in self.notes else ""
            print(
                f"{name:<26}{ours.gold:>5} | {p:5.2f} {r:5.2f} {f:5.2f} | {bp:6.2f} {br:5.2f} {bf:5.2f}"
                f" | {ratio}{note}"
            )


# --- the keyword/regex-only baseline --------------------------------------------------------------


class Baseline:
    """What regexes alone give: first date, largest amount, first amount after a keyword, every actor word,
    every region name, every programme mention, first institution named."""

    def __init__(self, gazetteer: Gazetteer) -> None:
        self.gazetteer = gazetteer

    def date(self, text: str) -> str | None:
        found = find_dates(text)
        return found[0].day.isoformat() if found else None

    def largest(self, text: str, language: str) -> float | None:
        return max((m.value for m in find_amounts(text, language)), default=None)

    def after_keyword(self, text: str, language: str, keywords: tuple[str, ...]) -> float | None:
        lowered = text.lower()
        for m in find_amounts(text, language):
            if any(k in lowered[max(0, m.start - 100) : m.start] for k in keywords):
                return m.value
        return None

    def actors(self, text: str) -> set[str]:
        return {s.value for s in call_parties.actors_in(text, 0, len(text))}

    def regions(self, text: str) -> set[str]:
        folded = text.casefold()
        names = {e.name for e in self.gazetteer.entries("region") if normalize(e.name) in folded}
        return names | ({NATIONAL} if "nazional" in folded else set())

    def programmes(self, text: str) -> set[str]:
        return {code for code, rx in call_cues._PROGRAMMES if rx.search(text)}

    def issuer(self, text: str) -> str | None:
        named = call_parties.institutions(text, 0, len(text), self.gazetteer)
        return named[0].value if named else None


# --- helpers --------------------------------------------------------------------------------------


def day_of(value: str | None) -> str | None:
    return value[:10] if value else None


def close(a: float, b: float) -> bool:
    return abs(a - b) <= 0.01 * max(abs(b), 1.0)


def same_text(a: str, b: str) -> bool:
    return normalize(a) == normalize(b)


def one_of(accepted: list[str]) -> Callable[[str, Any], bool]:
    def same(predicted: str, _: Any) -> bool:
        return any(same_text(predicted, a) for a in accepted)

    return same


def types_of(meta: CallMetadata, merge_coop: bool = False) -> set[str]:
    types = {b.actor_type for b in meta.beneficiaries}
    if merge_coop:
        types = {"coop_or_non_profit" if t in ("cooperative", "third_sector") else t for t in types}
    return types


def regions_of(meta: CallMetadata, gazetteer: Gazetteer) -> set[str]:
    out = set()
    for place in meta.territory:
        if place.level == "national":
            out.add(NATIONAL)
        elif place.istat_code:
            region = gazetteer.region_name(
                place.istat_code[:2] if place.level == "region" else place.istat_code
            )
            out |= {region} if region else set()
    return out
