"""``convergenze keys``: make, list and revoke API keys (thin over ``services.access``)."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Annotated

import typer

from convergenze.core.settings import Settings
from convergenze.core.vocabulary import Role

from .errors import reported

if TYPE_CHECKING:
    from convergenze.services.access import AccessStore

app = typer.Typer(help="API keys: create (shown once), list, revoke.", no_args_is_help=True)


def _access(ctx: typer.Context) -> AccessStore:
    from convergenze.services.wiring import Services

    settings: Settings = ctx.obj
    return Services(settings).access  # opens the state store only


@app.command()
def create(
    ctx: typer.Context,
    name: Annotated[str, typer.Option("--name", help="Who or what uses the key.")],
    role: Annotated[Role, typer.Option("--role", help="reader, editor (alerts) or admin (keys, ingestion).")],
) -> None:
    """Make a key and print it once: only a hash of it is kept."""
    with reported():
        access = _access(ctx)
        key, plain = access.create(name, role)
        access.audit("cli", "admin", "key.create", key.id, None, None)
    typer.echo(plain)
    typer.echo(f"key {key.id} ({key.role.value}) for {key.name!r}: copy it now, it is not shown again.", err=True)


@app.command("list")
def list_keys(ctx: typer.Context, as_json: Annotated[bool, typer.Option("--json")] = False) -> None:
    """Every key: id, name, role, when made and, if so, revoked (never the key itself)."""
    keys = _access(ctx).all()
    if as_json:
        typer.echo(json.dumps([{"id": k.id, "name": k.name, "role": k.role.value, "created_at": k.created_at,
                                "revoked_at": k.revoked_at} for k in keys], indent=2))
        return
    for k in keys:
        state = f"revoked {k.revoked_at}" if k.revoked_at else "active"
        typer.echo(f"{k.id}  {k.role.value:<6}  {k.created_at}  {state:<30}  {k.name}")


@app.command()
def revoke(ctx: typer.Context, key_id: Annotated[str, typer.Argument(help="The key's id (see `keys list`).")]) -> None:
    """Revoke a key: it is refused from the next request on."""
    with reported():
        access = _access(ctx)
        key = access.revoke(key_id)
        access.audit("cli", "admin", "key.revoke", key.id, None, None)
    typer.echo(f"key {key.id} ({key.name!r}) revoked")
