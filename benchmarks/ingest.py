"""Throughput of the full ingestion of the corpus on this machine, time per stage, then an immediate
re-run (nothing changed: the idempotent path) as the baseline beside it.

    CONVERGENZE_DATA=/tmp/cz-bench python benchmarks/ingest.py [--source NAME ...] [--limit N] [--no-rerun]

``--limit`` caps the documents per source: a subset to compare changes on. The Dask backfill against the
sequential run is benchmarks/backfill.py; PDF text in one process against several, benchmarks/pdf_extraction.py.
"""

from __future__ import annotations

import argparse
import time

from convergenze.core.settings import DataSettings
from convergenze.pipelines.runtime import configure_prefect


def run(sources: list[str] | None, limit: int | None) -> tuple[dict, float]:
    from convergenze.pipelines.ingest import ingest_flow

    started = time.perf_counter()
    report = ingest_flow(sources=sources, limit=limit, progress=True)
    return report, time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--source", action="append", dest="sources")
    parser.add_argument("--limit", type=int, help="documents per source (a subset)")
    parser.add_argument("--no-rerun", action="store_true")
    args = parser.parse_args()
    configure_prefect(DataSettings().data_dir)
    first, seconds = run(args.sources, args.limit)
    scope = "full ingestion" if args.limit is None else f"ingestion of at most {args.limit} per source"
    read = sum(s["read"] for s in first["sources"])
    print(
        f"\n{scope}: {read} documents read, {first['documents']} documents and {first['points']} points "
        f"in the index, {seconds / 60:.1f} min wall clock ({read / seconds:.1f} documents/s, "
        f"{first['points'] / seconds:.1f} points/s)"
    )
    total = sum(first["stage_seconds"].values()) or 1.0
    for stage, value in first["stage_seconds"].items():
        print(f"  {stage:<16}{value:>9.1f} s  {100 * value / total:5.1f}%")
    for source in first["sources"]:
        print(
            f"  {source['source']:<20}{source['read']:>7} docs {source['points']:>7} points {source['seconds']:>8.1f} s"
        )
    if not args.no_rerun:
        again, rerun_seconds = run(args.sources, args.limit)
        unchanged = sum(s["unchanged"] for s in again["sources"])
        print(
            f"\nre-run, nothing changed: {unchanged} unchanged in {rerun_seconds:.1f} s "
            f"(x{seconds / rerun_seconds:.1f} faster than the first run); index {again['documents']} documents, "
            f"{again['points']} points (same: {again['points'] == first['points']})"
        )


if __name__ == "__main__":
    main()
