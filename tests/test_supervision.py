"""The funded projects' vote (matching/supervision.py) on a real Edge index of hand-placed points: held-out
projects never vote, a call of the sub-measure voted for moves up, and without the vote the ranking is retrieval's.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from convergenze.core.holdout import is_holdout
from convergenze.core.records import Chunk, Hit, IndexedChunk, SearchFilters, SparseVector
from convergenze.core.settings import RankingSettings
from convergenze.core.vocabulary import DocType, SearchMode
from convergenze.index.store.edge import EdgeStore
from convergenze.matching.supervision import ProjectVote, VoteConfig, Voter, fuse, tally

pytestmark = pytest.mark.filterwarnings("ignore:Payload indexes have no effect:UserWarning")

DIM = 8
HELD_OUT = "CUP0002"  # is_holdout selects it (checked below)
QUERY = np.array([1.0, 0.0, 0, 0, 0, 0, 0, 0], dtype=np.float32)


def _unit(*values: float) -> list[float]:
    vector = np.array(list(values) + [0.0] * (DIM - len(values)), dtype=np.float32)
    return (vector / np.linalg.norm(vector)).tolist()


def _point(document_id: str, dense: list[float], doc_type: DocType, codes: list[str], **meta: Any) -> IndexedChunk:
    payload = {"content_hash": document_id, "type": doc_type.value, "source": "test", "title": document_id,
               "submeasure_codes": codes, "metadata": meta}
    return IndexedChunk(Chunk(document_id, 0, document_id), dense, SparseVector([], []), payload)


@pytest.fixture
def store(tmp_path: Path) -> Iterator[EdgeStore]:
    """The held-out project sits on the query and funded sub-measure B; four other projects, a little further,
    funded sub-measure A. Call B is nearer the query than call A."""
    assert is_holdout(HELD_OUT) and not any(is_holdout(f"CUP10{i}") for i in range(4))
    points = [_point(f"pnrr-project:{HELD_OUT}", _unit(1.0), DocType.PROJECT, ["B"], cup=HELD_OUT)]
    points += [_point(f"pnrr-project:CUP10{i}", _unit(1.0, 0.3 + 0.05 * i), DocType.PROJECT, ["A"],
                      cup=f"CUP10{i}") for i in range(4)]
    points += [_point("pnrr-call:b", _unit(1.0, 0.0, 0.5), DocType.CALL, ["B"]),
               _point("pnrr-call:a", _unit(1.0, 0.0, 0.9), DocType.CALL, ["A"]),
               _point("pnrr-call:none", _unit(1.0, 0.0, 1.2), DocType.CALL, [])]
    root = tmp_path / "edge"
    with EdgeStore.begin_write(root) as writer:
        writer.ensure_schema(DIM)
        writer.upsert(points)
    reader = EdgeStore.open_reader(root)
    yield reader
    reader.close()


def test_held_out_projects_never_vote(store: EdgeStore) -> None:
    vote = ProjectVote(store, VoteConfig(neighbours=10))
    voters = vote.voters(QUERY)
    assert [v.project_id for v in voters] == [f"pnrr-project:CUP10{i}" for i in range(4)]
    assert vote.shares(QUERY) == {"A": pytest.approx(1.0)}  # the nearest project (held out) gave B nothing


def test_a_call_of_the_voted_sub_measure_moves_up(store: EdgeStore) -> None:
    hits = store.search(QUERY.tolist(), None, SearchFilters(types=(DocType.CALL,)), 10, mode=SearchMode.DENSE)
    assert [h.document_id for h in hits] == ["pnrr-call:b", "pnrr-call:a", "pnrr-call:none"]
    reranked = ProjectVote(store, VoteConfig(weight=0.1, rank_constant=5)).rerank(hits, QUERY)
    assert [h.document_id for h in reranked] == ["pnrr-call:a", "pnrr-call:b", "pnrr-call:none"]
    assert [h.score for h in reranked] == sorted((h.score for h in reranked), reverse=True)


def test_without_a_vote_the_ranking_is_retrieval_s(store: EdgeStore) -> None:
    hits = store.search(QUERY.tolist(), None, SearchFilters(types=(DocType.CALL,)), 10, mode=SearchMode.DENSE)
    assert ProjectVote(store, VoteConfig(weight=0.0)).rerank(hits, QUERY) == hits
    assert fuse(hits, {}, 0.5, 5) == hits
    assert RankingSettings().project_vote is False  # the shipped default: match ranks by retrieval alone


def test_a_small_weight_only_breaks_near_ties() -> None:
    # Rank 1 against rank 2 differs by 1/6 - 1/7 = 0.024 with rank_constant 5: a full vote of weight 0.02
    # for the second cannot pass the first, one of 0.05 does.
    voters = [Voter("pnrr-project:CUP100", 0.9, ("A",))]
    shares = tally(voters, neighbours=5, temperature=0.02)
    hits = [Hit("b", 1.0, "", {"submeasure_codes": ["B"]}), Hit("a", 0.9, "", {"submeasure_codes": ["A"]})]
    assert [h.document_id for h in fuse(hits, shares, 0.02, 5)] == ["b", "a"]
    assert [h.document_id for h in fuse(hits, shares, 0.05, 5)] == ["a", "b"]


def test_the_vote_weighs_nearer_projects_more() -> None:
    voters = [Voter("p1", 0.90, ("A",)), Voter("p2", 0.85, ("B",)), Voter("p3", 0.84, ("B",)),
              Voter("p4", 0.80, ("C", "D"))]
    sharp = tally(voters, neighbours=4, temperature=0.01)
    flat = tally(voters, neighbours=4, temperature=1.0)
    assert sharp["A"] > sharp["B"] and flat["B"] > flat["A"]
    assert sum(sharp.values()) == pytest.approx(1.0) and flat["C"] == pytest.approx(flat["D"])
    assert tally(voters, neighbours=1, temperature=1.0) == {"A": 1.0}
    with pytest.raises(ValueError):
        VoteConfig(temperature=0)
