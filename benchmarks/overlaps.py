"""Overlap detection against a check built from official data: funded projects of the same PNRR sub-measure
in the same municipality are duplicates of each other's aim.

Index: every funded project located in a sample of municipalities (those with 25 to 150 projects), except the
held-out ones (``is_holdout``, one CUP in ten), enriched and labelled as the ingestion does, and the catalog
built from that index. Queries: the held-out projects of those municipalities, as a programme description
(title and synthesis) with the project's municipality and its implementer's actor type as the profile.
Truth: the indexed projects with the query's sub-measure and municipality. Reported: precision and recall of
the ``overlap`` group (projects only) at several similarity thresholds (the default marked; it was chosen on
``--seed 7`` and is reported on another seed), and two baselines: every candidate in the same municipality
above the similarity floor, and the nearest k projects in the municipality (k = the size of the truth set, an
oracle on the count that no real system has).

    python benchmarks/overlaps.py [--municipalities 20] [--max-queries 150]
"""

from __future__ import annotations

import argparse
import random
import tempfile
import time
from collections import defaultdict
from pathlib import Path

from convergenze.core.records import Document, SearchFilters
from convergenze.core.settings import DataSettings, EmbeddingSettings
from convergenze.corpora.connectors.italia_domani import is_holdout
from convergenze.corpora.registry import SourceResolver, build_connector, load_sources, select_sources
from convergenze.extractors.enrich import Enricher
from convergenze.extractors.gazetteer import default_gazetteer
from convergenze.index.embeddings import create_embedder
from convergenze.index.indexer import Indexer
from convergenze.index.mission_examples import mission_labeller
from convergenze.index.search import SearchService
from convergenze.index.sparse import Bm25SparseEncoder
from convergenze.index.store.edge import EdgeStore
from convergenze.matching.actors import actor_type, actor_type_from_tax_code, clean_tax_code
from convergenze.matching.catalog import Catalog
from convergenze.matching.catalog_build import CatalogBuilder
from convergenze.matching.explain import Explainer
from convergenze.matching.service import ConvergenceService


def _town_of(metadata: dict) -> str | None:
    """The project's municipality when it has exactly one (projects in one municipality: a clear truth)."""
    places = [p for p in metadata.get("places") or [] if isinstance(p, dict)]
    towns = {p.get("municipality") for p in places if p.get("municipality")}
    return next(iter(towns)) if len(towns) == 1 else None


def _town(document: Document) -> str | None:
    return _town_of(document.metadata)


def projects(data: DataSettings, municipalities: int, seed: int) -> tuple[list[Document], list[Document]]:
    (spec,) = select_sources(load_sources(), ["pnrr-projects"])
    files = SourceResolver(data.corpora_dir, data.data_dir / "cache", allow_download=False).resolve(spec)
    every = [d for d in build_connector(spec, files).run().documents if _town(d)]
    by_town: dict[str, list[Document]] = defaultdict(list)
    for document in every:
        by_town[str(_town(document))].append(document)
    eligible = sorted(t for t, docs in by_town.items() if 25 <= len(docs) <= 150)
    chosen = random.Random(seed).sample(eligible, min(municipalities, len(eligible)))
    picked = [d for t in chosen for d in by_town[t]]
    held = [d for d in picked if is_holdout(str(d.metadata.get("cup")))]
    return [d for d in picked if d not in held], held


def _scores(predicted: set[str], truth: set[str]) -> tuple[int, int, int]:
    return len(predicted & truth), len(predicted - truth), len(truth - predicted)


def _prf(tp: int, fp: int, fn: int) -> tuple[float, float, float]:
    precision = tp / (tp + fp) if tp + fp else 0.0
    recall = tp / (tp + fn) if tp + fn else 0.0
    return precision, recall, 2 * precision * recall / (precision + recall) if precision + recall else 0.0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--municipalities", type=int, default=20)
    parser.add_argument("--max-queries", type=int, default=150)
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()
    data = DataSettings()
    indexed, held = projects(data, args.municipalities, args.seed)
    truth_of: dict[str, set[str]] = {}
    for query in held:
        codes = set(query.metadata.get("submeasure_codes") or [])
        truth_of[query.id] = {d.id for d in indexed if _town(d) == _town(query)
                              and codes & set(d.metadata.get("submeasure_codes") or [])}
    queries = [q for q in held if truth_of[q.id]][: args.max_queries]
    print(f"{len(indexed)} indexed projects in {args.municipalities} municipalities; {len(queries)} held-out "
          f"queries with {sum(len(truth_of[q.id]) for q in queries)} true overlaps\n")
    embedder = create_embedder(EmbeddingSettings(), data)
    sparse = Bm25SparseEncoder()
    enricher = Enricher()
    labeller = mission_labeller(embedder, data)  # as the ingestion labels: examples' vote included
    thresholds = (0.84, 0.86, 0.88, 0.90, 0.92)
    names = ("same town", "nearest k", *(f"overlap >= {t:.2f}" for t in thresholds))
    counts: dict[str, list[int]] = {name: [0, 0, 0] for name in names}
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp) / "edge"
        with EdgeStore.begin_write(root) as writer:
            writer.ensure_schema(embedder.dim)
            Indexer(embedder, sparse, labeller=labeller).run([enricher.run(d) for d in indexed], writer,
                                                             label="projects")
        store = EdgeStore.open_reader(root)
        CatalogBuilder(Path(tmp) / "catalog.sqlite").run(store)
        search = SearchService(store, embedder, sparse)
        service = ConvergenceService(search, Catalog(Path(tmp) / "catalog.sqlite"),
                                     Explainer(embedder, store, labeller), default_gazetteer())
        finder = service.overlaps_finder
        configured = finder.overlap_similarity
        # Every candidate that passes the other three axes, with its score: thresholds are applied afterwards.
        finder.overlap_similarity = finder.min_similarity
        started = time.perf_counter()
        for query in queries:
            body = query.metadata.get("implementing_body") or ""
            kind = actor_type(body) or actor_type_from_tax_code(
                clean_tax_code(query.metadata.get("implementing_body_tax_code")))
            # Title and synthesis only: the rest of a project's text names its sub-measure, the answer.
            text = "\n".join(query.text.splitlines()[:2])
            result = service.overlaps(text, actor_type=kind, municipality=_town(query), types=("project",),
                                      limit=50)
            truth = truth_of[query.id]
            vector = embedder.embed_queries([text])[0].tolist()
            candidates = search.store.search(vector, None, SearchFilters(types=("project",)), finder.candidates,
                                             mode="dense")
            in_town = [h for h in candidates if _town_of(h.payload.get("metadata") or {}) == _town(query)]
            found = {
                "same town": {h.document_id for h in in_town if h.score >= finder.min_similarity},
                "nearest k": {h.document_id for h in in_town[: len(truth)]},
                **{f"overlap >= {t:.2f}": {i.hit.document_id for i in result.overlaps if i.score >= t}
                   for t in thresholds},
            }
            for name, predicted in found.items():
                tp, fp, fn = _scores(predicted, truth)
                counts[name][0] += tp
                counts[name][1] += fp
                counts[name][2] += fn
        elapsed = (time.perf_counter() - started) / max(len(queries), 1)
        store.close()
    base = _prf(*counts["same town"])
    print(f"{'method':<18}{'P':>7}{'R':>7}{'F1':>7}   F1 vs same-town baseline")
    for name, (tp, fp, fn) in counts.items():
        p, r, f = _prf(tp, fp, fn)
        mark = "   <- the default" if name == f"overlap >= {configured:.2f}" else ""
        print(f"{name:<18}{p:>7.3f}{r:>7.3f}{f:>7.3f}   x{f / max(base[2], 1e-9):.2f}{mark}")
    print(f"\n{1000 * elapsed:.0f} ms per query for all methods together")


if __name__ == "__main__":
    main()
