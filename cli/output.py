"""What the commands print: the API's JSON with ``--json`` (the same response models), else plain lines."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

import typer
from pydantic import BaseModel

from convergenze.core.formatting import euro, italian_date
from convergenze.core.records import Evidence
from convergenze.core.vocabulary import ActorType, Verdict

if TYPE_CHECKING:  # annotations only: `--help` and `--server` need not import the services
    from convergenze.services.responses import ActorList, ExtractOut, HitList, MatchOut, OverlapOut
    from convergenze.services.wiring import IndexStats

_MARKS = {Verdict.OK: "+", Verdict.NO: "x", Verdict.UNKNOWN: "?"}


def dump(value: BaseModel | dict[str, Any]) -> None:
    typer.echo(value.model_dump_json(indent=2) if isinstance(value, BaseModel) else json.dumps(
        value, ensure_ascii=False, indent=2))


def hits(found: HitList) -> None:
    if not found.data:
        typer.echo("no results")
    for rank, hit in enumerate(found.data, 1):
        language = f", {hit.language}" if hit.language else ""
        typer.echo(f"{rank:>2}. [{hit.type}{language}] {hit.title}  ({hit.id}, score {round(hit.score, 4)})")
        if hit.non_call_kind:
            typer.echo(f"    NOT A FUNDING CALL ({hit.non_call_kind})")
        snippet = " ".join(hit.snippet.split())
        typer.echo(f"    {snippet[:220]}{'…' if len(snippet) > 220 else ''}")


def matches(out: MatchOut) -> None:
    if not out.data:
        typer.echo("no results")
    for rank, hit in enumerate(out.data, 1):
        marks = " ".join(f"{v.criterion}{_MARKS[v.verdict]}" for v in hit.eligibility)
        typer.echo(f"{rank:>2}. [{hit.type}] {hit.title}  ({hit.id}, score {hit.score:.3f})")
        typer.echo(f"    {hit.eligible}: {marks}")
        if hit.why and hit.why.missions:
            typer.echo("    shared missions: " + ", ".join(m["label"] for m in hit.why.missions[:4]))
        for project in hit.similar_projects[:2]:
            typer.echo(f"    funded here: {project.title[:90]} ({project.implementing_body})")
    if out.partners:
        typer.echo("partners: " + "; ".join(p.name for p in out.partners[:5]))


def _quote(evidence: Evidence | None, width: int = 110) -> str:
    if evidence is None:
        return ""
    text = " ".join(evidence.text.split())
    return f"  «{text[:width]}{'…' if len(text) > width else ''}»"


def extraction(out: ExtractOut) -> None:
    """One line per value the call states, with the words it states it in."""
    meta = out.extracted
    kind = "a funding call" if out.is_funding_call else f"not a funding call ({meta.non_call_kind})"
    typer.echo(f"{kind}; language {out.language or '?'}; status {meta.status}")
    for label, found in (("opens", meta.opening), ("deadline", meta.deadline)):
        if found is not None:
            typer.echo(f"{label}: {italian_date(found.value)}{found.value[10:].replace('T', ' ore ')}"
                       f"{_quote(found.evidence)}")
    if meta.rolling:
        typer.echo(f"open until the resources run out{_quote(meta.rolling_evidence)}")
    for label, amount in (("budget", meta.total_budget), ("max per project", meta.max_per_project),
                          ("min per project", meta.min_per_project)):
        if amount is not None:
            typer.echo(f"{label}: {euro(amount.value)}{_quote(amount.evidence)}")
    if meta.cofinancing_rate is not None:
        typer.echo(f"co-financing: {meta.cofinancing_rate:.0%}{_quote(meta.cofinancing_evidence)}")
    if meta.issuer:
        typer.echo(f"issuer: {meta.issuer}{_quote(meta.issuer_evidence)}")
    for who in meta.beneficiaries:
        typer.echo(f"for {ActorType(who.actor_type).label}: {who.wording}{_quote(who.evidence)}")
    for place in meta.territory:
        typer.echo(f"where: {place.name} ({place.level}){_quote(place.evidence)}")
    for form in meta.support_forms:
        typer.echo(f"support: {form.form}{_quote(form.evidence)}")
    if meta.firm_sizes:
        typer.echo("firm sizes: " + ", ".join(s.size for s in meta.firm_sizes) + _quote(meta.firm_sizes[0].evidence))
    for programme in meta.programmes:
        typer.echo(f"programme: {programme.code}{_quote(programme.evidence)}")
    if out.missions:
        typer.echo("missions: " + "; ".join(f"{m.label} ({m.framework} {m.code}, {m.score:.2f})" for m in out.missions))
    for objective in out.objectives[:3]:
        typer.echo(f"objective: {' '.join(objective.text.split())[:160]}")


def overlaps(out: OverlapOut) -> None:
    for title, items in (("overlaps", out.overlaps), ("complements", out.complements)):
        typer.echo(f"{title}: {len(items)}")
        for item in items:
            typer.echo(f"  [{item.type}] {item.title}  ({item.id}, {item.score:.3f})")
            typer.echo(f"    {item.reason}")


def actors(found: ActorList) -> None:
    for actor in found.data:
        typer.echo(f"{actor.name} [{actor.type or '?'}]: {actor.projects} projects, "
                   f"€ {actor.amount:,.0f}, {', '.join(actor.regions[:3])}")
    typer.echo(f"{len(found.data)} of {found.count}")


def stats(figures: IndexStats) -> None:
    typer.echo(f"documents: {figures.documents}   points: {figures.points}")
    for name, counts in (("by type", figures.by_type), ("by source", figures.by_source)):
        typer.echo(f"{name}: " + ", ".join(f"{k} {v}" for k, v in sorted(counts.items())))
    if figures.last_ingestion:
        typer.echo(f"last ingestion finished {figures.last_ingestion.get('finished')}")
