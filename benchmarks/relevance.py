"""Relevance of search and match: funded PNRR projects -> the sub-measure that funded them.

Development set: projects that ``is_holdout`` selects (one in ten, by a hash of the CUP) are never used as
examples in the measures' text; their title and synthesis are the queries, and the right answer is the
project's sub-measure (``pnrr-measure:<code>``). The index holds the 285 measures only. Reports MRR and
Recall@1/@10 for BM25, dense and hybrid, the full match path (``ConvergenceService.match``, what
``POST /v1/match`` runs), and the same with the measures indexed without funded-project examples, to show what
that evidence is worth. Each search mode runs twice, interleaved: as it is (cross-lingual: language legs and the
glossary) and as it was before ("before": one list per retriever, no glossary), which must lose nothing here.

The funded projects as supervision (``matching/supervision.py``): with an index that holds the funded projects
(``--projects``, by default the one under ``CONVERGENZE_DATA``), the sub-measures of the projects nearest to each
query vote and the vote is fused into the hybrid ranking. Measured on this set and on a wider one: every held-out
project (distinct text) of every sub-measure with at least ``--min-held-out`` of them, split per sub-measure
into a development half (the vote's settings are tuned there, on a grid) and a test half (reported, never
tuned on). Held-out projects never vote.

    python benchmarks/relevance.py [--per-measure 15] [--max-queries 500] [--examples-only] [--projects DIR]
"""

from __future__ import annotations

import argparse
import dataclasses
import hashlib
import itertools
import random
import tempfile
import time
from collections import Counter, defaultdict
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pandas as pd

from convergenze.core.embedding import DelegatingEmbedder, Embedder
from convergenze.core.holdout import is_holdout
from convergenze.core.records import Document, Hit, SearchFilters
from convergenze.core.settings import DataSettings, EmbeddingSettings
from convergenze.core.vocabulary import DocType, SearchMode
from convergenze.corpora.registry import SourceResolver, build_connector, load_sources, select_sources
from convergenze.extractors.gazetteer import default_gazetteer
from convergenze.extractors.language import LanguageTagger
from convergenze.index.embeddings import create_embedder
from convergenze.index.indexer import Indexer
from convergenze.index.search import MONOLINGUAL, SearchService
from convergenze.index.sparse import Bm25SparseEncoder
from convergenze.index.store.base import VectorStore
from convergenze.index.store.edge import EdgeStore
from convergenze.matching.catalog import Catalog
from convergenze.matching.catalog_build import CatalogBuilder
from convergenze.matching.explain import Explainer
from convergenze.matching.service import ConvergenceService
from convergenze.matching.supervision import ProjectVote, VoteConfig, Voter, fuse, tally

Pair = tuple[str, str]  # (query text, the right document id)
PROJECT_COLUMNS = ["CUP", "Codice Univoco Submisura", "Titolo progetto", "Sintesi progetto"]
# The vote's grid, searched on the development split of the wider set.
GRID_NEIGHBOURS = (10, 25, 50)
GRID_TEMPERATURE = (0.01, 0.02, 0.05, 1.0)
GRID_RANK_CONSTANT = (1, 5, 20, 60)
GRID_WEIGHT = (0.02, 0.05, 0.1, 0.2, 0.5, 1.0)
POOL = 50  # candidates the vote re-ranks: what the match path fetches


def _held_out_texts(corpora: Path) -> dict[str, list[tuple[str, str]]]:
    """``sub-measure -> [(CUP, title - synthesis)]`` of the held-out projects, each distinct text once."""
    frame = pd.read_parquet(corpora / "italia-domani/PNRR_Progetti_validati.parquet", columns=PROJECT_COLUMNS)
    by_measure: dict[str, list[tuple[str, str]]] = defaultdict(list)
    seen: set[str] = set()
    for cup, code, title, synthesis in frame.itertuples(index=False):
        if not isinstance(cup, str) or not isinstance(code, str) or not is_holdout(cup):
            continue
        text = " - ".join(str(x) for x in (title, synthesis) if isinstance(x, str) and x.strip())
        if text and text.lower() not in seen:
            seen.add(text.lower())
            by_measure[code].append((cup, text))
    return by_measure


def dev_set(corpora: Path, per_measure: int, max_queries: int, seed: int = 13) -> list[Pair]:
    by_measure = {code: [text for _, text in rows] for code, rows in _held_out_texts(corpora).items()}
    rng = random.Random(seed)
    pairs = []
    for code in sorted(by_measure):
        texts = by_measure[code]
        rng.shuffle(texts)
        pairs += [(t, f"pnrr-measure:{code}") for t in texts[:per_measure]]
    rng.shuffle(pairs)
    return pairs[:max_queries]


def wider_set(corpora: Path, min_held_out: int, per_measure: int = 0) -> tuple[list[Pair], list[Pair]]:
    """(development, test): every held-out project of every sub-measure with at least ``min_held_out`` of them,
    each sub-measure's projects ordered by a hash of the CUP and dealt alternately to test and development, so
    that both halves hold every sub-measure the set holds; ``per_measure`` (0: all) caps each half."""
    dev: list[Pair] = []
    test: list[Pair] = []
    for code, rows in sorted(_held_out_texts(corpora).items()):
        if len(rows) < min_held_out:
            continue
        rows = sorted(rows, key=lambda row: hashlib.sha1(f"split:{row[0]}".encode()).hexdigest())
        if per_measure:
            rows = rows[:2 * per_measure]
        for i, (_, text) in enumerate(rows):
            (test if i % 2 == 0 else dev).append((text, f"pnrr-measure:{code}"))
    return dev, test


def supervision_sizes(corpora: Path) -> Counter[str]:
    """Funded projects per sub-measure that may vote (the held-out ones never do)."""
    frame = pd.read_parquet(corpora / "italia-domani/PNRR_Progetti_validati.parquet", columns=PROJECT_COLUMNS[:2])
    frame = frame.dropna().drop_duplicates("CUP")
    return Counter(code for cup, code in frame.itertuples(index=False) if not is_holdout(cup))


class QueryCache(DelegatingEmbedder):
    """The benchmark's embedder with each query embedded once (every mode, leg and the match path ask for the same
    vector), kept in ``path`` between runs when given: the figures are the same, the model runs once per text."""

    def __init__(self, inner: Embedder, path: Path | None) -> None:
        super().__init__(inner)
        self.path = path
        self.vectors: dict[str, np.ndarray] = {}
        if path is not None and path.is_file():
            with np.load(path) as saved:
                if str(saved["name"]) == inner.name:
                    self.vectors = dict(zip((str(t) for t in saved["texts"]), saved["vectors"], strict=True))

    def embed_queries(self, texts: Sequence[str]) -> np.ndarray:
        missing = [t for t in dict.fromkeys(texts) if t not in self.vectors]
        if missing:
            self.vectors.update(zip(missing, self.inner.embed_queries(missing), strict=True))
        return np.stack([self.vectors[t] for t in texts]) if texts else self.inner.embed_queries([])

    def save(self) -> None:
        if self.path is not None and self.vectors:
            texts = list(self.vectors)
            vectors = np.stack([self.vectors[t] for t in texts])
            np.savez(self.path, name=self.name, texts=np.array(texts), vectors=vectors)


def sample_projects(data: DataSettings, embedder: Embedder, root: Path, share: int) -> None:
    """An index of one funded project in ``share`` (by a hash of the CUP; held-out ones left out), for a vote
    measured where the whole corpus is not indexed: a smaller supervision than the index's, never a larger one."""
    (spec,) = select_sources(load_sources(), ["pnrr-projects"])
    files = SourceResolver(data.corpora_dir, data.data_dir / "cache", allow_download=False).resolve(spec)
    tagger = LanguageTagger()
    documents = [tagger.run(d) for d in build_connector(spec, files).run().documents
                 if not is_holdout(str(d.metadata["cup"]))
                 and int(hashlib.md5(str(d.metadata["cup"]).encode()).hexdigest()[:8], 16) % share == 0]
    for start in range(0, len(documents), 500):  # committed in slices: an interrupted build keeps what is done
        with EdgeStore.begin_write(root) as writer:
            writer.ensure_schema(embedder.dim)
            Indexer(embedder, Bm25SparseEncoder()).run(documents[start:start + 500], writer, label="projects")


def measures(data: DataSettings, with_examples: bool) -> list[Document]:
    (spec,) = select_sources(load_sources(), ["pnrr-measures"])
    if not with_examples:
        spec = dataclasses.replace(spec, files={k: v for k, v in spec.files.items() if k != "projects"})
    files = SourceResolver(data.corpora_dir, data.data_dir / "cache", allow_download=False).resolve(spec)
    tagger = LanguageTagger()
    return [tagger.run(d) for d in build_connector(spec, files).run().documents]


def _figures(rankings: list[tuple[list[str], str]], seconds: float) -> dict[str, float]:
    """MRR, Recall@1 and Recall@10 of ``(ranked ids, right id)`` pairs, the MRR averaged per right answer
    (macro: each sub-measure weighs the same), and the time per query."""
    n = len(rankings)
    reciprocal = [1 / (ranked[:10].index(target) + 1) if target in ranked[:10] else 0.0 for ranked, target in rankings]
    per_target: dict[str, list[float]] = defaultdict(list)
    for (_, target), rr in zip(rankings, reciprocal, strict=True):
        per_target[target].append(rr)
    return {"mrr": sum(reciprocal) / n, "r@1": sum(rr == 1 for rr in reciprocal) / n,
            "r@10": sum(rr > 0 for rr in reciprocal) / n, "ms/query": 1000 * seconds / n,
            "macro": sum(sum(v) / len(v) for v in per_target.values()) / len(per_target)}


def evaluate(service: SearchService, queries: list[Pair], mode: str) -> dict[str, float]:
    filters = SearchFilters(types=("measure",))
    started = time.perf_counter()
    rankings = [([h.document_id for h in service.match(text, filters, limit=10, mode=mode)], target)  # type: ignore[arg-type]
                for text, target in queries]
    return _figures(rankings, time.perf_counter() - started)


def evaluate_match(service: ConvergenceService, queries: list[Pair]) -> dict[str, float]:
    """The full ``POST /v1/match`` path (no profile: eligibility can only demote closed calls)."""
    filters = SearchFilters(types=("measure",))
    started = time.perf_counter()
    rankings = [([i.hit.document_id for i in service.match(text, filters=filters, limit=10, explain=False).items],
                 target) for text, target in queries]
    return _figures(rankings, time.perf_counter() - started)


# --- the funded projects' vote ------------------------------------------------------------------------------

@dataclasses.dataclass(frozen=True, slots=True)
class Case:
    """One query, retrieved once: the hybrid pool and the nearest funded projects that may vote."""

    target: str
    pool: list[Hit]
    voters: list[Voter]


def cases(service: SearchService, vote: ProjectVote, queries: list[Pair]) -> list[Case]:
    filters = SearchFilters(types=("measure",))
    found = []
    for text, target in queries:
        vector = service.embed(text)
        pool = service.retrieve(text, filters, POOL, SearchMode.HYBRID, vector)
        found.append(Case(target, pool, vote.voters(vector, max(GRID_NEIGHBOURS))))
    return found


def ranked(case: Case, config: VoteConfig | None) -> list[str]:
    """The top 10 of a case: the hybrid pool as it is (``None``), or fused with the vote."""
    if config is None:
        return [h.document_id for h in case.pool[:10]]
    shares = tally(case.voters, config.neighbours, config.temperature)
    return [h.document_id for h in fuse(case.pool, shares, config.weight, config.rank_constant)[:10]]


def vote_alone(case: Case, config: VoteConfig) -> list[str]:
    shares = tally(case.voters, config.neighbours, config.temperature)
    return [f"pnrr-measure:{code}" for code, _ in sorted(shares.items(), key=lambda kv: -kv[1])[:10]]


def score(found: list[Case], config: VoteConfig | None) -> dict[str, float]:
    return _figures([(ranked(c, config), c.target) for c in found], 0.0)


def tune(found: list[Case]) -> tuple[VoteConfig, dict[str, float]]:
    """The grid's best configuration on ``found`` (the development split), by the mean of MRR and macro MRR."""
    grid = [VoteConfig(neighbours=k, temperature=t, weight=w, rank_constant=c) for k, t, c, w in
            itertools.product(GRID_NEIGHBOURS, GRID_TEMPERATURE, GRID_RANK_CONSTANT, GRID_WEIGHT)]
    scored = [(config, score(found, config)) for config in grid]
    return max(scored, key=lambda item: (item[1]["mrr"] + item[1]["macro"]) / 2)


def projects_store(root: Path, embedder_name: str) -> VectorStore | None:
    """The index whose funded projects vote, or None (with a note) when it has none or another embedder's."""
    if not root.exists():
        print(f"no index at {root}: the funded projects' vote is not measured (pass --projects)\n")
        return None
    store = EdgeStore.open_reader(root)
    heads = store.document_heads(("embedder",), SearchFilters(types=(DocType.PROJECT,)))
    first = next(iter(heads), None)
    if first is None or first.get("embedder") != embedder_name:
        print(f"{root} holds no funded projects embedded by {embedder_name}: the vote is not measured\n")
        store.close()
        return None
    return store


def _row(label: str, shown: str, figures: dict[str, float], baseline: dict[str, float] | None = None) -> str:
    ratio = f"   x{figures['mrr'] / max(baseline['mrr'], 1e-9):.3f}" if baseline else ""
    return (f"{label:<30}{shown:<24}{figures['mrr']:>7.3f}{figures['r@1']:>7.3f}{figures['r@10']:>7.3f}"
            f"{figures['macro']:>8.3f}{ratio}")


def report_vote(label: str, sets: dict[str, list[Case]], config: VoteConfig, sizes: Counter[str]) -> None:
    print(f"\n{label}: the funded projects' vote ({config})")
    print(f"{'set':<30}{'ranking':<24}{'MRR':>7}{'R@1':>7}{'R@10':>7}{'macroMRR':>8}   MRR vs hybrid")
    for name, found in sets.items():
        base = score(found, None)
        print(_row(f"{name} ({len(found)})", "hybrid (pool of 50)", base))
        print(_row("", "hybrid + vote", score(found, config), base))
        print(_row("", "vote alone", _figures([(vote_alone(c, config), c.target) for c in found], 0.0), base))
    test = sets.get("wider: test")
    if not test:
        return
    print("test split by how many funded projects may vote for the right sub-measure:")
    for low, high in ((1000, 10**9), (100, 999), (0, 99)):
        part = [c for c in test if low <= sizes[c.target.split(":", 1)[1]] <= high]
        if part:
            base = score(part, None)
            print(_row(f"  {low}-{high if high < 10**9 else ''} projects ({len(part)})", "hybrid -> + vote", base))
            print(_row("", "", score(part, config), base))


def evaluate_index(label: str, store: VectorStore, embedder: Embedder, catalog: Path, args: argparse.Namespace,
                   sets: dict[str, list[Pair]], results: dict[tuple[str, str], dict[str, float]],
                   vote: ProjectVote | None, tuned: VoteConfig | None) -> VoteConfig | None:
    """Every figure on one index of measures; the vote's configuration (tuned here on the first index)."""
    sparse = Bm25SparseEncoder()
    queries = sets["old set"]
    service = SearchService(store, embedder, sparse)
    # Before cross-lingual retrieval (one list per retriever, no glossary), interleaved with it.
    before = SearchService(store, embedder, sparse, crosslingual=MONOLINGUAL)
    for mode in [SearchMode.HYBRID] if args.vote_only else list(SearchMode):
        if not args.vote_only:
            results[(label, f"{mode} before")] = evaluate(before, queries, mode)
        results[(label, mode)] = evaluate(service, queries, mode)
    if vote is not None:
        found = {name: cases(service, vote, pairs) for name, pairs in sets.items()
                 if tuned is None or "dev" not in name}
        if tuned is None:
            tuned, dev_figures = tune(found["wider: dev"])
            print(f"tuned on the development split: {tuned} (dev MRR {dev_figures['mrr']:.3f}, "
                  f"macro {dev_figures['macro']:.3f})")
        report_vote(label, found, tuned, supervision_sizes(args.corpora))
    if catalog.is_file():
        convergence = ConvergenceService(service, Catalog(catalog), Explainer(embedder), default_gazetteer(),
                                         projects_per_hit=0)
        voting = dataclasses.replace(tuned) if vote is not None and tuned is not None else None
        wider = sets["wider: test"] if voting and args.match_wider else []
        for name, pairs in (("", queries), (" wider test", wider)):
            if not pairs:
                continue
            results[(label, f"match{name}")] = evaluate_match(convergence, pairs)
            if vote is not None and voting is not None:  # interleaved with the match as it is
                convergence.vote = ProjectVote(vote.store, voting)
                results[(label, f"match{name} + vote")] = evaluate_match(convergence, pairs)
                convergence.vote = None
    return tuned


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--per-measure", type=int, default=15)
    parser.add_argument("--max-queries", type=int, default=500)
    parser.add_argument("--examples-only", action="store_true", help="skip the index of measure text only")
    parser.add_argument("--index", type=Path, default=None,
                        help="rank the measures of this Edge index (.../index/edge) instead of indexing them here")
    parser.add_argument("--projects", type=Path, default=None,
                        help="an Edge index holding the funded projects that vote (default: --index, else the one "
                             "under CONVERGENZE_DATA)")
    parser.add_argument("--sample-projects", type=int, default=0, metavar="N",
                        help="build --projects first from one funded project in N (when the index has none)")
    parser.add_argument("--min-held-out", type=int, default=2,
                        help="held-out projects a sub-measure needs to enter the wider set (one per split)")
    parser.add_argument("--wide-per-measure", type=int, default=0,
                        help="at most this many queries per sub-measure and split in the wider set (0: all)")
    parser.add_argument("--query-cache", type=Path, default=None, help="keep the query vectors in this .npz")
    parser.add_argument("--cached-only", action="store_true",
                        help="only the queries --query-cache already holds (a loaded machine: the printed counts say "
                             "how many; the cache is filled in a random order of the sets)")
    parser.add_argument("--vote-only", action="store_true", help="skip the BM25/dense/before comparisons")
    parser.add_argument("--match-wider", action="store_true", help="the match path on the wider test split too")
    args = parser.parse_args()
    data = DataSettings()
    args.corpora = data.corpora_dir
    queries = dev_set(data.corpora_dir, args.per_measure, args.max_queries)
    wide_dev, wide_test = wider_set(data.corpora_dir, args.min_held_out, args.wide_per_measure)
    embedder = QueryCache(create_embedder(EmbeddingSettings(), data), args.query_cache)
    if args.cached_only:
        queries, wide_dev, wide_test = ([p for p in pairs if p[0] in embedder.vectors]
                                        for pairs in (queries, wide_dev, wide_test))
    sets = {"old set": queries, "wider: dev": wide_dev, "wider: test": wide_test}
    print(
        f"{len(queries)} held-out funded projects over {len({t for _, t in queries})} sub-measures\n"
        f"wider set: {len(wide_dev)} development / {len(wide_test)} test held-out projects over "
        f"{len({t for _, t in wide_test})} sub-measures (at least {args.min_held_out} held-out projects each)\n"
    )
    projects_root = args.projects or args.index or data.index_dir / "edge"
    if args.sample_projects and not projects_root.exists():
        sample_projects(data, embedder, projects_root, args.sample_projects)
    projects = projects_store(projects_root, embedder.name)
    vote = ProjectVote(projects) if projects is not None else None
    tuned: VoteConfig | None = None
    results: dict[tuple[str, str], dict[str, float]] = {}
    try:
        if args.index is not None:
            store = EdgeStore.open_reader(args.index)
            label = f"index {args.index.parent.parent.name}"
            # The catalog sits beside the index in a data dir (<data>/index/edge, <data>/catalog.sqlite).
            evaluate_index(label, store, embedder, args.index.parent.parent / "catalog.sqlite", args, sets,
                           results, vote, tuned)
            store.close()
        else:
            indexes = (("measures + funded examples", True), ("measures text only", False))
            for label, with_examples in indexes[:1] if args.examples_only else indexes:
                with tempfile.TemporaryDirectory() as tmp:
                    root = Path(tmp) / "edge"
                    with EdgeStore.begin_write(root) as writer:
                        writer.ensure_schema(embedder.dim)
                        Indexer(embedder, Bm25SparseEncoder()).run(measures(data, with_examples), writer, label=label)
                    store = EdgeStore.open_reader(root)
                    if with_examples:
                        CatalogBuilder(Path(tmp) / "catalog.sqlite").run(store)
                    tuned = evaluate_index(label, store, embedder, Path(tmp) / "catalog.sqlite", args, sets,
                                           results, vote, tuned)
                    store.close()
    finally:
        embedder.save()
        if projects is not None:
            projects.close()
    baseline_key = next(k for k in results if k[1] in ("sparse before", SearchMode.HYBRID))
    for key in results:
        if key[1] == "sparse before":
            baseline_key = key  # BM25 on the last index (the measure text only, when it was measured)
    baseline = results[baseline_key]
    print(f"\n{'index':<30}{'mode':<24}{'MRR':>7}{'R@1':>7}{'R@10':>7}{'macroMRR':>8}   MRR vs {baseline_key}")
    for (label, shown), figures in results.items():
        print(_row(label, str(shown), figures, baseline) + f"   {figures['ms/query']:.1f} ms/q")


if __name__ == "__main__":
    main()
