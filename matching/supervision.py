"""Funded projects as supervision for the ranking: the PNRR sub-measures of the funded projects nearest to a
description vote, and the calls and measures of the sub-measures voted for move up the hybrid ranking.

A funded project is a labelled example of what a sub-measure pays for, and the index holds 42k of them: a
description close to many projects of one sub-measure is very likely that sub-measure's business, even when
the measure's own text says it in other words. The vote is a weighted kNN over the project points (a softmax
of their cosines); its share for a sub-measure is fused with the hybrid rank of each hit::

    fused = 1 / (rank_constant + rank) + weight * share(the hit's sub-measure)

Projects that ``is_holdout`` selects never vote: they are the queries of ``benchmarks/relevance.py``, which
tunes ``VoteConfig`` on its development split and reports it on its test split.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, replace

import numpy as np

from convergenze.core.holdout import is_holdout
from convergenze.core.records import Hit, SearchFilters
from convergenze.core.vocabulary import DocType, SearchMode
from convergenze.index.store.base import VectorStore

_PROJECT_PREFIX = "pnrr-project:"


@dataclass(frozen=True, slots=True)
class VoteConfig:
    """How the funded projects vote and how much the vote weighs: the best of benchmarks/relevance.py's grid on
    its development split (530 held-out projects, an index of 20k funded projects); see the README's figures.

    ``neighbours``: the funded projects that vote. ``temperature``: the softmax temperature on their cosines
    (a small one lets the nearest projects decide). ``weight``: the vote's weight against the hybrid rank's
    reciprocal ``1 / (rank_constant + rank)``.
    """

    neighbours: int = 10
    temperature: float = 0.01
    weight: float = 0.1
    rank_constant: int = 5

    def __post_init__(self) -> None:
        if self.neighbours < 1 or self.rank_constant < 1:
            raise ValueError("neighbours and rank_constant must be at least 1.")
        if self.temperature <= 0 or self.weight < 0:
            raise ValueError("temperature must be positive and weight not negative.")


@dataclass(frozen=True, slots=True)
class Voter:
    """A funded project that votes: its id, cosine to the description and sub-measures."""

    project_id: str
    cosine: float
    submeasures: tuple[str, ...]


def held_out(project_id: str, cup: object = None) -> bool:
    """Whether a project point is held out (by its CUP, from the metadata or the ``pnrr-project:`` id)."""
    code = cup if isinstance(cup, str) and cup else project_id.removeprefix(_PROJECT_PREFIX)
    return is_holdout(code)


def submeasures_of(hit: Hit) -> tuple[str, ...]:
    """The PNRR sub-measure codes a hit belongs to (a measure's own, a call's, a project's)."""
    codes = hit.payload.get("submeasure_codes") or []
    return tuple(str(c) for c in codes if c)


def tally(voters: Sequence[Voter], neighbours: int, temperature: float) -> dict[str, float]:
    """Each sub-measure's share of the vote (shares sum to 1; empty without voters): the ``neighbours`` nearest
    voters, each weighing a softmax of its cosine, split evenly among its sub-measures."""
    chosen = [v for v in voters if v.submeasures][:neighbours]
    if not chosen:
        return {}
    top = max(v.cosine for v in chosen)
    shares: dict[str, float] = defaultdict(float)
    for voter in chosen:
        weight = math.exp((voter.cosine - top) / temperature)
        for code in voter.submeasures:
            shares[code] += weight / len(voter.submeasures)
    total = sum(shares.values())
    return {code: share / total for code, share in shares.items()}


def fuse(hits: Sequence[Hit], shares: dict[str, float], weight: float, rank_constant: int) -> list[Hit]:
    """``hits`` (in their ranked order) re-ranked by their reciprocal rank plus ``weight`` times their
    sub-measure's share of the vote; the fused value becomes the score. Without a vote the list is unchanged."""
    if not shares or weight == 0:
        return list(hits)
    fused = []
    for rank, hit in enumerate(hits, start=1):
        share = max((shares.get(code, 0.0) for code in submeasures_of(hit)), default=0.0)
        fused.append((1.0 / (rank_constant + rank) + weight * share, rank, hit))
    fused.sort(key=lambda item: (-item[0], item[1]))
    return [replace(hit, score=round(score, 6)) for score, _, hit in fused]


class ProjectVote:
    """The funded projects of ``store`` voting for sub-measures (held-out projects never vote)."""

    def __init__(self, store: VectorStore, config: VoteConfig = VoteConfig()) -> None:
        self.store = store
        self.config = config

    def voters(self, vector: np.ndarray, neighbours: int | None = None) -> list[Voter]:
        """The ``neighbours`` funded projects nearest to ``vector`` that are not held out, nearest first."""
        wanted = neighbours or self.config.neighbours
        # One CUP in ten is held out: fetching a quarter more (and a few) leaves enough voters after dropping them.
        fetch = wanted + wanted // 4 + 5
        hits = self.store.search(vector.tolist(), None, SearchFilters(types=(DocType.PROJECT,)), fetch,
                                 mode=SearchMode.DENSE)
        voters = [
            Voter(h.document_id, h.score, submeasures_of(h)) for h in hits
            if not held_out(h.document_id, (h.payload.get("metadata") or {}).get("cup"))
        ]
        return voters[:wanted]

    def shares(self, vector: np.ndarray) -> dict[str, float]:
        return tally(self.voters(vector), self.config.neighbours, self.config.temperature)

    def rerank(self, hits: Sequence[Hit], vector: np.ndarray) -> list[Hit]:
        """``hits`` with the calls and measures of the sub-measures the nearest funded projects voted for
        moved up (``fuse``)."""
        if not hits or self.config.weight == 0:
            return list(hits)
        return fuse(hits, self.shares(vector), self.config.weight, self.config.rank_constant)
