"""What the whole corpus asks of the embedder: passages and tokens per source, and the embedding time they take at
the throughput this machine gives, measured in the same run.

Every enabled source is read from the mirror and chunked as the ingestion does (``embedding_text``: the title
travels with each passage); tokens are the model's own (truncated at its maximum length, prompt included). Then a
sample of the corpus's passages, in the corpus's proportions, is embedded with the configured backend, and its
tokens per second give a floor for the whole run's embedding time (reading, extraction, labels and writing come on
top). Also printed: the passages whose text (without the title) occurs in more than one document of a source, the
share a "same text, one vector" policy would save.

    python benchmarks/corpus_tokens.py [--source NAME ...] [--sample 512]
"""

from __future__ import annotations

import argparse
import os
import random
import time
from collections import Counter
from datetime import date

os.environ.setdefault("HF_HUB_OFFLINE", "1")

from convergenze.core.settings import Settings  # noqa: E402
from convergenze.corpora.registry import (  # noqa: E402
    SOURCES_FILE,
    SourceResolver,
    SourceUnavailable,
    build_connector,
    load_sources,
    select_sources,
)
from convergenze.index.chunking import Chunker  # noqa: E402
from convergenze.index.embeddings import create_embedder  # noqa: E402
from convergenze.index.embeddings.exported import PASSAGE_PREFIX  # noqa: E402
from convergenze.index.indexer import embedding_text  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument("--source", action="append", dest="sources")
    parser.add_argument("--sample", type=int, default=512, help="passages embedded to measure tokens/s")
    args = parser.parse_args()
    settings = Settings.load()
    embedder = create_embedder(settings.embedding, settings.data)
    tokenize = getattr(embedder, "token_ids", None)
    if tokenize is None:
        raise SystemExit("token counts need the exported default model (CONVERGENZE_EMBED_BACKEND=openvino or onnx)")
    resolver = SourceResolver(settings.data.corpora_dir, settings.data.data_dir / "cache", allow_download=False)
    chunker = Chunker()
    every: list[tuple[str, int]] = []
    print(f"{'source':<22}{'documents':>10}{'passages':>10}{'tokens':>11}{'p50':>6}{'max':>6}{'repeated':>10}"
          f"{'their tokens':>14}")
    for spec in select_sources(load_sources(SOURCES_FILE), args.sources):
        try:
            files = resolver.resolve(spec)
        except SourceUnavailable as error:
            print(f"{spec.name:<22} not in the mirror: {error}")
            continue
        documents = build_connector(spec, files, today=date.today()).run().documents
        pairs = [(d, c) for d in documents for c in chunker.run(d)]
        texts = [embedding_text(d, c) for d, c in pairs]
        lengths = [len(ids) for ids in tokenize(texts, PASSAGE_PREFIX)] if texts else []
        seen_in = Counter(text for _, text in {(d.id, c.text) for d, c in pairs})  # documents holding each text
        repeated = [n for (_, c), n in zip(pairs, lengths, strict=True) if seen_in[c.text] > 1]
        every += list(zip(texts, lengths, strict=True))
        ordered = sorted(lengths) or [0]
        print(f"{spec.name:<22}{len(documents):>10}{len(texts):>10}{sum(lengths):>11}{ordered[len(ordered) // 2]:>6}"
              f"{ordered[-1]:>6}{len(repeated):>10}{sum(repeated):>14}")
    total = sum(n for _, n in every)
    print(f"{'all':<22}{'':>10}{len(every):>10}{total:>11}")
    sample = random.Random(7).sample(every, min(args.sample, len(every)))
    embedder.embed_passages([t for t, _ in sample[:32]])  # model load and first shapes: not timed
    started = time.perf_counter()
    embedder.embed_passages([t for t, _ in sample])
    seconds = time.perf_counter() - started
    rate = sum(n for _, n in sample) / seconds
    print(f"\n{embedder.name}, {settings.embedding.cores} threads, load average {os.getloadavg()[0]:.1f}: "
          f"{rate:,.0f} tokens/s on {len(sample)} sampled passages ({len(sample) / seconds:.1f} passages/s)")
    print(f"embedding the whole corpus at that rate: {total / rate / 60:.0f} min; the 15-minute target needs "
          f"{total / 900:,.0f} tokens/s (x{total / 900 / rate:.1f} this machine's)")


if __name__ == "__main__":
    main()
