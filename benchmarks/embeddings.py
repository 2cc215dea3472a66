"""Speed and quality of each embedding backend beside PyTorch float32, measured in the same run.

    .venv/bin/python benchmarks/embeddings.py [--rounds 3] [--backends torch,onnx,openvino] [--threads N]

Texts, all real: queries are PNRR call titles and EU topic titles; short passages are funded PNRR projects
(title and synthesis, what 42k of the corpus's 56k points are); long passages are 160-word chunks of EU topic
descriptions (what the chunker makes of a call). Other work may share the machine, so the backends take turns
(A, B, C, A, B, C, ...) and each figure is the median over rounds, printed beside PyTorch's as a ratio.
Quality: cosine of each backend's vectors to PyTorch float32's, on every text.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import time
from pathlib import Path

import numpy as np
import pandas as pd

os.environ.setdefault("HF_HUB_OFFLINE", "1")

from convergenze.core.embedding import Embedder  # noqa: E402
from convergenze.core.settings import DataSettings, EmbeddingSettings  # noqa: E402
from convergenze.core.vocabulary import EmbedBackend  # noqa: E402
from convergenze.index.embeddings import create_embedder  # noqa: E402

CHUNK_WORDS = 160  # the chunker's passage size (index/chunking.py)


def real_texts(corpora: Path, queries: int, short: int, long: int) -> dict[str, list[str]]:
    calls = pd.read_csv(corpora / "italia-domani/PNRR_Bandi_e_Avvisi.csv", sep=";", encoding="utf-8-sig", dtype=str)
    topics = json.loads((corpora / "eu-funding-tenders/topics.json").read_text(encoding="utf-8"))
    titles = list(dict.fromkeys(t.strip() for t in calls["Titolo Bando o Avviso"].dropna()))
    half = queries // 2
    asked = titles[::7][:half] + [str(t["title"]).strip() for t in topics[::11] if t.get("title")][: queries - half]
    projects = pd.read_parquet(corpora / "italia-domani/PNRR_Progetti_validati.parquet",
                               columns=["Titolo progetto", "Sintesi progetto"]).dropna()
    rows = projects.iloc[:: max(1, len(projects) // short)].head(short)
    passages = [f"{title}\n{synthesis}" for title, synthesis in rows.itertuples(index=False)]
    chunks: list[str] = []
    for topic in topics[::3]:
        words = str(topic.get("description") or "").split()
        chunks += [" ".join(words[i : i + CHUNK_WORDS]) for i in range(0, len(words) - CHUNK_WORDS // 2, CHUNK_WORDS)]
        if len(chunks) >= long:
            break
    return {"queries": asked, "short": passages, "long": chunks[:long]}


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def measure(embedder: Embedder, texts: dict[str, list[str]]) -> dict[str, float]:
    latencies = []
    for query in texts["queries"]:
        started = time.perf_counter()
        embedder.embed_queries([query])
        latencies.append(1000 * (time.perf_counter() - started))
    figures = {"query p50": percentile(latencies, 0.5), "query p95": percentile(latencies, 0.95)}
    for kind in ("short", "long"):
        started = time.perf_counter()
        embedder.embed_passages(texts[kind])
        figures[f"{kind}/s"] = len(texts[kind]) / (time.perf_counter() - started)
    return figures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--backends", default=",".join(EmbedBackend))
    parser.add_argument("--threads", type=int, default=None, help="threads per call (default: every core)")
    parser.add_argument("--queries", type=int, default=40)
    parser.add_argument("--short", type=int, default=256)
    parser.add_argument("--long", type=int, default=96)
    args = parser.parse_args()
    backends = [EmbedBackend(b.strip()) for b in args.backends.split(",")]
    if EmbedBackend.TORCH not in backends:
        backends.insert(0, EmbedBackend.TORCH)  # the baseline every figure is compared with
    data = DataSettings()
    texts = real_texts(data.corpora_dir, args.queries, args.short, args.long)
    embedders = {
        b: create_embedder(EmbeddingSettings(CONVERGENZE_EMBED_BACKEND=b, CONVERGENZE_EMBED_THREADS=args.threads), data)
        for b in backends
    }
    vectors = {}
    for backend, embedder in embedders.items():  # warm-up (model load, allocator, thread pool) and quality
        vectors[backend] = np.concatenate([embedder.embed_queries(texts["queries"]),
                                           embedder.embed_passages(texts["short"] + texts["long"])])
    runs: dict[EmbedBackend, list[dict[str, float]]] = {b: [] for b in backends}
    for round_number in range(args.rounds):
        for backend, embedder in embedders.items():
            runs[backend].append(measure(embedder, texts))
        print(f"round {round_number + 1}/{args.rounds} done, load average {os.getloadavg()[0]:.1f}", flush=True)

    def median(backend: EmbedBackend, key: str) -> float:
        return statistics.median(r[key] for r in runs[backend])

    tokens = {k: statistics.mean(len(t.split()) for t in v) for k, v in texts.items()}
    print(f"\n{os.cpu_count()} CPUs, threads per call {args.threads or 'all'}, load average "
          f"{os.getloadavg()[0]:.1f}; {len(texts['queries'])} queries, {len(texts['short'])} short passages "
          f"({tokens['short']:.0f} words), {len(texts['long'])} long ({tokens['long']:.0f} words); median of "
          f"{args.rounds} interleaved rounds, batch {EmbeddingSettings().batch_size}")
    header = (f"{'backend':<24}{'query p50 ms':>13}{'p95':>8}{'short/s':>9}{'long/s':>8}"
              f"{'short vs torch':>16}{'query vs torch':>16}{'cosine mean':>13}{'min':>8}")
    print(header)
    base = EmbedBackend.TORCH
    for backend, embedder in embedders.items():
        cosine = (vectors[backend] * vectors[base]).sum(axis=1)
        print(f"{embedder.name:<24}{median(backend, 'query p50'):>13.1f}{median(backend, 'query p95'):>8.1f}"
              f"{median(backend, 'short/s'):>9.1f}{median(backend, 'long/s'):>8.1f}"
              f"{median(backend, 'short/s') / median(base, 'short/s'):>15.1f}x"
              f"{median(base, 'query p50') / median(backend, 'query p50'):>15.1f}x"
              f"{cosine.mean():>13.5f}{cosine.min():>8.5f}")


if __name__ == "__main__":
    main()
