"""One import name: the project's folders are importable only as convergenze.<folder>."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
FOLDERS = ("api", "cli", "core", "corpora", "extractors", "index", "matching", "pipelines", "services")


def _python(code: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    """``code`` as the installed package sees it: a PYTHONPATH naming the project's root (a checkout tried without
    installing it) would make every folder importable by its own name."""
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    return subprocess.run([sys.executable, "-c", code], cwd=cwd, capture_output=True, text=True, timeout=60, env=env)


def test_folders_import_under_convergenze_and_not_by_their_own_names(tmp_path: Path) -> None:
    found = _python("import convergenze.api, convergenze.index.search, convergenze.matching.service", tmp_path)
    assert found.returncode == 0, found.stderr
    for folder in FOLDERS:
        bare = _python(f"import {folder}", tmp_path)
        assert bare.returncode != 0 and "No module named" in bare.stderr, f"`import {folder}` should fail"


def test_the_import_root_links_every_folder() -> None:
    for folder in FOLDERS:
        link = ROOT / "convergenze" / folder
        assert link.is_symlink() and link.resolve() == ROOT / folder, f"convergenze/{folder} must link ../{folder}"
    packages = {p.parent.name for p in ROOT.glob("*/__init__.py")} - {"convergenze"}
    assert packages == set(FOLDERS), "a new top-level package needs its link in convergenze/ and pyproject.toml"


def test_no_layer_imports_one_above_it() -> None:
    """import-linter's contract (pyproject.toml): core, extractors, corpora, index, matching, pipelines, services,
    api, cli."""
    linted = subprocess.run([str(Path(sys.executable).with_name("lint-imports"))], cwd=ROOT, capture_output=True,
                            text=True, timeout=120)
    assert linted.returncode == 0, linted.stdout[-3000:]


def test_every_setting_is_in_the_readmes_configuration_table() -> None:
    import typing

    from pydantic import AliasChoices

    from convergenze.core.settings import Settings

    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    table = readme[readme.index("## Configuration"):]
    table = table[: table.index("\n## ", 1)]
    names = {
        str(alias)
        for concern in typing.get_type_hints(Settings).values()
        for field in concern.model_fields.values()
        if isinstance(field.validation_alias, AliasChoices)
        for alias in field.validation_alias.choices
    }
    assert names, "no settings found"
    missing = sorted(n for n in names if n not in table)
    assert not missing, f"settings missing from the README's configuration table: {missing}"
