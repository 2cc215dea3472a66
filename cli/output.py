"""What the commands print: the API's JSON with ``--json`` (the same response models), else plain lines."""

from __future__ import annotations

import json
from typing import Any

import typer
from pydantic import BaseModel

from convergenze.core.vocabulary import Verdict
from convergenze.services.responses import ActorList, HitList, MatchOut, OverlapOut
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
