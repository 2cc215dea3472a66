"""Change detection against the state store: versions, events in plain words, withdrawn, closed."""

from __future__ import annotations

from datetime import date
from pathlib import Path

from convergenze.core.formatting import euro
from convergenze.core.records import Document, Section
from convergenze.core.vocabulary import DocType
from convergenze.corpora.state import StateStore
from convergenze.pipelines.changes import ChangeDetector, describe


def call(number: int, deadline: str | None = "2026-03-15", budget: float | None = 1_000_000.0,
         text: str = "Contributi alle imprese.", status: str = "open") -> Document:
    return Document(
        id=f"incentivi:{number}",
        source="incentivi-gov",
        type=DocType.CALL,
        title=f"Bando {number}",
        sections=[Section(text=text)],
        metadata={"deadline": deadline, "budget_total": budget, "status": status},
    )


def run(state: StateStore, documents: list[Document], today: str = "2026-02-01", complete: bool = True):
    changes = ChangeDetector(state, date.fromisoformat(today)).run("incentivi-gov", documents, complete=complete)
    changes.save(state)
    return changes


def test_plain_words() -> None:
    assert describe("deadline", "2026-03-15", "2026-04-30") == "deadline extended from 15/03/2026 to 30/04/2026"
    assert describe("deadline", "2026-04-30", "2026-03-15") == "deadline brought forward from 30/04/2026 to 15/03/2026"
    assert describe("budget", 1_000_000.0, 1_500_000.0) == "budget changed from € 1.000.000,00 to € 1.500.000,00"
    assert euro(1234.5) == "€ 1.234,50"
    assert describe("deadline", None, "2026-04-30") == "deadline set to 30/04/2026"


def test_first_sight_is_new_then_unchanged(tmp_path: Path) -> None:
    state = StateStore(tmp_path / "state.sqlite")
    first = run(state, [call(1), call(2)])
    assert first.new == ["incentivi:1", "incentivi:2"] and not first.changed
    again = run(state, [call(1), call(2)])
    assert (again.new, again.changed, again.withdrawn, again.events) == ([], [], [], [])
    versions, events = state.history("incentivi:1")
    assert [v["version"] for v in versions] == [1]
    assert [e["kind"] for e in events] == ["new"]


def test_a_changed_deadline_and_budget_make_a_new_version_with_events(tmp_path: Path) -> None:
    state = StateStore(tmp_path / "state.sqlite")
    run(state, [call(1)])
    changes = run(state, [call(1, deadline="2026-04-30", budget=1_500_000.0)])
    assert changes.changed == ["incentivi:1"]
    versions, events = state.history("incentivi:1")
    assert [v["version"] for v in versions] == [1, 2]
    assert versions[0]["fields"]["deadline"] == "2026-03-15"  # the previous values are kept
    assert versions[1]["fields"]["budget"] == 1_500_000.0
    assert [e["message"] for e in events[1:]] == [
        "deadline extended from 15/03/2026 to 30/04/2026",
        "budget changed from € 1.000.000,00 to € 1.500.000,00",
    ]
    assert state.notice("incentivi:1").version == 2  # type: ignore[union-attr]


def test_a_text_change_is_a_version_and_a_status_change_only_an_event(tmp_path: Path) -> None:
    state = StateStore(tmp_path / "state.sqlite")
    run(state, [call(1), call(2)])
    changes = run(state, [call(1, text="Contributi alle imprese artigiane."), call(2, status="closed")])
    assert changes.changed == ["incentivi:1"]
    assert [e.message for e in changes.events] == ["text changed", "status changed from open to closed"]
    assert state.notice("incentivi:2").version == 1  # type: ignore[union-attr]


def test_missing_from_a_complete_listing_is_withdrawn_not_from_a_partial_one(tmp_path: Path) -> None:
    state = StateStore(tmp_path / "state.sqlite")
    run(state, [call(1), call(2)])
    assert run(state, [call(1)], complete=False).withdrawn == []
    gone = run(state, [call(1)])
    assert gone.withdrawn == ["incentivi:2"]
    assert gone.payload_updates == {"incentivi:2": {"status": "withdrawn", "withdrawn": True}}
    notice = state.notice("incentivi:2")
    assert notice is not None and notice.withdrawn and notice.status == "withdrawn"
    assert run(state, [call(1)]).withdrawn == []  # said once
    back = run(state, [call(1), call(2)])
    assert back.reappeared == ["incentivi:2"]
    assert back.payload_updates["incentivi:2"] == {"status": "open", "withdrawn": False}
    assert [e["kind"] for e in state.history("incentivi:2")[1]] == ["new", "withdrawn", "reappeared"]


def test_calls_past_their_deadline_are_closed_without_reading_them(tmp_path: Path) -> None:
    state = StateStore(tmp_path / "state.sqlite")
    run(state, [call(1, deadline="2026-03-15"), call(2, deadline="2026-12-31"), call(3, deadline=None)])
    detector = ChangeDetector(state, date(2026, 4, 1))
    closing = detector.close_expired("incentivi-gov")
    assert closing.closed == ["incentivi:1"]
    assert [e.message for e in closing.events] == ["closed: the deadline 15/03/2026 has passed"]
    closing.save(state)
    assert state.notice("incentivi:1").status == "closed"  # type: ignore[union-attr]
    assert ChangeDetector(state, date(2026, 4, 2)).close_expired("incentivi-gov").closed == []
