"""Backend-neutral filters: what a search or a scroll may be narrowed by (``FilterSpec``), built from the API's
``SearchFilters``; each backend turns them into its own objects in one place (``edge.py``, ``qdrant.py``)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

from convergenze.core.records import SearchFilters


@dataclass(frozen=True, slots=True)
class Match:
    """``key`` equals one of ``values`` (for array fields: contains one of them)."""

    key: str
    values: tuple[str | int, ...]


@dataclass(frozen=True, slots=True)
class DateRange:
    """``gte <= key < lt`` on a datetime-indexed field; bounds are UTC midnights."""

    key: str
    gte: datetime | None = None
    lt: datetime | None = None


@dataclass(frozen=True, slots=True)
class NumberRange:
    """``gte <= key <= lte`` on a float-indexed field."""

    key: str
    gte: float | None = None
    lte: float | None = None


Condition = Match | DateRange | NumberRange


@dataclass(frozen=True, slots=True)
class FilterSpec:
    must: tuple[Condition, ...] = ()
    must_not: tuple[Condition, ...] = ()

    @property
    def empty(self) -> bool:
        return not self.must and not self.must_not

    def require(self, *conditions: Condition) -> FilterSpec:
        return FilterSpec(must=self.must + conditions, must_not=self.must_not)

    def narrow(self, other: FilterSpec) -> FilterSpec:
        """Both specs at once (every condition of each)."""
        return FilterSpec(must=self.must + other.must, must_not=self.must_not + other.must_not)


ALL = FilterSpec()


def language_legs(languages: Sequence[str]) -> tuple[FilterSpec, ...]:
    """The legs of a search by language: one per language in ``languages``, the last one taking every other
    passage too (other languages, none detected), so that the legs cover the index exactly once. Fewer than two
    languages: one leg over everything."""
    named = tuple(dict.fromkeys(languages))
    if len(named) < 2:
        return (ALL,)
    legs = tuple(FilterSpec(must=(Match("language", (language,)),)) for language in named[:-1])
    return (*legs, FilterSpec(must_not=(Match("language", named[:-1]),)))


def _day_start(day: date | None, *, plus_days: int = 0) -> datetime | None:
    if day is None:
        return None
    return datetime.combine(day + timedelta(days=plus_days), time.min, tzinfo=UTC)


def filter_spec(filters: SearchFilters | None) -> FilterSpec:
    """Every ``SearchFilters`` field mapped to conditions; the single place where that mapping is decided."""
    if filters is None:
        return FilterSpec()
    must: list[Condition] = []
    if filters.types:
        must.append(Match("type", tuple(filters.types)))
    for key, value in (
        ("region", filters.region),
        ("mission_codes", filters.mission),
        ("programme", filters.programme),
        ("beneficiary_types", filters.beneficiary_type),
        ("support_forms", filters.support_form),
        ("firm_sizes", filters.firm_size),
        ("status", filters.status),
        ("language", filters.language),
        ("source", filters.source),
        ("submeasure_codes", filters.submeasure),
    ):
        if value is not None:
            must.append(Match(key, (value,)))
    if filters.deadline_from is not None or filters.deadline_to is not None:
        # Whole days, inclusive: `to` becomes "before the next midnight" so timed deadlines on that day match.
        must.append(DateRange(
            "deadline", gte=_day_start(filters.deadline_from), lt=_day_start(filters.deadline_to, plus_days=1)
        ))
    if filters.budget_min is not None or filters.budget_max is not None:
        must.append(NumberRange("budget", gte=filters.budget_min, lte=filters.budget_max))
    if filters.document_ids:
        must.append(Match("document_id", tuple(filters.document_ids)))
    must_not: list[Condition] = []
    if filters.exclude_ids:
        must_not.append(Match("document_id", tuple(filters.exclude_ids)))
    return FilterSpec(must=tuple(must), must_not=tuple(must_not))


def document_filter(document_id: str) -> FilterSpec:
    return FilterSpec(must=(Match("document_id", (document_id,)),))


HEAD_CHUNK = Match("position", (0,))
