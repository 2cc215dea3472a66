"""The mission taxonomy (corpora/taxonomy/missions.yaml) as objects: entries of every framework with their
labels, descriptions and cue terms, the crosswalks between frameworks, the programme rules; and the official
PNRR -> SDG mapping. extractors/missions.py classifies documents onto it."""

from __future__ import annotations

import csv
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import yaml

from convergenze.core.vocabulary import MissionFramework

from .objectives import LANGUAGES

DEFAULT_TAXONOMY = Path(__file__).resolve().parents[1] / "corpora" / "taxonomy" / "missions.yaml"
SDG_MAPPING_FILE = Path("italia-domani") / "Mappatura_PNRR_SNSvS_Agenda2030_v2_part.csv"
Key = tuple[str, str]


@dataclass(frozen=True, slots=True)
class TaxonomyEntry:
    framework: str
    code: str
    labels: dict[str, str]
    descriptions: dict[str, str]
    cues: dict[str, tuple[str, ...]]
    parent: str | None = None
    ids: tuple[str, ...] = ()
    aliases: tuple[str, ...] = ()

    def prototype(self, language: str) -> str:
        """What the embedding model compares documents with: label, description and cue terms separated the
        PNRR crosswalk truth better than the description alone (pairwise AUC 0.94 against 0.91)."""
        return f"{self.labels[language]}: {self.descriptions[language]} {', '.join(self.cues.get(language, ()))}"


@dataclass(frozen=True, slots=True)
class ObjectiveRule:
    """One value of a source's own objectives (``vocabulary``) onto missions, worth ``weight`` as a label."""

    vocabulary: str
    value: str
    targets: tuple[Key, ...]
    weight: float
    why: str


@dataclass(frozen=True, slots=True)
class ProgrammeRule:
    identifiers: tuple[str, ...]
    names: tuple[str, ...]
    targets: tuple[Key, ...]
    why: str


def _key(text: str) -> Key:
    framework, _, code = str(text).partition(":")
    if not code:
        raise ValueError(f"taxonomy reference {text!r} must look like 'framework:code', e.g. 'pnrr:M2'.")
    return framework, code


class Taxonomy:
    """The entries of every framework, the crosswalks between them and the programme rules."""

    def __init__(
        self,
        entries: Sequence[TaxonomyEntry],
        crosswalks: dict[Key, tuple[tuple[Key, ...], str]],
        programmes: Sequence[ProgrammeRule] = (),
        objectives: Sequence[ObjectiveRule] = (),
    ) -> None:
        self._entries: dict[str, dict[str, TaxonomyEntry]] = {name.value: {} for name in MissionFramework}
        for entry in entries:
            if entry.framework not in self._entries:
                raise ValueError(f"framework {entry.framework!r} is not one of {self.frameworks}.")
            if entry.code in self._entries[entry.framework]:
                raise ValueError(f"{entry.framework}:{entry.code} is defined twice; keep one entry.")
            if any(not entry.labels.get(lang) or not entry.descriptions.get(lang) for lang in LANGUAGES):
                raise ValueError(f"{entry.framework}:{entry.code} needs a label and a description in {LANGUAGES}.")
            self._entries[entry.framework][entry.code] = entry
        for entry in entries:
            if entry.parent:
                self.entry(entry.framework, entry.parent)
        self._crosswalks = dict(crosswalks)
        for source, (targets, _) in self._crosswalks.items():
            for framework, code in (source, *targets):
                self.entry(framework, code)
        self.programmes = tuple(programmes)
        self._objectives: dict[tuple[str, str], ObjectiveRule] = {}
        for targets in [rule.targets for rule in self.programmes] + [rule.targets for rule in objectives]:
            for framework, code in targets:
                self.entry(framework, code)
        for objective in objectives:
            if not 0.0 <= objective.weight <= 1.0:
                raise ValueError(f"objective {objective.value!r}: weight {objective.weight} must be in [0, 1].")
            self._objectives[(objective.vocabulary, objective.value)] = objective

    @classmethod
    def load(cls, path: Path = DEFAULT_TAXONOMY) -> Taxonomy:
        raw = yaml.safe_load(Path(path).read_text(encoding="utf-8")) or {}
        try:
            entries = [
                TaxonomyEntry(
                    framework=name,
                    code=str(item["code"]),
                    labels=dict(item["label"]),
                    descriptions={k: " ".join(str(v).split()) for k, v in item["description"].items()},
                    cues={k: tuple(str(t) for t in v) for k, v in (item.get("cues") or {}).items()},
                    parent=item.get("parent"),
                    ids=tuple(str(i).upper() for i in item.get("ids") or ()),
                    aliases=tuple(str(a).lower() for a in item.get("aliases") or ()),
                )
                for name, framework in raw["frameworks"].items()
                for item in framework["entries"]
            ]
            crosswalks = {
                _key(c["from"]): (tuple(_key(t) for t in c["to"]), str(c.get("why", "")))
                for c in raw.get("crosswalks") or ()
            }
            programmes = [
                ProgrammeRule(
                    tuple(p.get("identifiers") or ()),
                    tuple(p.get("names") or ()),
                    tuple(_key(t) for t in p["to"]),
                    str(p.get("why", "")),
                )
                for p in raw.get("programmes") or ()
            ]
            objectives = [
                ObjectiveRule(str(vocabulary), str(o["from"]), tuple(_key(t) for t in o["to"]), float(o["weight"]),
                              str(o.get("why", "")))
                for vocabulary, rules in (raw.get("objectives") or {}).items()
                for o in rules
            ]
        except (KeyError, TypeError, AttributeError, ValueError) as error:
            raise ValueError(f"{path}: malformed taxonomy ({error!r}); compare with {DEFAULT_TAXONOMY}.") from error
        return cls(entries, crosswalks, programmes, objectives)

    @property
    def frameworks(self) -> tuple[str, ...]:
        return tuple(self._entries)

    def entries(self, framework: str) -> list[TaxonomyEntry]:
        if framework not in self._entries:
            raise ValueError(f"framework {framework!r} is not one of {self.frameworks}.")
        return list(self._entries[framework].values())

    def has(self, framework: str, code: str) -> bool:
        return code in self._entries.get(framework, {})

    def entry(self, framework: str, code: str) -> TaxonomyEntry:
        if not self.has(framework, code):
            raise ValueError(f"{framework}:{code} is not in the taxonomy; see {DEFAULT_TAXONOMY.name}.")
        return self._entries[framework][code]

    def label(self, framework: str, code: str, lang: str = "it") -> str:
        if lang not in LANGUAGES:
            raise ValueError(f"lang {lang!r} is not one of {LANGUAGES}.")
        return self.entry(framework, code).labels[lang]

    def crosswalk(self, framework: str, code: str) -> list[Key]:
        self.entry(framework, code)
        return list(self._crosswalks.get((framework, code), ((), ""))[0])

    def objective(self, vocabulary: str, value: str) -> ObjectiveRule | None:
        """The missions a source's own objective maps onto (None: a value the taxonomy does not know)."""
        return self._objectives.get((vocabulary, value))

    def rationale(self, framework: str, code: str) -> str:
        return self._crosswalks.get((framework, code), ((), ""))[1]


def read_sdg_mapping(path: Path) -> dict[str, list[tuple[str, bool]]]:
    """The official PNRR -> SDG mapping: sub-measure code -> [("SDG9", prevalent?), ...]."""
    mapping: dict[str, dict[str, bool]] = defaultdict(dict)
    with Path(path).open(encoding="utf-8-sig", newline="") as handle:
        reader = csv.DictReader(handle, delimiter=";")
        needed = {"Codice Univoco submisura", "GOAL", "PREVALENTE"}
        if not needed <= set(reader.fieldnames or ()):
            raise ValueError(f"{path} lacks the columns {sorted(needed)}; pass the Italia Domani 'Mappatura' CSV.")
        for row in reader:
            code, goal = (row["Codice Univoco submisura"] or "").strip(), (row["GOAL"] or "").strip()
            if code and goal.isdigit():
                prevalent = (row["PREVALENTE"] or "").strip().lower() == "si"
                mapping[code][f"SDG{int(goal)}"] = mapping[code].get(f"SDG{int(goal)}", False) or prevalent
    return {code: sorted(goals.items(), key=lambda g: (not g[1], g[0])) for code, goals in mapping.items()}
