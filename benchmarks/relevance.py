"""Relevance of search and match: funded PNRR projects -> the sub-measure that funded them.

Development set: projects that ``is_holdout`` selects (one in ten, by a hash of the CUP) are never used as
examples in the measures' text; their title and synthesis are the queries, and the right answer is the
project's sub-measure (``pnrr-measure:<code>``). The index holds the 285 measures only. Reports MRR and
Recall@1/@10 for BM25, dense and hybrid, the full match path (``ConvergenceService.match``, what
``POST /v1/match`` runs), and the same with the measures indexed without funded-project examples, to show what
that evidence is worth. Each search mode runs twice, interleaved: as it is (cross-lingual: language legs and the
glossary) and as it was before ("before": one list per retriever, no glossary), which must lose nothing here.

    python benchmarks/relevance.py [--per-measure 15] [--max-queries 500] [--examples-only]
"""

from __future__ import annotations

import argparse
import dataclasses
import random
import tempfile
import time
from collections import defaultdict
from pathlib import Path

import pandas as pd

from convergenze.core.records import Document, SearchFilters
from convergenze.core.settings import DataSettings, EmbeddingSettings
from convergenze.core.vocabulary import SearchMode
from convergenze.corpora.connectors.italia_domani import is_holdout
from convergenze.corpora.registry import SourceResolver, build_connector, load_sources, select_sources
from convergenze.extractors.gazetteer import default_gazetteer
from convergenze.extractors.language import LanguageTagger
from convergenze.index.embeddings import create_embedder
from convergenze.index.indexer import Indexer
from convergenze.index.search import MONOLINGUAL, SearchService
from convergenze.index.sparse import Bm25SparseEncoder
from convergenze.index.store.edge import EdgeStore
from convergenze.matching.catalog import Catalog
from convergenze.matching.catalog_build import CatalogBuilder
from convergenze.matching.explain import Explainer
from convergenze.matching.service import ConvergenceService


def dev_set(corpora: Path, per_measure: int, max_queries: int, seed: int = 13) -> list[tuple[str, str]]:
    columns = ["CUP", "Codice Univoco Submisura", "Titolo progetto", "Sintesi progetto"]
    frame = pd.read_parquet(corpora / "italia-domani/PNRR_Progetti_validati.parquet", columns=columns)
    by_measure: dict[str, list[str]] = defaultdict(list)
    seen: set[str] = set()
    for cup, code, title, synthesis in frame.itertuples(index=False):
        if not isinstance(cup, str) or not isinstance(code, str) or not is_holdout(cup):
            continue
        text = " - ".join(str(x) for x in (title, synthesis) if isinstance(x, str) and x.strip())
        if text and text.lower() not in seen:
            seen.add(text.lower())
            by_measure[code].append(text)
    rng = random.Random(seed)
    pairs = []
    for code in sorted(by_measure):
        texts = by_measure[code]
        rng.shuffle(texts)
        pairs += [(t, f"pnrr-measure:{code}") for t in texts[:per_measure]]
    rng.shuffle(pairs)
    return pairs[:max_queries]


def measures(data: DataSettings, with_examples: bool) -> list[Document]:
    (spec,) = select_sources(load_sources(), ["pnrr-measures"])
    if not with_examples:
        spec = dataclasses.replace(spec, files={k: v for k, v in spec.files.items() if k != "projects"})
    files = SourceResolver(data.corpora_dir, data.data_dir / "cache", allow_download=False).resolve(spec)
    tagger = LanguageTagger()
    return [tagger.run(d) for d in build_connector(spec, files).run().documents]


def _figures(rankings: list[tuple[list[str], str]], seconds: float) -> dict[str, float]:
    """MRR, Recall@1 and Recall@10 of ``(ranked ids, right id)`` pairs, and the time per query."""
    ranks = [ranked.index(target) + 1 for ranked, target in rankings if target in ranked[:10]]
    n = len(rankings)
    return {"mrr": sum(1 / r for r in ranks) / n, "r@1": sum(r == 1 for r in ranks) / n, "r@10": len(ranks) / n,
            "ms/query": 1000 * seconds / n}


def evaluate(service: SearchService, queries: list[tuple[str, str]], mode: str) -> dict[str, float]:
    filters = SearchFilters(types=("measure",))
    started = time.perf_counter()
    rankings = [([h.document_id for h in service.match(text, filters, limit=10, mode=mode)], target)  # type: ignore[arg-type]
                for text, target in queries]
    return _figures(rankings, time.perf_counter() - started)


def evaluate_match(service: ConvergenceService, queries: list[tuple[str, str]]) -> dict[str, float]:
    """The full ``POST /v1/match`` path (no profile: eligibility can only demote closed calls)."""
    filters = SearchFilters(types=("measure",))
    started = time.perf_counter()
    rankings = [([i.hit.document_id for i in service.match(text, filters=filters, limit=10, explain=False).items],
                 target) for text, target in queries]
    return _figures(rankings, time.perf_counter() - started)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--per-measure", type=int, default=15)
    parser.add_argument("--max-queries", type=int, default=500)
    parser.add_argument("--examples-only", action="store_true", help="skip the index of measure text only")
    args = parser.parse_args()
    data = DataSettings()
    queries = dev_set(data.corpora_dir, args.per_measure, args.max_queries)
    embedder = create_embedder(EmbeddingSettings(), data)
    sparse = Bm25SparseEncoder()
    print(
        f"{len(queries)} held-out funded projects over {len({t for _, t in queries})} sub-measures "
        f"(index: the 285 PNRR sub-measures)\n"
    )
    results: dict[tuple[str, str], dict[str, float]] = {}
    indexes = (("measures + funded examples", True), ("measures text only", False))
    for label, with_examples in indexes[:1] if args.examples_only else indexes:
        with tempfile.TemporaryDirectory() as tmp:
            root = Path(tmp) / "edge"
            with EdgeStore.begin_write(root) as writer:
                writer.ensure_schema(embedder.dim)
                Indexer(embedder, sparse).run(measures(data, with_examples), writer, label=label)
            store = EdgeStore.open_reader(root)
            service = SearchService(store, embedder, sparse)
            # Before cross-lingual retrieval (one list per retriever, no glossary), interleaved with it.
            before = SearchService(store, embedder, sparse, crosslingual=MONOLINGUAL)
            for mode in SearchMode:
                results[(label, f"{mode} before")] = evaluate(before, queries, mode)
                results[(label, mode)] = evaluate(service, queries, mode)
            if with_examples:
                CatalogBuilder(Path(tmp) / "catalog.sqlite").run(store)
                convergence = ConvergenceService(service, Catalog(Path(tmp) / "catalog.sqlite"),
                                                 Explainer(embedder), default_gazetteer(), projects_per_hit=0)
                results[(label, "match")] = evaluate_match(convergence, queries)
            store.close()
    baseline = results[(indexes[-1][0] if not args.examples_only else indexes[0][0], "sparse before")]
    print(f"{'index':<28}{'mode':<15}{'MRR':>7}{'R@1':>7}{'R@10':>7}{'ms/q':>7}   MRR vs BM25 on text only")
    for (label, shown), figures in results.items():
        print(
            f"{label:<28}{shown:<15}{figures['mrr']:>7.3f}{figures['r@1']:>7.3f}{figures['r@10']:>7.3f}"
            f"{figures['ms/query']:>7.1f}   x{figures['mrr'] / max(baseline['mrr'], 1e-9):.2f}"
        )


if __name__ == "__main__":
    main()
