"""A supervised mission labeller, measured by benchmarks/missions.py beside the labeller the index uses.

Labelled examples (funded PNRR projects under their sub-measure's official codes, sub-measure descriptions,
incentives under their official objectives, EU topics under their call identifiers, each labelled through
``MissionClassifier``'s official path and crosswalks) vote for a text's labels: the ``k`` nearest examples that
carry a label of the framework, each weighted by its cosine; a label passes when its share of the vote reaches
the framework's cut. The cut is calibrated per framework (PNRR missions and components apart) on the
examples themselves, each predicted from the examples of other groups, never on the items the benchmark
scores. Every item is predicted without the examples of its own group (its sub-measure, its call for a topic,
itself for an incentive), so training and evaluation stay apart. The vote never abstains where examples carry
the framework (its best label always passes), so the cue terms only matter for frameworks no example carries.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

Label = tuple[str, str]
Labels = set[Label]
CUTS = tuple(round(x, 2) for x in np.arange(0.15, 0.8, 0.05))


def head(label: Label) -> str:
    """The scale a label competes on: PNRR components apart from PNRR missions, like the benchmark scores them."""
    framework, code = label
    return f"{framework}:component" if framework == "pnrr" and "C" in code else framework


@dataclass(slots=True)
class Examples:
    vectors: list[np.ndarray] = field(default_factory=list)
    labels: list[Labels] = field(default_factory=list)
    groups: list[str] = field(default_factory=list)

    def add(self, vectors: np.ndarray, labels: Sequence[Labels], groups: Sequence[str]) -> None:
        self.vectors += list(vectors)
        self.labels += list(labels)
        self.groups += list(groups)

    def __len__(self) -> int:
        return len(self.labels)


class Vote:
    def __init__(self, examples: Examples, k: int = 10) -> None:
        self.k = k
        self.matrix = np.stack(examples.vectors).astype(np.float32)
        self.matrix /= np.linalg.norm(self.matrix, axis=1, keepdims=True)
        self.labels = examples.labels
        self.groups = np.array(examples.groups)
        self.heads = sorted({head(x) for labels in self.labels for x in labels})
        # Per head, the examples that carry one of its labels: an example without says nothing about it.
        self.carriers = {h: np.array([any(head(x) == h for x in labels) for labels in self.labels])
                         for h in self.heads}
        self.cuts = dict.fromkeys(self.heads, 0.5)

    def shares(self, vector: np.ndarray, group: str | None) -> dict[str, dict[Label, float]]:
        """Per head, each label's similarity-weighted share of the k nearest carriers outside ``group``."""
        vector = vector / np.linalg.norm(vector)
        sims = self.matrix @ vector.astype(np.float32)
        allowed = self.groups != group if group is not None else np.ones(len(sims), dtype=bool)
        out: dict[str, dict[Label, float]] = {}
        for h in self.heads:
            pool = np.flatnonzero(allowed & self.carriers[h])
            if not len(pool):
                continue
            top = pool[np.argsort(-sims[pool])[: self.k]]
            weights = np.maximum(sims[top], 0.0)
            votes: dict[Label, float] = defaultdict(float)
            for index, weight in zip(top, weights, strict=True):
                for label in self.labels[index]:
                    if head(label) == h:
                        votes[label] += float(weight)
            total = float(weights.sum()) or 1.0
            out[h] = {label: v / total for label, v in votes.items()}
        return out

    def predict(self, vector: np.ndarray, group: str | None = None, heads: Sequence[str] | None = None) -> Labels:
        chosen: Labels = set()
        for h, shares in self.shares(vector, group).items():
            if heads is not None and h not in heads:
                continue
            ranked = sorted(shares.items(), key=lambda x: -x[1])
            chosen |= {label for label, share in ranked if share >= self.cuts[h]} or {ranked[0][0]}
        return chosen

    def calibrate(self, sample: int = 800, seed: int = 7) -> dict[str, float]:
        """Each head's cut: the one with the best micro-F1 over examples predicted without their own group."""
        rng = np.random.default_rng(seed)
        picked = rng.choice(len(self.labels), size=min(sample, len(self.labels)), replace=False)
        shares = [self.shares(self.matrix[i], str(self.groups[i])) for i in picked]
        for h in self.heads:
            best = (-1.0, self.cuts[h])
            for cut in CUTS:
                tp = fp = fn = 0
                for i, found in zip(picked, shares, strict=True):
                    truth = {x for x in self.labels[i] if head(x) == h}
                    if not truth or h not in found:
                        continue
                    ranked = sorted(found[h].items(), key=lambda x: -x[1])
                    predicted = {label for label, s in ranked if s >= cut} or {ranked[0][0]}
                    tp, fp, fn = tp + len(truth & predicted), fp + len(predicted - truth), fn + len(truth - predicted)
                f1 = 2 * tp / (2 * tp + fp + fn) if tp else 0.0
                best = max(best, (f1, cut))
            self.cuts[h] = best[1]
        return dict(self.cuts)
