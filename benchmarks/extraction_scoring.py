"""Scoring for benchmarks/extraction.py: precision/recall counters, the printed table, the extractor as it was
at an earlier commit, and the keyword/regex-only baseline the extractor is compared with."""

from __future__ import annotations

import importlib
import io
import subprocess
import sys
import tarfile
import tempfile
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType
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


# The extractor today, the extractor at the commit the branch started from (run in the same process, see
# ``load_before``), and what regexes alone give.
VARIANTS = ("new", "before", "keyword")


@dataclass
class Table:
    name: str
    rows: dict[str, dict[str, Score]] = field(default_factory=dict)
    notes: dict[str, str] = field(default_factory=dict)
    seconds: dict[str, float] = field(default_factory=dict)
    docs: int = 0

    def row(self, name: str) -> dict[str, Score]:
        return self.rows.setdefault(name, {v: Score() for v in VARIANTS})

    def single(self, name: str, predicted: dict[str, Any], gold: Any, same: Callable[[Any, Any], bool]) -> None:
        for variant, value in predicted.items():
            self.row(name)[variant].single(value, gold, same)

    def sets(self, name: str, predicted: dict[str, set[str]], gold: set[str]) -> None:
        for variant, value in predicted.items():
            self.row(name)[variant].sets(value, gold)

    def print(self) -> None:
        speed = ", ".join(f"{v} {1000 * s / max(1, self.docs):.1f}" for v, s in self.seconds.items())
        print(f"\n## {self.name} — {self.docs} documents, ms/doc: {speed}")
        print(f"{'field':<26}{'gold':>5} | {'P':>5} {'R':>5} {'F1':>5} | {'before':>6} {'keyword':>7} |"
              f" {'new/before':>10}")
        for name, scores in self.rows.items():
            p, r, f = scores["new"].prf
            before, keyword = scores["before"].prf[2], scores["keyword"].prf[2]
            ratio = f"{f / before:10.2f}" if before else "       inf" if f else "         -"
            note = f"  ({self.notes[name]})" if name in self.notes else ""
            print(f"{name:<26}{scores['new'].gold:>5} | {p:5.2f} {r:5.2f} {f:5.2f} | {before:6.2f} {keyword:7.2f} |"
                  f" {ratio}{note}")


def load_before(ref: str, root: Path) -> tuple[ModuleType, ModuleType, str]:
    """``extractors.call_metadata`` and ``extractors.missions`` as they were at git ``ref``, importable beside
    today's: the package (with the gazetteer and taxonomy files it reads) is unpacked into a temporary folder
    as a top-level ``extractors``. Returns the two modules and the commit's short hash."""
    commit = subprocess.run(["git", "-C", str(root), "rev-parse", "--short", ref], capture_output=True, text=True,
                            check=True).stdout.strip()
    archive = subprocess.run(["git", "-C", str(root), "archive", commit, "extractors", "corpora/gazetteer",
                              "corpora/taxonomy"], capture_output=True, check=True).stdout
    target = Path(tempfile.mkdtemp(prefix="convergenze-before-"))
    with tarfile.open(fileobj=io.BytesIO(archive)) as tar:
        tar.extractall(target, filter="data")
    sys.path.insert(0, str(target))
    try:
        calls = importlib.import_module("extractors.call_metadata")
        missions = importlib.import_module("extractors.missions")
    finally:
        sys.path.remove(str(target))
    return calls, missions, commit


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


def types_of(meta: CallMetadata) -> set[str]:
    return {str(b.actor_type) for b in meta.beneficiaries}


# Classes the official vocabularies do not split: cooperatives with non-profits, administrations with public bodies.
_MERGED = {"cooperative": "coop_or_non_profit", "third_sector": "coop_or_non_profit",
           "foundation": "coop_or_non_profit", "public_body": "public", "public_administration": "public"}


def merged_types(types: set[str]) -> set[str]:
    return {_MERGED.get(str(t), str(t)) for t in types}


def regions_of(meta: CallMetadata, gazetteer: Gazetteer) -> set[str]:
    out = set()
    for place in meta.territory:
        if place.level == "national":
            out.add(NATIONAL)
        elif place.level == "eu":
            continue
        elif place.istat_code:
            region = gazetteer.region_name(
                place.istat_code[:2] if place.level == "region" else place.istat_code
            )
            out |= {region} if region else set()
    return out
