"""Change detection: what a run's documents say compared with what the state store remembers of them.

A notice seen again with a changed title, text, opening, deadline or budget becomes a new *version*; the
previous values stay in the history and each change is an event in plain words ("deadline extended from
15/03/2026 to 30/04/2026"). A status change alone (open -> closed) is an event, not a version. Notices missing
from a complete listing are marked withdrawn, never deleted; calls whose deadline has passed are closed
without fetching them again.

The detector only computes; the flow writes the index, commits it, and then saves the outcome to the state
store, so a run killed before the commit leaves the state as it was and the next run finds the same changes.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import Any

from convergenze.core.formatting import euro, italian_date
from convergenze.core.payload import document_payload
from convergenze.core.records import Document, stable_hash
from convergenze.core.vocabulary import CallStatus
from convergenze.corpora.state import Event, NoticeState, StateStore, now_iso

# Fields whose change makes a new version; ``status`` is tracked too, as events only.
VERSIONED = ("title", "text", "opening", "deadline", "budget")
_OPEN_STATES = (CallStatus.OPEN, CallStatus.FORTHCOMING, CallStatus.UNKNOWN)


def tracked_fields(document: Document) -> dict[str, Any]:
    meta = document.metadata
    return {
        "title": document.title,
        "text": stable_hash([(s.heading, s.text) for s in document.sections]),
        "opening": meta.get("opening"),
        "deadline": meta.get("deadline"),
        "budget": document_payload(document)["budget"],
        "status": meta.get("status") or CallStatus.UNKNOWN,
    }


def describe(name: str, before: Any, after: Any) -> str:
    """One change in plain words."""
    if name == "deadline":
        if before is None:
            return f"deadline set to {italian_date(after)}"
        if after is None:
            return f"deadline removed (was {italian_date(before)})"
        verb = "extended" if str(after) > str(before) else "brought forward"
        return f"deadline {verb} from {italian_date(before)} to {italian_date(after)}"
    if name == "opening":
        if before is None or after is None:
            return f"opening date {'set to ' + italian_date(after) if after else 'removed'}"
        return f"opening date moved from {italian_date(before)} to {italian_date(after)}"
    if name == "budget":
        if before is None:
            return f"budget set to {euro(after)}"
        if after is None:
            return f"budget removed (was {euro(before)})"
        return f"budget changed from {euro(before)} to {euro(after)}"
    if name == "title":
        return f"title changed from «{before}» to «{after}»"
    if name == "text":
        return "text changed"
    if name == "status":
        return f"status changed from {before} to {after}"
    return f"{name} changed from {before} to {after}"


@dataclass(slots=True)
class SourceChanges:
    """A run's outcome for one source: counts for the report, rows for the state store, payload updates for
    the index (documents whose status changed without being re-indexed)."""

    source: str
    new: list[str] = field(default_factory=list)
    changed: list[str] = field(default_factory=list)
    withdrawn: list[str] = field(default_factory=list)
    reappeared: list[str] = field(default_factory=list)
    closed: list[str] = field(default_factory=list)
    notices: list[NoticeState] = field(default_factory=list)
    versions: list[NoticeState] = field(default_factory=list)
    events: list[Event] = field(default_factory=list)
    payload_updates: dict[str, dict[str, Any]] = field(default_factory=dict)

    def save(self, state: StateStore) -> None:
        state.save(self.notices, self.versions, self.events)


class ChangeDetector:
    def __init__(self, state: StateStore, today: date) -> None:
        self.state = state
        self.today = today
        # What the state says, as this run has amended it so far (closings come before reading).
        self._known: dict[str, dict[str, NoticeState]] = {}

    def _notices(self, source: str) -> dict[str, NoticeState]:
        if source not in self._known:
            self._known[source] = self.state.notices(source)
        return self._known[source]

    def run(self, source: str, documents: list[Document], *, complete: bool) -> SourceChanges:
        """Compare ``documents`` (all of the source when ``complete``) with the remembered notices."""
        now = now_iso()
        known = self._notices(source)
        changes = SourceChanges(source)
        for document in documents:
            fields = tracked_fields(document)
            previous = known.get(document.id)
            notice = NoticeState(document.id, source, 1, document.content_hash, fields, fields["status"], False,
                                 now, now)
            if previous is None:
                changes.new.append(document.id)
                changes.versions.append(notice)
                changes.events.append(Event(document.id, source, 1, "new", f"new: {document.title}", now))
                changes.notices.append(notice)
                continue
            notice.first_seen, notice.version = previous.first_seen, previous.version
            differences = [n for n in VERSIONED if previous.fields.get(n) != fields[n]]
            if differences:
                notice.version += 1
                changes.changed.append(document.id)
                changes.versions.append(notice)
                for name in differences:
                    message = describe(name, previous.fields.get(name), fields[name])
                    changes.events.append(Event(document.id, source, notice.version, name, message, now))
            if previous.status != fields["status"] and not previous.withdrawn:
                message = describe("status", previous.status, fields["status"])
                changes.events.append(Event(document.id, source, notice.version, "status", message, now))
            if previous.withdrawn:
                changes.reappeared.append(document.id)
                changes.events.append(
                    Event(document.id, source, notice.version, "reappeared", "listed again by the source", now)
                )
                changes.payload_updates[document.id] = {"status": fields["status"], "withdrawn": False}
            changes.notices.append(notice)
        if complete:
            seen = {d.id for d in documents}
            for notice in known.values():
                if notice.document_id in seen or notice.withdrawn:
                    continue
                changes.withdrawn.append(notice.document_id)
                notice.withdrawn, notice.status = True, CallStatus.WITHDRAWN
                changes.notices.append(notice)
                changes.events.append(Event(notice.document_id, source, notice.version, "withdrawn",
                                            "withdrawn: no longer listed by the source", now))
                changes.payload_updates[notice.document_id] = {"status": CallStatus.WITHDRAWN,
                                                               "withdrawn": True}
        return changes

    def close_expired(self, source: str) -> SourceChanges:
        """Calls whose deadline has passed become closed, from the state alone (no fetch, no re-embedding)."""
        now = now_iso()
        changes = SourceChanges(source)
        for notice in self._notices(source).values():
            deadline = notice.fields.get("deadline")
            if notice.withdrawn or notice.status not in _OPEN_STATES or not deadline:
                continue
            if date.fromisoformat(str(deadline)[:10]) >= self.today:
                continue
            notice.status = CallStatus.CLOSED
            notice.fields = {**notice.fields, "status": CallStatus.CLOSED}
            changes.closed.append(notice.document_id)
            changes.notices.append(notice)
            changes.events.append(Event(notice.document_id, source, notice.version, "closed",
                                        f"closed: the deadline {italian_date(deadline)} has passed", now))
            changes.payload_updates[notice.document_id] = {"status": CallStatus.CLOSED}
        return changes
