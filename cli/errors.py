"""The project's named errors as exit codes: one helper for every command."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import typer

from convergenze.core.errors import ConvergenzeError, InvalidInput, NotReady, Unavailable

# 2 is what typer itself answers to a bad option: the caller can fix it (or, for NotReady, run the command
# the message names); 1 is a failure outside the caller's hands.
EXIT_CODES: dict[type[ConvergenzeError], int] = {InvalidInput: 2, NotReady: 2, Unavailable: 1}


def exit_code(error: ConvergenzeError) -> int:
    return next((code for kind, code in EXIT_CODES.items() if isinstance(error, kind)), 1)


@contextmanager
def reported() -> Iterator[None]:
    """Print a named error as ``error: <message>`` on stderr and exit with its code; anything else is a bug
    and keeps its traceback."""
    try:
        yield
    except ConvergenzeError as error:
        typer.echo(f"error: {error}", err=True)
        raise typer.Exit(code=exit_code(error)) from error
