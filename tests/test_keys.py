"""`convergenze keys`: a key is printed once and only its HMAC is stored; list and revoke; roles."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from convergenze.cli.app import app
from convergenze.core.vocabulary import Role
from convergenze.corpora.state import StateStore
from convergenze.services.access import AccessStore

runner = CliRunner()


def test_a_key_is_shown_once_stored_as_a_hash_and_revoked(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CONVERGENZE_DATA", str(tmp_path))
    made = runner.invoke(app, ["keys", "create", "--name", "Ufficio bandi", "--role", "editor"])
    assert made.exit_code == 0, made.output
    plain = made.stdout.splitlines()[0]
    assert plain.startswith("cvz_") and len(plain) > 40
    state_file = tmp_path / "state" / "state.sqlite"
    assert plain.encode() not in state_file.read_bytes()
    assert oct((tmp_path / "state" / "keys.secret").stat().st_mode & 0o777) == "0o600"
    access = AccessStore(StateStore(state_file))
    found = access.verify(plain)
    assert found is not None and found.role is Role.EDITOR and found.name == "Ufficio bandi"
    listed = json.loads(runner.invoke(app, ["keys", "list", "--json"]).stdout)
    assert [(k["id"], k["role"], k["revoked_at"]) for k in listed] == [(found.id, "editor", None)]
    assert plain not in runner.invoke(app, ["keys", "list"]).stdout
    assert runner.invoke(app, ["keys", "revoke", found.id]).exit_code == 0
    assert access.verify(plain) is None
    unknown = runner.invoke(app, ["keys", "revoke", "deadbeef"])
    assert unknown.exit_code == 2 and "no key with id 'deadbeef'" in unknown.stderr
    assert [e.action for e in access.audit_log()] == ["key.revoke", "key.create"]


def test_roles_include_the_ones_below_and_the_environment_key_is_an_admin(tmp_path: Path) -> None:
    assert Role.ADMIN.includes(Role.EDITOR) and Role.EDITOR.includes(Role.READER)
    assert not Role.READER.includes(Role.EDITOR)
    access = AccessStore(StateStore(tmp_path / "state.sqlite"), env_key="an-environment-key-123")
    admin = access.verify("an-environment-key-123")
    assert admin is not None and admin.role is Role.ADMIN and admin.id == "env"
    assert access.verify("an-environment-key-124") is None and access.verify("cvz_x_y") is None
