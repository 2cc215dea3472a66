"""The ingestion report: per source, documents read, indexed, unchanged and skipped (with reasons)."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from convergenze.core.records import Skipped


@dataclass(slots=True)
class SourceReport:
    source: str
    read: int = 0
    indexed: int = 0
    unchanged: int = 0
    points: int = 0
    skipped: list[Skipped] = field(default_factory=list)
    error: str | None = None
    seconds: float = 0.0
    # Live listings: HTTP requests made and pages the server said had not changed (304).
    requests: int = 0
    not_modified: int = 0
    # Change detection: notices seen for the first time, new versions, no longer listed, closed by deadline.
    new: int = 0
    changed: int = 0
    withdrawn: int = 0
    closed: int = 0


@dataclass(slots=True)
class IngestReport:
    started: str
    finished: str | None = None
    # "running" while the flow goes on (saved after each published source), then "finished" or "failed".
    state: str = "running"
    planned: list[str] = field(default_factory=list)  # the sources the run will read, in order
    sources: list[SourceReport] = field(default_factory=list)
    documents: int = 0
    points: int = 0
    stage_seconds: dict[str, float] = field(default_factory=dict)
    catalog: dict[str, int] = field(default_factory=dict)  # documents, actors, near-duplicates
    # Alerts evaluated after the run: documents looked at, hits, deliveries sent and failed.
    alerts: dict[str, Any] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return all(s.error is None for s in self.sources)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    def save(self, folder: Path) -> Path:
        """The finished report, kept by run, and as ``latest.json``."""
        path = folder / f"ingest-{self.started.replace(':', '').replace('-', '')}.json"
        _write_atomically(path, self.to_dict())
        self.save_progress(folder)
        return path

    def save_progress(self, folder: Path) -> None:
        """``latest.json`` as it stands: what the API's /health and the status page read while the run goes on
        (replaced whole, so a reader never sees half of it)."""
        _write_atomically(folder / "latest.json", self.to_dict())

    def render(self) -> str:
        lines = [f"{'source':<22}{'read':>8}{'indexed':>9}{'unchanged':>11}{'skipped':>9}{'points':>9}{'sec':>8}"]
        for s in self.sources:
            lines.append(
                f"{s.source:<22}{s.read:>8}{s.indexed:>9}{s.unchanged:>11}{len(s.skipped):>9}"
                f"{s.points:>9}{s.seconds:>8.1f}"
            )
            if s.new or s.changed or s.withdrawn or s.closed:
                lines.append(
                    f"  notices: {s.new} new, {s.changed} changed, {s.withdrawn} withdrawn, {s.closed} closed"
                )
            if s.error:
                lines.append(f"  ! {s.error}")
            for skipped in s.skipped[:10]:
                lines.append(f"  - skipped {skipped.ref}: {skipped.reason}")
            if len(s.skipped) > 10:
                lines.append(f"  - ... and {len(s.skipped) - 10} more (see the JSON report)")
        lines.append(f"index: {self.documents} documents, {self.points} points")
        if self.catalog:
            lines.append(f"catalog: {self.catalog.get('actors', 0)} actors, "
                         f"{self.catalog.get('duplicates', 0)} near-duplicate publications linked")
        if self.alerts.get("hits") or self.alerts.get("sent") or self.alerts.get("failed"):
            lines.append(
                f"alerts: {self.alerts['hits']} hits, {self.alerts['sent']} delivered, {self.alerts['failed']} failed"
            )
        if self.stage_seconds:
            lines.append("time per stage: " + ", ".join(f"{k} {v:.1f}s" for k, v in self.stage_seconds.items()))
        return "\n".join(lines)


def _write_atomically(path: Path, content: dict[str, Any]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_text(json.dumps(content, ensure_ascii=False, indent=2), encoding="utf-8")
    tmp.replace(path)
