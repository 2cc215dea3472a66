"""The Edge and the qdrant-client backends must give the same answers on the same data.

In the style of qdrant-client's congruence tests: the same ~300 synthetic points go into EdgeStore (fresh
directory) and QdrantClientStore(":memory:") (fresh collection), the same queries run on both, and the answers
are compared. Dense and sparse rankings are also checked against a brute-force oracle computed here, and every
hit against the filter it was asked for, so the test fails even if both backends were wrong the same way.
"""

from __future__ import annotations

import dataclasses
import math
import random
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from qdrant_client import QdrantClient

from convergenze.core.records import Chunk, Hit, IndexedChunk, SearchFilters, SparseVector
from convergenze.index.store import EdgeStore, QdrantClientStore, VectorStore
from convergenze.index.store.base import KEYWORD_FIELDS, SearchMode

pytestmark = pytest.mark.filterwarnings("ignore:Payload indexes have no effect:UserWarning")

DIM = 16
VOCABULARY = 300
SEED = 20260317
TYPES = ("call", "measure", "project", "programme", "policy")
REGIONS = ("lazio", "puglia", "lombardia", "sicilia")
STATUSES = ("open", "closed", "forthcoming")
MISSIONS = ("M1", "M2", "M3", "M4", "M5", "M6")
PROGRAMMES = ("PNRR", "FESR", "Horizon Europe", "FSE+")
SOURCES = ("italia-domani", "eu-topics", "regional")
BENEFICIARIES = ("sme", "university", "municipality", "ngo")
SUPPORT_FORMS = ("grant", "loan", "guarantee", "tax_relief")
FIRM_SIZES = ("micro", "small", "medium", "large")
TOLERANCE = 1e-4


# ------------------------------------------------------------------------------------------------------------
# Synthetic corpus
# ------------------------------------------------------------------------------------------------------------


def _deadline(rng: random.Random) -> str | date | None:
    roll = rng.random()
    if roll < 0.15:
        return None  # projects and programmes often have none
    day = date(2025, 6, 1) + timedelta(days=rng.randrange(0, 900))
    if roll < 0.35:  # EU calls close at a time of day, with an offset
        return f"{day.isoformat()}T17:00:00+02:00"
    return day if roll < 0.6 else day.isoformat()


def make_points(seed: int = SEED) -> list[IndexedChunk]:
    rng = random.Random(seed)
    points: list[IndexedChunk] = []
    document = 0
    while len(points) < 300:
        document_id = f"{rng.choice(('call', 'measure', 'project'))}:{document:04d}"
        payload: dict[str, Any] = {
            "content_hash": f"hash-{document}-{rng.randrange(10**6)}",
            "type": rng.choice(TYPES),
            "region": rng.choice(REGIONS),
            "status": rng.choice(STATUSES),
            "programme": rng.choice(PROGRAMMES),
            "source": rng.choice(SOURCES),
            "language": rng.choice(("it", "en")),
            "mission_codes": sorted(rng.sample(MISSIONS, rng.randint(1, 3))),
            "beneficiary_types": sorted(rng.sample(BENEFICIARIES, rng.randint(1, 2))),
            "deadline": _deadline(rng),
            "title": f"Document {document}",
        }
        if rng.random() < 0.7:  # projects and measures state neither: a field a point does not have
            payload["support_forms"] = sorted(rng.sample(SUPPORT_FORMS, rng.randint(1, 2)))
            payload["firm_sizes"] = sorted(rng.sample(FIRM_SIZES, rng.randint(1, 4)))
        for position in range(rng.randint(2, 6)):
            terms = sorted(rng.sample(range(VOCABULARY), rng.randint(6, 14)))
            points.append(IndexedChunk(
                chunk=Chunk(document_id=document_id, position=position,
                            text=f"passage {position} of {document_id}", heading=f"Section {position}"),
                dense=[rng.gauss(0.0, 1.0) for _ in range(DIM)],
                sparse=SparseVector(indices=terms, values=[round(rng.uniform(0.3, 3.0), 4) for _ in terms]),
                payload=payload,
            ))
        document += 1
    return points


POINTS = make_points()
DOCUMENT_IDS = sorted({p.chunk.document_id for p in POINTS})


def _queries(seed: int, n: int) -> list[tuple[list[float], SparseVector]]:
    rng = random.Random(seed)
    out = []
    for _ in range(n):
        terms = sorted(rng.sample(range(VOCABULARY), rng.randint(3, 6)))
        out.append(([rng.gauss(0.0, 1.0) for _ in range(DIM)], SparseVector(terms, [1.0] * len(terms))))
    return out


QUERIES = _queries(SEED + 1, 6)

FILTERS: list[SearchFilters] = [
    SearchFilters(),
    SearchFilters(types=("call", "measure")),
    SearchFilters(types=("project",)),
    SearchFilters(region="lazio", status="open"),
    SearchFilters(mission="M2"),
    SearchFilters(programme="PNRR", language="it"),
    SearchFilters(source="eu-topics"),
    SearchFilters(deadline_from=date(2026, 1, 1)),
    SearchFilters(deadline_to=date(2026, 3, 31)),
    SearchFilters(deadline_from=date(2026, 2, 1), deadline_to=date(2026, 9, 30),
                  types=("call", "measure", "policy")),
    SearchFilters(exclude_ids=tuple(DOCUMENT_IDS[::3])),
    SearchFilters(mission="M1", deadline_from=date(2025, 9, 1), exclude_ids=tuple(DOCUMENT_IDS[1::4])),
    SearchFilters(support_form="loan"),
    SearchFilters(firm_size="large", support_form="grant", types=("call", "measure", "policy")),
]


# ------------------------------------------------------------------------------------------------------------
# Oracle: the same semantics computed by hand
# ------------------------------------------------------------------------------------------------------------


def _deadline_instant(value: Any) -> datetime | None:
    if value is None:
        return None
    if isinstance(value, date) and not isinstance(value, datetime):
        return datetime(value.year, value.month, value.day, tzinfo=UTC)
    parsed = datetime.fromisoformat(str(value))
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def matches(point: IndexedChunk, filters: SearchFilters) -> bool:
    payload = point.payload
    if filters.types and payload["type"] not in filters.types:
        return False
    for key, wanted in (("region", filters.region), ("status", filters.status),
                        ("programme", filters.programme), ("language", filters.language),
                        ("source", filters.source)):
        if wanted is not None and payload[key] != wanted:
            return False
    for key, contained in (("mission_codes", filters.mission), ("support_forms", filters.support_form),
                           ("firm_sizes", filters.firm_size)):
        if contained is not None and contained not in payload.get(key, ()):
            return False
    if filters.deadline_from is not None or filters.deadline_to is not None:
        moment = _deadline_instant(payload["deadline"])
        if moment is None:
            return False
        if filters.deadline_from is not None and moment < datetime.combine(
                filters.deadline_from, datetime.min.time(), tzinfo=UTC):
            return False
        if filters.deadline_to is not None and moment >= datetime.combine(
                filters.deadline_to + timedelta(days=1), datetime.min.time(), tzinfo=UTC):
            return False
    return point.chunk.document_id not in filters.exclude_ids


def _idf(points: Sequence[IndexedChunk]) -> dict[int, float]:
    frequencies: dict[int, int] = {}
    for point in points:
        for term in point.sparse.indices:
            frequencies[term] = frequencies.get(term, 0) + 1
    n = len(points)
    return {term: math.log((n - df + 0.5) / (df + 0.5) + 1.0) for term, df in frequencies.items()}


def oracle(points: Sequence[IndexedChunk], dense: list[float], sparse: SparseVector, filters: SearchFilters,
           limit: int, mode: SearchMode) -> list[tuple[str, float]]:
    """Best chunk score per document, best first, for ``dense`` or ``sparse`` mode."""
    idf = _idf(points)
    query = np.asarray(dense, dtype=np.float64)
    query /= np.linalg.norm(query)
    weights = dict(zip(sparse.indices, sparse.values, strict=True))
    best: dict[str, float] = {}
    for point in points:
        if not matches(point, filters):
            continue
        if mode == "dense":
            vector = np.asarray(point.dense, dtype=np.float64)
            score = float(vector @ query / np.linalg.norm(vector))
        else:
            terms = zip(point.sparse.indices, point.sparse.values, strict=True)
            shared = [(t, v) for t, v in terms if t in weights]
            if not shared:
                continue  # a sparse search only returns points sharing a term with the query
            score = sum(weights[t] * idf[t] * v for t, v in shared)
        document_id = point.chunk.document_id
        best[document_id] = max(best.get(document_id, -math.inf), score)
    ranked = sorted(best.items(), key=lambda item: -item[1])
    return ranked[:limit]


# ------------------------------------------------------------------------------------------------------------
# Comparison allowing ties
# ------------------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Ranked:
    ids: list[str]
    scores: list[float]

    @classmethod
    def of(cls, hits: Sequence[Hit] | Sequence[tuple[str, float]]) -> Ranked:
        pairs = [(h.document_id, h.score) if isinstance(h, Hit) else h for h in hits]
        return cls([p[0] for p in pairs], [p[1] for p in pairs])


def _tie_blocks(scores: list[float]) -> list[range]:
    blocks: list[range] = []
    start = 0
    for i in range(1, len(scores) + 1):
        if i == len(scores) or abs(scores[i] - scores[start]) > TOLERANCE * max(1.0, abs(scores[start])):
            blocks.append(range(start, i))
            start = i
    return blocks


def assert_same_ranking(left: Ranked, right: Ranked, what: str) -> None:
    """Same length and scores; the same documents in the same order, up to permutations inside a tie.

    The last tie block may be cut by the limit, so there only its size has to match.
    """
    assert len(left.ids) == len(right.ids), f"{what}: {left.ids} vs {right.ids}"
    assert left.scores == pytest.approx(right.scores, rel=TOLERANCE, abs=TOLERANCE), what
    blocks = _tie_blocks(left.scores)
    for block in blocks[:-1]:
        assert {left.ids[i] for i in block} == {right.ids[i] for i in block}, (
            f"{what}: {left.ids} vs {right.ids}")


def assert_same_top_set(left: Ranked, right: Ranked, what: str) -> None:
    """Hybrid (RRF) scores tie a lot: documents above the lowest score must be the same set."""
    assert len(left.ids) == len(right.ids), f"{what}: {left.ids} vs {right.ids}"
    assert left.scores == pytest.approx(right.scores, rel=TOLERANCE, abs=TOLERANCE), what
    if not left.ids:
        return
    floor = left.scores[-1] + TOLERANCE
    assert {i for i, s in zip(left.ids, left.scores, strict=True) if s > floor} == {
        i for i, s in zip(right.ids, right.scores, strict=True) if s > floor
    }, f"{what}: {left.ids} vs {right.ids}"


# ------------------------------------------------------------------------------------------------------------
# Fixtures: the same points in both backends, fresh per test
# ------------------------------------------------------------------------------------------------------------


@pytest.fixture()
def edge(tmp_path: Path) -> Iterator[VectorStore]:
    with EdgeStore.begin_write(tmp_path / "edge") as writer:
        writer.ensure_schema(DIM)
        writer.upsert(POINTS)
    reader = EdgeStore.open_reader(tmp_path / "edge")
    yield reader
    reader.close()


@pytest.fixture()
def client(request: pytest.FixtureRequest) -> Iterator[VectorStore]:
    store = QdrantClientStore(QdrantClient(":memory:"), f"congruence-{request.node.name}")
    store.ensure_schema(DIM)
    store.upsert(POINTS)
    yield store
    store.close()


def _check_hits(hits: list[Hit], filters: SearchFilters, what: str) -> None:
    by_position = {(p.chunk.document_id, p.chunk.position): p for p in POINTS}
    assert len({h.document_id for h in hits}) == len(hits), f"{what}: a document appears twice"
    for hit in hits:
        assert "text" not in hit.payload
        point = by_position[(hit.document_id, hit.payload["position"])]
        assert hit.snippet == point.chunk.text, what
        assert matches(point, filters), f"{what}: {hit.document_id} does not match {filters}"


# ------------------------------------------------------------------------------------------------------------
# Tests
# ------------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("mode", ["dense", "sparse"])
def test_single_vector_rankings_agree_with_each_other_and_the_oracle(
    edge: VectorStore, client: VectorStore, mode: SearchMode
) -> None:
    non_empty = 0
    for q, (dense, sparse) in enumerate(QUERIES):
        for f, filters in enumerate(FILTERS):
            what = f"{mode} query {q} filter {f}"
            limit = 10
            from_edge = edge.search(dense, sparse, filters, limit, mode)
            from_client = client.search(dense, sparse, filters, limit, mode)
            _check_hits(from_edge, filters, what)
            _check_hits(from_client, filters, what)
            assert_same_ranking(Ranked.of(from_edge), Ranked.of(from_client), f"{what} edge/client")
            expected = Ranked.of(oracle(POINTS, dense, sparse, filters, limit, mode))
            assert_same_ranking(Ranked.of(from_edge), expected, f"{what} edge/oracle")
            for e_hit, c_hit in zip(from_edge, from_client, strict=True):
                if e_hit.document_id == c_hit.document_id:
                    assert e_hit.payload == c_hit.payload and e_hit.snippet == c_hit.snippet, what
            non_empty += bool(from_edge)
    assert non_empty >= len(QUERIES) * len(FILTERS) * 0.9  # the filters leave something to rank


def test_hybrid_rrf_top_sets_agree(edge: VectorStore, client: VectorStore) -> None:
    for q, (dense, sparse) in enumerate(QUERIES):
        for f, filters in enumerate(FILTERS):
            what = f"hybrid query {q} filter {f}"
            from_edge = edge.search(dense, sparse, filters, 10, "hybrid")
            from_client = client.search(dense, sparse, filters, 10, "hybrid")
            _check_hits(from_edge, filters, what)
            _check_hits(from_client, filters, what)
            assert_same_top_set(Ranked.of(from_edge), Ranked.of(from_client), what)
            if filters == SearchFilters():
                assert len(from_edge) == 10
                # RRF with k=2: a chunk first in both lists scores 2 * 1/2.
                assert from_edge[0].score <= 1.0 + TOLERANCE


def test_hybrid_fuses_both_signals(edge: VectorStore) -> None:
    dense, sparse = QUERIES[0]
    top_dense = edge.search(dense, sparse, SearchFilters(), 1, "dense")[0].document_id
    top_sparse = edge.search(dense, sparse, SearchFilters(), 1, "sparse")[0].document_id
    hybrid = [h.document_id for h in edge.search(dense, sparse, SearchFilters(), 10, "hybrid")]
    assert top_dense in hybrid and top_sparse in hybrid


def test_counts_and_facets_agree_and_count_documents(edge: VectorStore, client: VectorStore) -> None:
    assert edge.count_points() == client.count_points() == len(POINTS)
    assert edge.count_documents() == client.count_documents() == len(DOCUMENT_IDS)
    heads = [p for p in POINTS if p.chunk.position == 0]
    for filters in (None, *FILTERS):
        for field in KEYWORD_FIELDS:
            from_edge = edge.facet(field, filters)
            assert from_edge == client.facet(field, filters), f"facet {field} {filters}"
            expected: dict[str, int] = {}
            for head in heads:
                if filters is not None and not matches(head, filters):
                    continue
                value = head.payload.get(field, head.chunk.document_id if field == "document_id" else None)
                if value is None:
                    continue  # a field a point does not have is no value of the facet
                for v in value if isinstance(value, list) else [value]:
                    expected[str(v)] = expected.get(str(v), 0) + 1
            assert from_edge == expected, f"facet {field} {filters}"


def test_document_heads_under_filters_agree_with_the_oracle(edge: VectorStore, client: VectorStore) -> None:
    heads = [p for p in POINTS if p.chunk.position == 0]
    for filters in (None, *FILTERS):
        expected = {h.chunk.document_id for h in heads if filters is None or matches(h, filters)}
        for store in (edge, client):
            found = [p["document_id"] for p in store.document_heads(("document_id", "title"), filters)]
            assert len(found) == len(set(found)) and set(found) == expected, f"document_heads {filters}"


def test_document_reads_agree(edge: VectorStore, client: VectorStore) -> None:
    hashes = edge.document_hashes()
    assert hashes == client.document_hashes()
    assert hashes == {p.chunk.document_id: p.payload["content_hash"] for p in POINTS}
    by_source = edge.document_hashes("regional")
    assert by_source == client.document_hashes("regional")
    regional = {p.chunk.document_id for p in POINTS if p.payload["source"] == "regional"}
    assert by_source and set(by_source) == regional
    for document_id in DOCUMENT_IDS[:10]:
        expected_ids = {p.chunk.point_id for p in POINTS if p.chunk.document_id == document_id}
        assert edge.point_ids(document_id) == client.point_ids(document_id) == expected_ids
        chunks = edge.get_document_chunks(document_id)
        assert chunks == client.get_document_chunks(document_id)
        assert [c["position"] for c in chunks] == list(range(len(expected_ids)))
        assert all(c["document_id"] == document_id and c["text"].startswith("passage") for c in chunks)


def test_deadlines_are_stored_as_iso_strings(edge: VectorStore, client: VectorStore) -> None:
    for point in POINTS[:40]:
        stored = edge.get_document_chunks(point.chunk.document_id)[0]["deadline"]
        assert stored == client.get_document_chunks(point.chunk.document_id)[0]["deadline"]
        original = point.payload["deadline"]
        assert stored == (original.isoformat() if isinstance(original, date) else original)


def test_after_deletes_both_backends_still_agree(tmp_path: Path, client: VectorStore) -> None:
    removed = DOCUMENT_IDS[::5]
    survivors = [p for p in POINTS if p.chunk.document_id not in removed]
    # A trailing passage, as a shortened document loses: a document's head passage (position 0) goes only with
    # the whole document, and count_documents counts heads.
    loose_point = next(p for p in survivors if p.chunk.position > 0).chunk.point_id
    with EdgeStore.begin_write(tmp_path / "edge") as writer:
        writer.ensure_schema(DIM)
        writer.upsert(POINTS)
    with EdgeStore.begin_write(tmp_path / "edge") as writer:
        for document_id in removed:
            writer.delete_document(document_id)
        writer.delete_points([loose_point])
    for document_id in removed:
        client.delete_document(document_id)
    client.delete_points([loose_point])
    edge = EdgeStore.open_reader(tmp_path / "edge")
    survivors = [p for p in survivors if p.chunk.point_id != loose_point]
    assert edge.count_points() == client.count_points() == len(survivors)
    assert edge.count_documents() == client.count_documents() == len(DOCUMENT_IDS) - len(removed)
    for dense, sparse in QUERIES:
        for mode in ("dense", "sparse"):
            hits = edge.search(dense, sparse, SearchFilters(), 10, mode)
            assert not {h.document_id for h in hits} & set(removed)
            from_client = client.search(dense, sparse, SearchFilters(), 10, mode)
            assert_same_ranking(Ranked.of(hits), Ranked.of(from_client), mode)
            expected = oracle(survivors, dense, sparse, SearchFilters(), 10, mode)
            assert_same_ranking(Ranked.of(hits), Ranked.of(expected), f"{mode} oracle")
    edge.close()


@pytest.mark.parametrize("backend", ["edge", "client"])
def test_caller_mistakes_raise_value_error(backend: str, request: pytest.FixtureRequest) -> None:
    store: VectorStore = request.getfixturevalue(backend)
    dense, sparse = QUERIES[0]
    with pytest.raises(ValueError, match="mode='sparse'"):
        store.search(None, sparse, SearchFilters(), 5, "hybrid")
    with pytest.raises(ValueError, match="mode='dense'"):
        store.search(dense, None, SearchFilters(), 5, "sparse")
    with pytest.raises(ValueError, match="Unknown search mode"):
        store.search(dense, sparse, SearchFilters(), 5, "fuzzy")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="limit"):
        store.search(dense, sparse, SearchFilters(), 0)
    with pytest.raises(ValueError, match="indexed fields"):
        store.facet("title")


def test_stored_dense_vectors_come_back_alike_from_both_backends(edge: VectorStore, client: VectorStore) -> None:
    import numpy as np

    hits = edge.search(QUERIES[0][0], QUERIES[0][1], SearchFilters(), 3, "hybrid")
    assert all(h.point_id for h in hits)
    ids = [h.point_id for h in hits] + ["00000000-0000-0000-0000-000000000000"]  # unknown ids are left out
    from_edge, from_client = edge.dense_vectors(ids), client.dense_vectors(ids)
    assert set(from_edge) == set(from_client) == {h.point_id for h in hits}
    stored = {p.chunk.point_id: np.asarray(p.dense) for p in POINTS}
    for point_id, vector in from_edge.items():
        expected = stored[point_id] / np.linalg.norm(stored[point_id])  # cosine collections keep unit vectors
        assert np.allclose(vector, expected, atol=1e-5) and np.allclose(from_client[point_id], expected, atol=1e-5)


# ------------------------------------------------------------------------------------------------------------
# Language legs (cross-lingual search)
# ------------------------------------------------------------------------------------------------------------


def _chunk_scores(points: Sequence[IndexedChunk], dense: list[float], sparse: SparseVector, name: str
                  ) -> dict[str, float]:
    idf = _idf(points)
    query = np.asarray(dense, dtype=np.float64) / np.linalg.norm(dense)
    weights = dict(zip(sparse.indices, sparse.values, strict=True))
    scores: dict[str, float] = {}
    for point in points:
        if name == "dense":
            vector = np.asarray(point.dense, dtype=np.float64)
            scores[point.chunk.point_id] = float(vector @ query / np.linalg.norm(vector))
        else:
            shared = [(t, v) for t, v in zip(point.sparse.indices, point.sparse.values, strict=True) if t in weights]
            if shared:
                scores[point.chunk.point_id] = sum(weights[t] * idf[t] * v for t, v in shared)
    return scores


def fused_oracle(dense: list[float], sparse: SparseVector, filters: SearchFilters, limit: int, mode: SearchMode,
                 languages: tuple[str, ...], fetch: int) -> list[tuple[str, float]]:
    """RRF (k=2, rank from 0) of one list of ``fetch`` chunks per vector and per language leg, the last leg taking
    every language not named before it; then each document's best chunk."""
    by_id = {p.chunk.point_id: p for p in POINTS}
    names = ("dense", "sparse") if mode == "hybrid" else (mode,)
    legs = [lambda p, lang=lang: p.payload["language"] == lang for lang in languages[:-1]]
    legs.append(lambda p: p.payload["language"] not in languages[:-1])
    fused: dict[str, float] = {}
    for name in names:
        scores = _chunk_scores(POINTS, dense, sparse, name)
        for leg in legs:
            ranked = sorted((pid for pid in scores if matches(by_id[pid], filters) and leg(by_id[pid])),
                            key=lambda pid: -scores[pid])[:fetch]
            for rank, pid in enumerate(ranked):
                fused[pid] = fused.get(pid, 0.0) + 1.0 / (2 + rank)
    best: dict[str, float] = {}
    for pid, score in sorted(fused.items(), key=lambda item: -item[1])[:fetch]:
        document_id = by_id[pid].chunk.document_id
        best.setdefault(document_id, score)
    return sorted(best.items(), key=lambda item: -item[1])[:limit]


@pytest.mark.parametrize("mode", ["hybrid", "dense", "sparse"])
def test_language_legs_fuse_one_list_per_language_on_both_backends(
    edge: VectorStore, client: VectorStore, mode: SearchMode
) -> None:
    languages = ("it", "en")
    for q, (dense, sparse) in enumerate(QUERIES):
        for f, filters in enumerate(FILTERS):
            what = f"{mode} legs query {q} filter {f}"
            from_edge = edge.search(dense, sparse, filters, 10, mode, languages=languages)
            from_client = client.search(dense, sparse, filters, 10, mode, languages=languages)
            _check_hits(from_edge, filters, what)
            _check_hits(from_client, filters, what)
            assert_same_top_set(Ranked.of(from_edge), Ranked.of(from_client), f"{what} edge/client")
            expected = fused_oracle(dense, sparse, filters, 10, mode, languages, 10 * edge.chunk_oversampling)
            assert_same_top_set(Ranked.of(from_edge), Ranked.of(expected), f"{what} edge/oracle")


def test_language_legs_give_each_language_its_best_document(edge: VectorStore) -> None:
    """The best English document of a query ranks among the first whatever the Italian ones score, and a single
    language (or none) searches as before."""
    for dense, sparse in QUERIES:
        english = SearchFilters(language="en")
        best_english = edge.search(dense, sparse, english, 1, "dense")[0].document_id
        legs = [h.document_id for h in edge.search(dense, sparse, SearchFilters(), 4, "dense", languages=("it", "en"))]
        assert best_english in legs[:2]
        plain = edge.search(dense, sparse, SearchFilters(), 10, "hybrid")
        one_language = edge.search(dense, sparse, SearchFilters(), 10, "hybrid", languages=("it",))
        assert_same_top_set(Ranked.of(one_language), Ranked.of(plain), "one language is no legs")


def test_search_per_language_returns_cosines_per_leg(edge: VectorStore, client: VectorStore) -> None:
    for q, (dense, sparse) in enumerate(QUERIES):
        for f, filters in enumerate(f for f in FILTERS[:7] if f.language is None):
            legs_edge = edge.search_per_language(dense, filters, 5, ("it", "en"))
            legs_client = client.search_per_language(dense, filters, 5, ("it", "en"))
            for language, from_edge, from_client in zip(("it", "en"), legs_edge, legs_client, strict=True):
                what = f"per-language {language} query {q} filter {f}"
                expected = oracle(POINTS, dense, sparse, dataclasses.replace(filters, language=language), 5, "dense")
                assert_same_ranking(Ranked.of(from_edge), Ranked.of(expected), what)
                assert_same_ranking(Ranked.of(from_client), Ranked.of(expected), what)
