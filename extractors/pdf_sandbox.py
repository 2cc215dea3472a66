"""PDF text read in a child process with a memory and a time limit: a file that expands to gigabytes (a
decompression bomb) or loops costs the child, never the server.

The child comes from a fork server that has imported the PDF reader once, so each file starts in milliseconds;
its address space is capped with ``RLIMIT_AS`` (an allocation past it is a ``MemoryError`` in the child), and a
child still running at the deadline is killed. What comes back is the text, or a plain reason.
"""

from __future__ import annotations

import multiprocessing
import resource
from collections.abc import Iterator, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from multiprocessing.connection import Connection
from pathlib import Path

from .pdf import PdfExtractionError, PdfText, PdfTextExtractor

_PRELOAD = ["convergenze.extractors.pdf"]


@dataclass(frozen=True, slots=True, kw_only=True)
class SandboxedPdfExtractor:
    """``PdfTextExtractor`` with limits: configured once, then ``run(path)`` per file, like the extractor."""

    extractor: PdfTextExtractor = field(default_factory=PdfTextExtractor)
    memory_bytes: int = 1024 * 2**20
    timeout: float = 60.0

    def run(self, path: Path) -> PdfText:
        context = multiprocessing.get_context("forkserver")
        context.set_forkserver_preload(_PRELOAD)  # only before the fork server starts; harmless after
        receiver, sender = context.Pipe(duplex=False)
        child = context.Process(target=_read, args=(self.extractor, Path(path), self.memory_bytes, sender),
                                daemon=True)
        child.start()
        sender.close()
        outcome: PdfText | str | None = None
        timed_out = False
        try:
            if receiver.poll(self.timeout):
                outcome = receiver.recv()
            else:
                timed_out = True
        except EOFError:  # the child died without a word: killed by the kernel, or crashed in native code
            outcome = None
        finally:
            receiver.close()
            child.join(timeout=1.0)
            if child.is_alive():
                child.kill()
                child.join()
        if isinstance(outcome, PdfText):
            return outcome
        if isinstance(outcome, str):
            raise PdfExtractionError(outcome, path)
        if timed_out:
            raise PdfExtractionError(f"reading took longer than {self.timeout:g} s", path)
        raise PdfExtractionError(f"the reader stopped (exit {child.exitcode}): out of memory or a damaged file", path)

    def run_many(self, paths: Sequence[Path], workers: int) -> Iterator[tuple[Path, PdfText | PdfExtractionError]]:
        """Each file in its own limited child, ``workers`` children at a time; results in the order of ``paths``,
        a file that cannot be read as its ``PdfExtractionError`` (the others go on). pdfminer parses in pure
        Python, so processes, not threads, are what spread the pages over the cores; the threads here only
        wait on the children. The largest files start first, so that a long one does not finish the batch alone.
        """
        if workers < 1:
            raise ValueError(f"workers must be at least 1, got {workers}")
        paths = [Path(p) for p in paths]
        if workers == 1 or len(paths) < 2:
            for path in paths:
                yield path, self._outcome(path)
            return
        largest_first = sorted(paths, key=_size, reverse=True)
        with ThreadPoolExecutor(max_workers=min(workers, len(paths)), thread_name_prefix="pdf") as pool:
            futures: dict[Path, Future[PdfText | PdfExtractionError]] = {
                path: pool.submit(self._outcome, path) for path in largest_first
            }
            for path in paths:
                yield path, futures[path].result()

    def _outcome(self, path: Path) -> PdfText | PdfExtractionError:
        try:
            return self.run(path)
        except PdfExtractionError as error:
            return error


def _size(path: Path) -> int:
    try:
        return path.stat().st_size
    except OSError:  # missing: the child says so in the usual words
        return 0

def _read(extractor: PdfTextExtractor, path: Path, memory_bytes: int, sender: Connection) -> None:
    resource.setrlimit(resource.RLIMIT_AS, (memory_bytes, memory_bytes))
    try:
        sender.send(extractor.run(path))
    except PdfExtractionError as error:
        sender.send(error.reason)
    except MemoryError:
        sender.send(f"reading needed more than {memory_bytes // 2**20} MB of memory (a decompression bomb?)")
    except RecursionError:
        sender.send("the file's structure nests too deeply")
    finally:
        sender.close()
