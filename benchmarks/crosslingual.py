"""Cross-lingual retrieval: does the Italian wording of a need find its document as well as the English one?

Development set: ``benchmarks/data/crosslingual.json`` (see benchmarks/data/README.md): 249 information needs,
each written in Italian and in English from the content of one document (131 EU topics, 118 Italian calls and
measures), with the documents that satisfy it equally, split into dev (choose parameters) and test (report).

It runs on an ingested index (every source except pnrr-projects), all document types, top 10, and prints per
split and query language Recall@10 (the share of needs with a relevant document in the first 10) and MRR@10,
with the ratio of the Italian to the English figure, for today's retrieval (hybrid, dense, BM25: one list per
retriever over everything) beside the cross-lingual one (language legs fused, glossary expansion), interleaved
query by query; then the same by target: EU topics (Italian query crosses) and Italian documents (English query
crosses).

    CONVERGENZE_DATA=/path/to/ingested python benchmarks/crosslingual.py [--split test] [--variants]
"""

from __future__ import annotations

import argparse
import dataclasses
import json
from collections import defaultdict
from collections.abc import Callable
from pathlib import Path

import numpy as np

from convergenze.core.records import SearchFilters
from convergenze.core.settings import DataSettings, EmbeddingSettings, QdrantSettings
from convergenze.core.vocabulary import SearchMode
from convergenze.index.embeddings import create_embedder
from convergenze.index.search import MONOLINGUAL, CrossLingual, SearchService
from convergenze.index.sparse import Bm25SparseEncoder
from convergenze.index.store.factory import open_store

DEVSET = Path(__file__).resolve().parent / "data" / "crosslingual.json"
LANGUAGES = ("it", "en")
K = 10


@dataclasses.dataclass(frozen=True)
class Need:
    id: str
    split: str
    target_language: str
    texts: dict[str, str]
    relevant: frozenset[str]


def load_needs(path: Path = DEVSET) -> list[Need]:
    data = json.loads(path.read_text(encoding="utf-8"))
    needs = [Need(n["id"], n["split"], n["target_language"], {lang: n[lang] for lang in LANGUAGES},
                  frozenset(n["relevant"])) for n in data["needs"]]
    if len({n.id for n in needs}) != len(needs) or {n.split for n in needs} - {"dev", "test"}:
        raise SystemExit(f"{path}: need ids must be unique and splits dev or test.")
    return needs


def first_relevant(ranked: list[str], relevant: frozenset[str]) -> int | None:
    return next((rank for rank, doc in enumerate(ranked[:K], start=1) if doc in relevant), None)


Runner = Callable[[str, np.ndarray], list[str]]


def runner(service: SearchService, mode: SearchMode) -> Runner:
    return lambda text, vector: [h.document_id for h in service.retrieve(text, SearchFilters(), K, mode, vector)]


def figures(ranks: list[int | None]) -> tuple[float, float]:
    """Recall@10 and MRR@10 of first-relevant ranks (None: not in the first 10)."""
    if not ranks:
        return float("nan"), float("nan")
    return sum(r is not None for r in ranks) / len(ranks), sum(1 / r for r in ranks if r) / len(ranks)


def ratio(it: float, en: float) -> str:
    return f"{it / en:5.2f}" if en else "   - "


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--split", choices=("dev", "test", "both"), default="both")
    parser.add_argument("--variants", action="store_true", help="also the candidates compared on dev")
    args = parser.parse_args()
    data = DataSettings()
    store = open_store(QdrantSettings(), data, write=False)
    embedder = create_embedder(EmbeddingSettings(), data)
    sparse = Bm25SparseEncoder()
    needs = [n for n in load_needs() if args.split in ("both", n.split)]
    known = set(store.document_hashes())
    absent = sorted({d for n in needs for d in n.relevant} - known)
    if absent:
        raise SystemExit(f"{len(absent)} relevant documents are not in the index at {data.index_dir} "
                         f"(ingest every source but pnrr-projects): {', '.join(absent[:5])} ...")

    today = SearchService(store, embedder, sparse, crosslingual=MONOLINGUAL)
    new = SearchService(store, embedder, sparse)
    methods: dict[str, Runner] = {
        "hybrid (today)": runner(today, "hybrid"),
        "dense (today)": runner(today, "dense"),
        "BM25 (today)": runner(today, "sparse"),
        "cross-lingual hybrid": runner(new, "hybrid"),
    }
    if args.variants:
        for label, config in {
            "legs only": CrossLingual(expansion_weight=0.0),
            "glossary only": CrossLingual(languages=()),
            "legs + glossary w=0.25": CrossLingual(expansion_weight=0.25),
            "legs + glossary w=0.5": CrossLingual(expansion_weight=0.5),
        }.items():
            variant = SearchService(store, embedder, sparse, glossary=new.glossary, crosslingual=config)
            methods[label] = runner(variant, "hybrid")
        methods["cross-lingual dense"] = runner(new, "dense")
        methods["cross-lingual BM25"] = runner(new, "sparse")

    texts = [(n, lang) for n in needs for lang in LANGUAGES]
    vectors = embedder.embed_queries([n.texts[lang] for n, lang in texts])
    # (method, split, query language, target language) -> first-relevant ranks; methods interleaved per query.
    ranks: dict[tuple[str, str, str, str], list[int | None]] = defaultdict(list)
    for (need, lang), vector in zip(texts, vectors, strict=True):
        for label, run in methods.items():
            ranks[(label, need.split, lang, need.target_language)].append(
                first_relevant(run(need.texts[lang], vector), need.relevant))

    # The cross-language cosine gap (SearchService.similar adds it back): how much closer the same need's
    # same-language wording is to its document's best passage than the other language's, measured on dev.
    gaps = []
    for (need, lang), vector in zip(texts, vectors, strict=True):
        if need.split == "dev" and lang == need.target_language:
            other = embedder.embed_queries([need.texts["en" if lang == "it" else "it"]])[0]
            only = SearchFilters(document_ids=tuple(sorted(need.relevant)))
            same, cross = (store.search(v.tolist(), None, only, 1, mode="dense") for v in (vector, other))
            if same and cross:
                gaps.append(same[0].score - cross[0].score)
    if gaps:
        print(f"cross-language cosine gap on dev: mean {np.mean(gaps):.3f}, median {np.median(gaps):.3f} "
              f"({len(gaps)} needs; SearchService.similar adds {new.crosslingual.cosine_gap})")

    splits = ("dev", "test") if args.split == "both" else (args.split,)
    counts = {s: sum(n.split == s for n in needs) for s in splits}
    print(f"{len(needs)} needs x 2 languages; index: {len(known)} documents; top {K}, all document types\n")
    for split in splits:
        print(f"== {split} ({counts[split]} needs) ==")
        print(f"{'method':<26}{'R@10 it':>9}{'R@10 en':>9}{'it/en':>7}{'MRR it':>9}{'MRR en':>9}{'it/en':>7}")
        for label in methods:
            row = {lang: figures([r for t in LANGUAGES for r in ranks[(label, split, lang, t)]]) for lang in LANGUAGES}
            print(f"{label:<26}{row['it'][0]:>9.3f}{row['en'][0]:>9.3f}{ratio(row['it'][0], row['en'][0]):>7}"
                  f"{row['it'][1]:>9.3f}{row['en'][1]:>9.3f}{ratio(row['it'][1], row['en'][1]):>7}")
        for target, name, crossing in (("en", "EU topics", "it"), ("it", "Italian documents", "en")):
            same = "en" if crossing == "it" else "it"
            n = sum(1 for need in needs if need.split == split and need.target_language == target)
            print(f"-- targets: {name} ({n}); the {crossing} query crosses languages, cross/same-language ratio")
            print(f"{'method':<26}{'R@10 ' + crossing:>9}{'R@10 ' + same:>9}{'ratio':>7}"
                  f"{'MRR ' + crossing:>9}{'MRR ' + same:>9}{'ratio':>7}")
            for label in methods:
                cross = figures(ranks[(label, split, crossing, target)])
                mono = figures(ranks[(label, split, same, target)])
                print(f"{label:<26}{cross[0]:>9.3f}{mono[0]:>9.3f}{ratio(cross[0], mono[0]):>7}"
                      f"{cross[1]:>9.3f}{mono[1]:>9.3f}{ratio(cross[1], mono[1]):>7}")
        print()
    store.close()


if __name__ == "__main__":
    main()
