"""Mission labels voted by labelled examples: the ``k`` examples nearest to a text that carry a label of a
framework, each weighted by its cosine, give every label of that framework a share of the vote.

The examples are texts whose labels come from official codes, never from text (funded PNRR projects under
their sub-measure's codes, the sub-measures' own descriptions, incentives under their official objectives, EU
topics under their call identifier, each labelled through ``MissionClassifier``'s official path and
crosswalks; ``convergenze.index.mission_examples`` builds and embeds them). Per framework, a label passes when
its share reaches the framework's ``cut``; the vote abstains (and the cue terms and prototypes label the
framework instead) when the best share is below the framework's ``floor``. Both are calibrated on the examples
themselves, each predicted from the examples of other groups, for the best micro-F1.

An item never votes for itself: ``own_groups`` names what a document must not be labelled by (itself, its
PNRR sub-measures, whose projects and description carry its very codes, its EU call, whose topics share its
text and labels), and the examples of those groups are left out of its vote. Measured in
benchmarks/missions.py.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Collection, Sequence
from dataclasses import dataclass, field

import numpy as np

from convergenze.core.records import Document
from convergenze.core.vocabulary import MissionFramework

Label = tuple[str, str]
# Where the vote measured better than the prototypes and cues (benchmarks/missions.py); PNRR and Horizon labels
# come from official codes wherever they exist, and the vote was worse at guessing them from text.
VOTED_FRAMEWORKS = (MissionFramework.CONVERGENZE, MissionFramework.COHESION, MissionFramework.SDG)
_CUTS = tuple(round(float(x), 2) for x in np.arange(0.15, 0.8, 0.05))
_FLOORS = (0.0, *tuple(round(float(x), 2) for x in np.arange(0.2, 0.65, 0.05)))


@dataclass(frozen=True, slots=True)
class VoteConfig:
    frameworks: tuple[str, ...] = tuple(VOTED_FRAMEWORKS)
    k: int = 10  # neighbours that vote
    passages: int = 6  # a document is the mean of its first passages (an EU topic's opening says what it is)
    evidence: int = 3  # nearest examples quoted per label
    calibration_sample: int = 800  # examples per framework the cut and floor are calibrated on
    seed: int = 7

    def __post_init__(self) -> None:
        if self.k < 1 or self.passages < 1 or self.evidence < 1 or self.calibration_sample < 1:
            raise ValueError("k, passages, evidence and calibration_sample must be at least 1.")
        if unknown := set(self.frameworks) - set(MissionFramework):
            raise ValueError(f"frameworks {sorted(unknown)} are not among {[f.value for f in MissionFramework]}.")


@dataclass(frozen=True, slots=True)
class LabelledExamples:
    """Unit-length vectors with the labels official codes give them; ``groups`` and ``ids`` are what
    ``own_groups`` of a document names when the example must not vote for it."""

    vectors: np.ndarray  # n x dim, float32
    labels: tuple[frozenset[Label], ...]
    groups: tuple[str, ...]
    ids: tuple[str, ...]
    titles: tuple[str, ...]

    def __post_init__(self) -> None:
        sizes = {len(self.vectors), len(self.labels), len(self.groups), len(self.ids), len(self.titles)}
        if len(sizes) != 1 or self.vectors.ndim != 2:
            raise ValueError("LabelledExamples needs one vector (n x dim), label set, group, id and title each.")

    def __len__(self) -> int:
        return len(self.labels)

    def subset(self, keep: np.ndarray) -> LabelledExamples:
        """The examples where ``keep`` (a boolean mask) is true."""
        index = np.flatnonzero(keep)
        pick = [int(i) for i in index]
        return LabelledExamples(
            self.vectors[index],
            tuple(self.labels[i] for i in pick),
            tuple(self.groups[i] for i in pick),
            tuple(self.ids[i] for i in pick),
            tuple(self.titles[i] for i in pick),
        )


@dataclass(frozen=True, slots=True)
class Neighbour:
    title: str
    similarity: float


@dataclass(frozen=True, slots=True)
class Voted:
    framework: str
    code: str
    share: float  # of the similarity-weighted vote of the framework's k nearest examples
    neighbours: tuple[Neighbour, ...]  # the nearest examples that voted for it


@dataclass(slots=True)
class _Tally:
    shares: dict[str, float] = field(default_factory=dict)
    voters: dict[str, list[tuple[int, float]]] = field(default_factory=lambda: defaultdict(list))


def call_group(identifier: str) -> str:
    """An EU call's group ("HORIZON-CL5-2024-D3-01-05" -> "call:HORIZON-CL5-2024-D3-01"): its topics share text
    and labels, so they never vote for each other."""
    return f"call:{identifier.rsplit('-', 1)[0]}"


def own_groups(document: Document) -> set[str]:
    """What must not vote for ``document``: itself, its PNRR sub-measures and its EU call."""
    meta = document.metadata
    codes = [meta.get("submeasure_code"), *(meta.get("submeasure_codes") or ())]
    groups = {document.id} | {c.strip() for c in codes if isinstance(c, str) and c.strip()}
    if identifier := meta.get("call_identifier"):
        groups.add(call_group(str(identifier)))
    return groups


class MissionVote:
    """``predict(vector, exclude)`` -> per framework the labels that pass, or nothing where the vote abstains."""

    def __init__(self, examples: LabelledExamples, config: VoteConfig | None = None) -> None:
        if not len(examples):
            raise ValueError("MissionVote needs at least one labelled example.")
        self.config = config or VoteConfig()
        self.examples = examples
        norms = np.linalg.norm(examples.vectors, axis=1, keepdims=True)
        self.matrix = (examples.vectors / np.maximum(norms, 1e-12)).astype(np.float32)
        self.groups = np.array(examples.groups)
        self.ids = np.array(examples.ids)
        # Per framework, the examples that carry one of its labels: an example without says nothing about it.
        carriers = {
            fw: np.array([any(f == fw for f, _ in labels) for labels in examples.labels])
            for fw in self.config.frameworks
        }
        self.carriers = {fw: mask for fw, mask in carriers.items() if mask.any()}
        self.cuts = dict.fromkeys(self.carriers, 0.5)
        self.floors = dict.fromkeys(self.carriers, 0.0)

    @property
    def frameworks(self) -> tuple[str, ...]:
        """The frameworks some example carries: the only ones the vote can label."""
        return tuple(self.carriers)

    def document_vector(self, passage_vectors: np.ndarray) -> np.ndarray:
        return np.asarray(passage_vectors[: self.config.passages], dtype=np.float32).mean(axis=0)

    def _tally(self, vector: np.ndarray, exclude: Collection[str], frameworks: Sequence[str]) -> dict[str, _Tally]:
        vector = np.asarray(vector, dtype=np.float32).reshape(-1)
        if vector.shape[0] != self.matrix.shape[1]:
            raise ValueError(f"the vote's examples have dimension {self.matrix.shape[1]}, the text {vector.shape[0]}.")
        sims = self.matrix @ (vector / max(float(np.linalg.norm(vector)), 1e-12))
        allowed = np.ones(len(sims), dtype=bool)
        if exclude:
            keys = list(exclude)
            allowed &= ~np.isin(self.groups, keys) & ~np.isin(self.ids, keys)
        out: dict[str, _Tally] = {}
        for fw in frameworks:
            pool = np.flatnonzero(allowed & self.carriers[fw]) if fw in self.carriers else np.array([], dtype=int)
            if not len(pool):
                continue
            top = pool[np.argsort(-sims[pool], kind="stable")[: self.config.k]]
            weights = np.maximum(sims[top], 0.0)
            tally = _Tally()
            votes: dict[str, float] = defaultdict(float)
            for index, weight in zip(top.tolist(), weights.tolist(), strict=True):
                for framework, code in self.examples.labels[index]:
                    if framework == fw:
                        votes[code] += weight
                        tally.voters[code].append((index, float(sims[index])))
            total = float(weights.sum()) or 1.0
            tally.shares = {code: v / total for code, v in votes.items()}
            out[fw] = tally
        return out

    def predict(
        self, vector: np.ndarray, exclude: Collection[str] = (), frameworks: Sequence[str] | None = None
    ) -> dict[str, list[Voted]]:
        """Per framework (of ``frameworks``, default all the vote carries) the labels whose share reaches its cut,
        best first; a framework is absent where no example carries it or the best share is below its floor."""
        result: dict[str, list[Voted]] = {}
        for fw, tally in self._tally(vector, exclude, frameworks or self.frameworks).items():
            ranked = sorted(tally.shares.items(), key=lambda x: (-x[1], x[0]))
            if not ranked or ranked[0][1] < self.floors[fw]:
                continue
            passed = [(code, share) for code, share in ranked if share >= self.cuts[fw]] or ranked[:1]
            result[fw] = [Voted(fw, code, round(share, 4), self._neighbours(tally.voters[code]))
                          for code, share in passed]
        return result

    def _neighbours(self, voters: list[tuple[int, float]]) -> tuple[Neighbour, ...]:
        return tuple(Neighbour(self.examples.titles[i], round(s, 3)) for i, s in voters[: self.config.evidence])

    def calibrate(self) -> dict[str, tuple[float, float]]:
        """Each framework's (cut, floor): the pair with the best micro-F1 over examples that carry the framework,
        each predicted without its own group (an abstention counts its true labels as missed)."""
        rng = np.random.default_rng(self.config.seed)
        for fw, mask in self.carriers.items():
            carriers = np.flatnonzero(mask)
            picked = rng.choice(carriers, size=min(self.config.calibration_sample, len(carriers)), replace=False)
            cases = []
            for i in picked.tolist():
                tally = self._tally(self.matrix[i], {self.examples.groups[i], self.examples.ids[i]}, [fw]).get(fw)
                truth = {code for f, code in self.examples.labels[i] if f == fw}
                ranked = sorted(tally.shares.items(), key=lambda x: (-x[1], x[0])) if tally else []
                cases.append((truth, ranked))
            best = (-1.0, self.cuts[fw], self.floors[fw])
            for floor in _FLOORS:
                for cut in _CUTS:
                    tp = fp = fn = 0
                    for truth, ranked in cases:
                        if not ranked or ranked[0][1] < floor:
                            fn += len(truth)
                            continue
                        predicted = {code for code, share in ranked if share >= cut} or {ranked[0][0]}
                        tp += len(truth & predicted)
                        fp += len(predicted - truth)
                        fn += len(truth - predicted)
                    f1 = 2 * tp / (2 * tp + fp + fn) if tp else 0.0
                    # Ties go to the lower floor (fewer abstentions) and then the lower cut.
                    if f1 > best[0] + 1e-9:
                        best = (f1, cut, floor)
            self.cuts[fw], self.floors[fw] = best[1], best[2]
        return {fw: (self.cuts[fw], self.floors[fw]) for fw in self.carriers}
