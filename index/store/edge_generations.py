"""The generation directories of the embedded backend (``edge.py`` says why): naming and listing them, the
CURRENT pointer written atomically and fsync'd, the one writer's lock, and a writer's copy of the committed
generation, sparse so that Edge's preallocated holes stay holes."""

from __future__ import annotations

import errno
import fcntl
import os
import re
import shutil
from pathlib import Path
from typing import IO

import qdrant_edge as qe

from convergenze.index.store.base import StoreBusyError

CURRENT_FILE = "CURRENT"
LOCK_FILE = "write.lock"
_GENERATION = re.compile(r"^gen-(\d{6,})$")


def generation_number(name: str) -> int | None:
    match = _GENERATION.match(name)
    return int(match.group(1)) if match else None


def generations(root: Path) -> dict[int, Path]:
    if not root.is_dir():
        return {}
    found = {}
    for entry in root.iterdir():
        number = generation_number(entry.name)
        if number is not None and entry.is_dir():
            found[number] = entry
    return found


def read_current(root: Path) -> str | None:
    """The committed generation's directory name, or None before the first commit."""
    try:
        name = (root / CURRENT_FILE).read_text(encoding="utf-8").strip()
    except FileNotFoundError:
        return None
    if generation_number(name) is None:
        raise ValueError(f"{root / CURRENT_FILE} names {name!r}, not a generation: restore it or re-ingest.")
    return name


def copy_sparse(source: str, target: str) -> str:
    """Copy only the data extents: Edge preallocates its mmap files as holes (a 24-point shard is 177 MB
    apparent, 0.7 MB on disk), and a plain copy would write every hole out as zeros."""
    with open(source, "rb") as src, open(target, "wb") as dst:
        size = os.fstat(src.fileno()).st_size
        offset = 0
        while offset < size:
            try:
                start = os.lseek(src.fileno(), offset, os.SEEK_DATA)
            except OSError as error:
                if error.errno == errno.ENXIO:  # nothing but a hole up to the end
                    break
                raise
            end = os.lseek(src.fileno(), start, os.SEEK_HOLE)
            _copy_range(src.fileno(), dst.fileno(), start, end)
            offset = end
        dst.truncate(size)
    shutil.copystat(source, target)
    return target


def _copy_range(src: int, dst: int, start: int, end: int) -> None:
    position = start
    try:
        while position < end:
            copied = os.copy_file_range(src, dst, end - position, position, position)
            if copied == 0:
                break
            position += copied
    except OSError as error:
        if error.errno not in (errno.EXDEV, errno.ENOSYS, errno.EOPNOTSUPP, errno.EINVAL):
            raise
    while position < end:  # the fallback where the kernel cannot copy in place
        block = os.pread(src, min(1 << 20, end - position), position)
        if not block:
            break
        position += os.pwrite(dst, block, position)


def write_current(root: Path, name: str) -> None:
    tmp = root / f"{CURRENT_FILE}.tmp"
    with open(tmp, "w", encoding="utf-8") as handle:
        handle.write(name + "\n")
        handle.flush()
        os.fsync(handle.fileno())
    os.replace(tmp, root / CURRENT_FILE)
    directory = os.open(root, os.O_RDONLY)
    try:
        os.fsync(directory)
    finally:
        os.close(directory)


class WriteLock:
    """An exclusive fcntl lock on ``root/write.lock``; released when closed or when the process dies."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._handle: IO[str] | None = open(path, "a+", encoding="utf-8")
        try:
            fcntl.flock(self._handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            self._handle.seek(0)
            holder = self._handle.read().strip() or "unknown"
            self._handle.close()
            self._handle = None
            raise StoreBusyError(
                f"Another ingestion is writing to {path.parent} (pid {holder}): wait for it to finish; "
                "only one writer may run at a time."
            ) from None
        self._handle.seek(0)
        self._handle.truncate()
        self._handle.write(str(os.getpid()))
        self._handle.flush()

    def release(self) -> None:
        if self._handle is not None:
            self._handle.close()  # closing the descriptor drops the flock
            self._handle = None


def fork(root: Path, current: str | None) -> tuple[str, qe.EdgeShard | None]:
    """A new generation for a writer: a copy of ``current`` (None: empty until ``ensure_schema``). Numbered past
    every directory present, leftovers included, so a name is never reused. Called holding the write lock."""
    target = root / f"gen-{max(generations(root), default=0) + 1:06d}"
    remove_stale_generations(root, current)
    if current is None:
        return target.name, None
    try:
        # Readers loading the source meanwhile create and remove .atomicwrite* temp dirs in it.
        shutil.copytree(root / current, target, ignore=shutil.ignore_patterns(".atomicwrite*"),
                        copy_function=copy_sparse)
        return target.name, qe.EdgeShard.load(str(target))
    except BaseException:
        shutil.rmtree(target, ignore_errors=True)
        raise


def remove_stale_generations(root: Path, current: str | None) -> None:
    """Keep the current generation and the one before it (readers may still have it open); drop the rest,
    including generations newer than current, which are leftovers of writers that crashed before committing.
    Called only while holding the write lock."""
    numbers = generations(root)
    current_number = generation_number(current) if current is not None else None
    keep: set[int] = set()
    if current_number is not None:
        keep.add(current_number)
        older = [n for n in numbers if n < current_number]
        if older:
            keep.add(max(older))
    for number, path in numbers.items():
        if number not in keep:
            shutil.rmtree(path, ignore_errors=True)
