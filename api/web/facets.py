"""The search page's facets: documents per value of a payload field, counted by the store's facet API (Qdrant's
facet on both backends, never by reading hits), each under every filter but its own, so a person sees what
choosing another value would give."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date

from convergenze.core.records import SearchFilters
from convergenze.extractors.taxonomy import Taxonomy
from convergenze.index.store.base import VectorStore

from . import labels
from .forms import SearchPage, deadline_buckets
from .i18n import N_

LANGUAGE_NAMES = {"it": N_("Italiano"), "en": N_("Inglese")}
BUDGET_BUCKETS = (
    (N_("fino a 100 mila euro"), None, 100_000.0),
    (N_("da 100 mila a 1 milione"), 100_000.0, 1_000_000.0),
    (N_("da 1 a 10 milioni"), 1_000_000.0, 10_000_000.0),
    (N_("oltre 10 milioni"), 10_000_000.0, None),
)
TOP_VALUES = 8  # shown at once; the rest behind "more"


@dataclass(frozen=True, slots=True)
class FacetField:
    param: str  # the query parameter (as GET /v1/search names it)
    field: str  # the indexed payload field
    title: str
    filter_key: str  # the SearchFilters field it sets
    labels: dict[str, str] | None = None  # value -> msgid; None: the value is its own label


FIELDS = (
    FacetField("type", "type", N_("Tipo di documento"), "types", labels.DOC_TYPES),
    FacetField("status", "status", N_("Stato"), "status", labels.STATUSES),
    FacetField("region", "region", N_("Regione"), "region"),
    FacetField("beneficiary_type", "beneficiary_types", N_("Beneficiari"), "beneficiary_type", labels.ACTOR_TYPES),
    FacetField("support_form", "support_forms", N_("Forma di sostegno"), "support_form", labels.SUPPORT_FORMS),
    FacetField("firm_size", "firm_sizes", N_("Dimensione d'impresa"), "firm_size", labels.FIRM_SIZES),
    FacetField("programme", "programme", N_("Programma e fondo"), "programme"),
    FacetField("mission", "mission_codes", N_("Missione"), "mission"),
    FacetField("language", "language", N_("Lingua"), "language", LANGUAGE_NAMES),
    FacetField("source", "source", N_("Fonte"), "source"),
)


@dataclass(slots=True)
class FacetValue:
    value: str
    label: str
    count: int
    selected: bool
    changes: dict[str, str | None]  # the query parameters that select (or unselect) it


@dataclass(slots=True)
class Facet:
    param: str
    title: str
    values: list[FacetValue]
    translate: bool  # labels are msgids

    @property
    def selected(self) -> bool:
        return any(v.selected for v in self.values)


def _without(filters: SearchFilters, key: str) -> SearchFilters:
    if key == "types":
        return dataclasses.replace(filters, types=())
    return dataclasses.replace(filters, **{key: None})  # type: ignore[arg-type]


def _deadlines(low: date | None, high: date | None) -> Callable[[SearchFilters], SearchFilters]:
    return lambda f: dataclasses.replace(f, deadline_from=low, deadline_to=high)


def _budgets(low: float | None, high: float | None) -> Callable[[SearchFilters], SearchFilters]:
    return lambda f: dataclasses.replace(f, budget_min=low, budget_max=high)


def collect(store: VectorStore, filters: SearchFilters, params: SearchPage, taxonomy: Taxonomy, lang: str,
            today: date) -> list[Facet]:
    """Every facet with its counts under the current filters (less its own)."""
    facets = [_keyword(store, filters, params, spec, taxonomy, lang) for spec in FIELDS]
    facets.append(_ranges(
        store, dataclasses.replace(filters, deadline_from=None, deadline_to=None), N_("Scadenza"),
        [(label, {"deadline_from": _iso(low), "deadline_to": _iso(high)}, _deadlines(low, high))
         for label, low, high in deadline_buckets(today)],
        (_iso(params.deadline_from), _iso(params.deadline_to)), "deadline",
    ))
    facets.append(_ranges(
        store, dataclasses.replace(filters, budget_min=None, budget_max=None), N_("Importo"),
        [(label, {"budget_min": _amount(low), "budget_max": _amount(high)}, _budgets(low, high))
         for label, low, high in BUDGET_BUCKETS],
        (_amount(params.budget_min), _amount(params.budget_max)), "budget",
    ))
    return [f for f in facets if f.values]


def _keyword(store: VectorStore, filters: SearchFilters, params: SearchPage, spec: FacetField, taxonomy: Taxonomy,
             lang: str) -> Facet:
    counts = store.facet(spec.field, _without(filters, spec.filter_key))
    current = getattr(params, spec.param)
    chosen = set(current) if isinstance(current, list) else {current} if current else set()
    values = []
    for value, count in sorted(counts.items(), key=lambda kv: (-kv[1], kv[0])):
        if spec.param == "mission":
            label = _mission_label(taxonomy, value, lang)
        else:
            label = (spec.labels or {}).get(value, value)
        selected = value in chosen
        values.append(FacetValue(value, label, count, selected, {spec.param: None if selected else value,
                                                                  "page": None}))
    for value in chosen - set(counts):  # chosen but with no document under the other filters: still undoable
        values.insert(0, FacetValue(value, (spec.labels or {}).get(value, value), 0, True,
                                    {spec.param: None, "page": None}))
    return Facet(spec.param, spec.title, values, translate=spec.labels is not None)


def _mission_label(taxonomy: Taxonomy, code: str, lang: str) -> str:
    for framework in taxonomy.frameworks:
        if taxonomy.has(framework, code):
            label = taxonomy.label(framework, code, lang)
            return label if framework == "convergenze" else f"{code} · {label}"
    return code


def _ranges(store: VectorStore, filters: SearchFilters, title: str,
            buckets: list[tuple[str, dict[str, str | None], Callable[[SearchFilters], SearchFilters]]],
            current: tuple[str | None, str | None], param: str) -> Facet:
    """One value per range: documents counted as the sum of the type facet under the range's filter."""
    values = []
    for label, changes, narrow in buckets:
        count = sum(store.facet("type", narrow(filters)).values())
        selected = (changes[f"{param}_{'from' if param == 'deadline' else 'min'}"],
                    changes[f"{param}_{'to' if param == 'deadline' else 'max'}"]) == current
        undo = {key: None for key in changes}
        if count or selected:
            values.append(FacetValue(label, label, count, selected, {**(undo if selected else changes),
                                                                     "page": None}))
    return Facet(param, title, values, translate=True)


def _iso(day: date | None) -> str | None:
    return day.isoformat() if day else None


def _amount(value: float | None) -> str | None:
    return None if value is None else f"{value:.0f}"
