"""The project's named errors: what a person can act on, in plain words.

Three kinds, so that each entry point reports them one way (the CLI's exit codes in ``cli/errors.py``, the
API's statuses in ``api/errors.py``) without catching blanket ``ValueError`` or ``RuntimeError``:

- ``InvalidInput``: the caller's request cannot be used (an empty query, an unknown region, a bad upload);
- ``NotReady``: what the request needs is not built yet (the catalog before the first ingestion);
- ``Unavailable``: something outside the process failed or is taken (a source, a server, the index writer).

They stay ``ValueError``/``RuntimeError`` subclasses, so code that predates them keeps catching them.
"""

from __future__ import annotations


class ConvergenzeError(Exception):
    """Base of the errors whose message tells the user what to do."""


class InvalidInput(ConvergenzeError, ValueError):
    """The caller's input cannot be used; the message says what to give instead."""


class NotReady(ConvergenzeError, RuntimeError):
    """What the request needs is not built yet; the message says which command builds it."""


class Unavailable(ConvergenzeError, RuntimeError):
    """Something outside this process failed or is held by another process."""
