"""PDF text: our pdfplumber extractor against a plain pypdfium2 baseline, on the twelve real calls.

Speed is pages per second over the whole set, each file read once per tool (wall clock, one process). Then
the ingestion's way, the whole folder read side by side in child processes (one per core, largest file first,
SandboxedPdfExtractor.run_many): its wall clock beside our one-process seconds in the same run, and its intact
sentences, which must be the same.
Quality is "intact sentences": the share of the reference sentences in benchmarks/pdf_reference_sentences.json
(44, read off the rendered pages; some on purpose across a line-end hyphen, a page break, a two-column slide,
a table cell or a page whose fonts have no Unicode map) found verbatim in a tool's output once whitespace is
collapsed.

    python benchmarks/pdf_extraction.py [--corpus DIR] [--show-misses]
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from convergenze.core.settings import DataSettings, available_cores  # noqa: E402
from convergenze.extractors.pdf import PdfText, PdfTextExtractor, pdf_to_text_pypdfium2  # noqa: E402
from convergenze.extractors.pdf_sandbox import SandboxedPdfExtractor  # noqa: E402

REFERENCES = Path(__file__).with_name("pdf_reference_sentences.json")


@dataclass
class Run:
    pages: int = 0
    seconds: float = 0.0
    found: int = 0
    total: int = 0

    @property
    def pages_per_second(self) -> float:
        return self.pages / self.seconds if self.seconds else 0.0

    @property
    def intact(self) -> float:
        return self.found / self.total if self.total else 0.0


def _squash(text: str) -> str:
    return " ".join(text.split())


def _ours(path: Path) -> tuple[str, int]:
    result = PdfTextExtractor().run(path)
    return result.text, result.pages


def _pdfium(path: Path) -> tuple[str, int]:
    text = pdf_to_text_pypdfium2(path)
    return text, text.count("\f") + 1


TOOLS: dict[str, Callable[[Path], tuple[str, int]]] = {"pdfplumber (ours)": _ours, "pypdfium2": _pdfium}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--corpus", type=Path, default=DataSettings().corpora_dir / "bandi-pdf")
    parser.add_argument("--show-misses", action="store_true", help="print the sentences each tool missed")
    parser.add_argument("--workers", type=int, default=0, help="processes for the parallel read (default: cores)")
    args = parser.parse_args()
    logging.basicConfig(level=logging.ERROR)  # the per-page notes about unmapped glyphs are expected here
    references: dict[str, list[str]] = json.loads(REFERENCES.read_text(encoding="utf-8"))
    totals = {tool: Run() for tool in TOOLS}
    misses: dict[str, list[str]] = {tool: [] for tool in TOOLS}
    print(f"{'file':40} {'pages':>5} " + " ".join(f"{t[:18]:>18} {'s':>6}" for t in TOOLS))
    for name, sentences in sorted(references.items()):
        cells = []
        for tool, read in TOOLS.items():
            started = time.perf_counter()
            text, pages = read(args.corpus / name)
            elapsed = time.perf_counter() - started
            flat = _squash(text)
            found = [s for s in sentences if _squash(s) in flat]
            misses[tool] += [f"{name}: {s}" for s in sentences if s not in found]
            run = totals[tool]
            run.pages, run.seconds = run.pages + pages, run.seconds + elapsed
            run.found, run.total = run.found + len(found), run.total + len(sentences)
            cells.append(f"{len(found):>8}/{len(sentences)} sentences {elapsed:6.2f}")
        print(f"{name[:40]:40} {pages:>5} " + " ".join(cells))
    ours, base = totals.values()
    print()
    print(f"{'':22} {'pdfplumber (ours)':>18} {'pypdfium2':>12} {'ratio ours/base':>16}")
    print(f"{'pages':22} {ours.pages:>18} {base.pages:>12}")
    print(f"{'seconds':22} {ours.seconds:>18.1f} {base.seconds:>12.2f}")
    ratio = ours.pages_per_second / base.pages_per_second if base.pages_per_second else 0.0
    print(f"{'pages/s':22} {ours.pages_per_second:>18.1f} {base.pages_per_second:>12.1f} {ratio:>16.3f}")
    intact_ratio = ours.intact / base.intact if base.intact else 0.0
    print(
        f"{'intact sentences':22} {f'{ours.found}/{ours.total} ({ours.intact:.0%})':>18} "
        f"{f'{base.found}/{base.total} ({base.intact:.0%})':>12} {intact_ratio:>16.2f}"
    )
    workers = args.workers or available_cores()
    started = time.perf_counter()
    names = sorted(references)
    reader = SandboxedPdfExtractor(memory_bytes=2**30, timeout=600.0)
    outcomes = dict(reader.run_many([args.corpus / n for n in names], workers))
    wall = time.perf_counter() - started
    found = sum(
        _squash(s) in _squash(o.text) for n in names if isinstance(o := outcomes[args.corpus / n], PdfText)
        for s in references[n]
    )
    print(
        f"\nacross {workers} processes: {wall:.1f} s wall clock against {ours.seconds:.1f} s in one process "
        f"(x{ours.seconds / wall:.2f}); intact sentences {found}/{ours.total} (one process: {ours.found})"
    )
    if args.show_misses:
        for tool, missed in misses.items():
            print(f"\nmissed by {tool}:")
            print("\n".join(f"  {m}" for m in missed) or "  none")


if __name__ == "__main__":
    main()
