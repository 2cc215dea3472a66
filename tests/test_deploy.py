"""The scale path's files (compose.yaml, Dockerfile, .dockerignore) against the project they deploy.

What can be checked without Docker is checked on every run: pinned images whose versions agree with
pyproject.toml and prefect.yaml, environment names the README documents, commands the CLI has, secrets that
come from the environment and are never empty, a non-root image with a health check. `docker compose config`
runs where a docker CLI with the compose plugin is installed (it needs no daemon and pulls nothing) and the test
says why it skipped otherwise. Nothing here builds the image or starts a container.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import tomllib
from pathlib import Path
from typing import Any

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[1]
APP_SERVICES = ("worker", "api", "dask-scheduler", "dask-worker")
CORE_SERVICES = ("qdrant", "prefect", "worker", "api")
SECRET = re.compile(r"(?:^|_)(?:KEY|SECRET|PASSWORD|TOKEN)(?:$|_)")
REQUIRED_FROM_ENV = re.compile(r"^\$\{[A-Z0-9_]+:\?[^}]+\}$")


@pytest.fixture(scope="module")
def compose() -> dict[str, Any]:
    return yaml.safe_load((ROOT / "compose.yaml").read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def services(compose: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return compose["services"]


@pytest.fixture(scope="module")
def pins() -> dict[str, str]:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    found = {"convergenze": project["version"]}
    for requirement in project["dependencies"]:
        name, _, version = requirement.partition("==")
        if version:
            found[name.strip()] = version.strip()
    return found


@pytest.fixture(scope="module")
def dockerfile() -> list[tuple[str, str]]:
    """The Dockerfile's instructions, continuation lines joined: (INSTRUCTION, arguments)."""
    text = re.sub(r"\\\n", " ", (ROOT / "Dockerfile").read_text(encoding="utf-8"))
    lines = [line.strip() for line in text.splitlines() if line.strip() and not line.lstrip().startswith("#")]
    return [(line.split(maxsplit=1)[0].upper(), line.split(maxsplit=1)[1]) for line in lines]


def _readme_table() -> set[str]:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    table = readme[readme.index("## Configuration"):]
    table = table[: table.index("\n## ", 1)]
    return {name for row in table.splitlines() if row.startswith("| `")
            for name in re.findall(r"`([A-Z][A-Z0-9_]+)`", row.split(" | ")[0])}


def _cli_commands() -> set[str]:
    import typer

    from convergenze.cli.app import app

    return set(typer.main.get_command(app).commands)  # type: ignore[attr-defined]


def _env(service: dict[str, Any]) -> dict[str, str | None]:
    found = service.get("environment") or {}
    assert isinstance(found, dict), "environment as a mapping, so that anchors merge and names can be read"
    return found


def test_every_service_is_there_with_the_dask_ones_behind_a_profile(services: dict[str, dict[str, Any]]) -> None:
    assert set(CORE_SERVICES) <= set(services)
    for name in CORE_SERVICES:
        assert not services[name].get("profiles"), f"{name} must start with a plain `docker compose up`"
    for name in ("dask-scheduler", "dask-worker"):
        assert services[name]["profiles"] == ["dask"]


def test_pulled_images_are_pinned_to_the_versions_the_project_uses(services: dict[str, dict[str, Any]],
                                                                   pins: dict[str, str]) -> None:
    for name, service in services.items():
        if "build" in service:
            continue
        repository, _, tag = service["image"].partition(":")
        assert re.match(r"v?\d+\.\d+\.\d+", tag), f"{name}: pin {repository} to a release, not {tag or 'latest'!r}"
    prefect_tag = services["prefect"]["image"].partition(":")[2]
    assert prefect_tag.startswith(f"{pins['prefect']}-python3."), "the Prefect server is the client's version"
    declared = yaml.safe_load((ROOT / "prefect.yaml").read_text(encoding="utf-8"))["prefect-version"]
    assert str(declared) == pins["prefect"], "prefect.yaml's prefect-version is pyproject's prefect"
    qdrant_tag = services["qdrant"]["image"].partition(":")[2]
    # qdrant-client speaks to servers of its own major.minor (one minor apart at most, with a warning).
    assert qdrant_tag.lstrip("v").split(".")[:2] == pins["qdrant-client"].split(".")[:2]


def test_the_app_image_is_built_here_and_tagged_with_the_projects_version(services: dict[str, dict[str, Any]],
                                                                         pins: dict[str, str]) -> None:
    for name in APP_SERVICES:
        assert services[name]["build"]["context"] == ".", name
        assert services[name]["image"] == f"convergenze:{pins['convergenze']}", name


def test_app_services_set_only_documented_variables(services: dict[str, dict[str, Any]],
                                                    dockerfile: list[tuple[str, str]]) -> None:
    documented = _readme_table()
    for name in APP_SERVICES:
        undocumented = sorted(set(_env(services[name])) - documented)
        assert not undocumented, f"{name} sets variables missing from the README's configuration table: {undocumented}"
    image_env = {match for instruction, arguments in dockerfile if instruction == "ENV"
                 for match in re.findall(r"\b((?:CONVERGENZE|QDRANT)_[A-Z0-9_]+)=", arguments)}
    assert image_env, "the image sets its data, models and corpora directories"
    assert not sorted(image_env - documented), "the Dockerfile sets variables the README does not document"


def test_interpolated_variables_are_explained_in_the_readme(compose: dict[str, Any]) -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    used = set(re.findall(r"\$\{([A-Z0-9_]+)", (ROOT / "compose.yaml").read_text(encoding="utf-8")))
    assert used and not sorted(u for u in used if f"`{u}" not in readme)


def test_the_services_find_each_other_by_name(services: dict[str, dict[str, Any]]) -> None:
    for name in ("worker", "api"):
        env = _env(services[name])
        assert env["QDRANT_URL"] == "http://qdrant:6333", name
        assert services[name]["depends_on"]["qdrant"]["condition"] == "service_healthy"
    assert _env(services["worker"])["PREFECT_API_URL"] == "http://prefect:4200/api"
    assert services["worker"]["depends_on"]["prefect"]["condition"] == "service_healthy"
    assert services["prefect"]["command"][:3] == ["prefect", "server", "start"]
    assert "4200" in services["prefect"]["command"]
    assert services["dask-worker"]["command"][:3] == ["dask", "worker", "tcp://dask-scheduler:8786"]
    assert "8786" in services["dask-scheduler"]["command"]


def test_app_commands_are_commands_the_cli_has(services: dict[str, dict[str, Any]],
                                               dockerfile: list[tuple[str, str]]) -> None:
    commands = _cli_commands()
    for name in ("worker", "api"):
        program, command = services[name]["command"][:2]
        assert program == "convergenze" and command in commands, f"{name}: `convergenze {command}` does not exist"
    default = [i for i, _ in dockerfile].index("CMD")
    program, command = yaml.safe_load(dockerfile[default][1])[:2]  # the exec form is a JSON (so YAML) list
    assert program == "convergenze" and command in commands
    built = [args for instruction, args in dockerfile if instruction == "RUN" and "convergenze " in args]
    assert any("convergenze setup-model" in args for args in built), "the image carries the built model"
    assert "setup-model" in commands


def test_the_worker_serves_the_pool_prefect_yaml_deploys_to(services: dict[str, dict[str, Any]]) -> None:
    from convergenze.pipelines.scheduler import POOL

    assert services["worker"]["command"] == ["convergenze", "schedule"]
    deployments = yaml.safe_load((ROOT / "prefect.yaml").read_text(encoding="utf-8"))["deployments"]
    assert {d["work_pool"]["name"] for d in deployments} == {POOL}
    assert any(d["entrypoint"] == "pipelines/ingest.py:ingest_flow" for d in deployments)


def test_secrets_come_from_the_environment_and_are_never_empty(services: dict[str, dict[str, Any]],
                                                              dockerfile: list[tuple[str, str]]) -> None:
    for name, service in services.items():
        for variable, value in _env(service).items():
            if not SECRET.search(variable):
                continue
            # Unset stays unset (a name without a value), or the start fails with a message (${X:?...}); a
            # default of "" would hand Qdrant an empty key, which it takes as a key anyone can send.
            assert value is None or REQUIRED_FROM_ENV.match(str(value)), f"{name}: {variable}={value!r}"
    assert REQUIRED_FROM_ENV.match(_env(services["qdrant"])["QDRANT__SERVICE__API_KEY"] or "")
    assert _env(services["worker"])["QDRANT_API_KEY"] == _env(services["qdrant"])["QDRANT__SERVICE__API_KEY"]
    baked = [n for i, a in dockerfile if i in ("ENV", "ARG") for n in re.findall(r"\b([A-Z][A-Z0-9_]*)=", a)]
    assert "CONVERGENZE_DATA" in baked and not [n for n in baked if SECRET.search(n)], "a secret baked into the image"
    ignored = (ROOT / ".dockerignore").read_text(encoding="utf-8").split()
    assert {".git", ".venv", "data", ".env"} <= set(ignored), "the build context leaves out data and secrets"


def test_state_lives_in_volumes_and_the_corpora_are_read_only(compose: dict[str, Any],
                                                              services: dict[str, dict[str, Any]],
                                                              dockerfile: list[tuple[str, str]]) -> None:
    assert "qdrant:/qdrant/storage" in services["qdrant"]["volumes"]
    assert any(v.endswith(":/root/.prefect") for v in services["prefect"]["volumes"])
    models = re.search(r"CONVERGENZE_MODELS=(\S+)", " ".join(a for i, a in dockerfile if i == "ENV"))
    assert models is not None
    for name in ("worker", "api"):
        mounts = {v.split(":")[1]: v for v in services[name]["volumes"]}
        assert mounts["/data"].startswith("data:"), f"{name} shares the data volume (catalog, state, keys)"
        assert mounts["/corpora"].endswith(":ro"), f"{name} must mount the corpora read-only"
        # A volume over the model's directory would hide the model built into the image.
        assert not any(models.group(1).startswith(target) for target in mounts)
    assert set(compose["volumes"]) == {"data", "qdrant", "prefect"}


def test_the_image_runs_as_a_user_and_checks_its_health(dockerfile: list[tuple[str, str]],
                                                        services: dict[str, dict[str, Any]],
                                                        pins: dict[str, str]) -> None:
    users = [arguments for instruction, arguments in dockerfile if instruction == "USER"]
    assert users and users[-1].split(":")[0] not in ("root", "0"), "the app runs as a user, not root"
    check = next(arguments for instruction, arguments in dockerfile if instruction == "HEALTHCHECK")
    assert "http://127.0.0.1:8000/health" in check
    health = (ROOT / "api" / "routes" / "health.py").read_text(encoding="utf-8")
    assert '@router.get("/health"' in health
    first_torch = next(a for i, a in dockerfile if i == "RUN" and "torch" in a)
    assert f"torch=={pins['torch']}" in first_torch, "the CPU torch of pyproject.toml, installed first"
    for name in ("qdrant", "prefect"):
        assert services[name]["healthcheck"]["test"][0] == "CMD", name
    for name in ("worker", "dask-worker"):  # no HTTP there: the image's check would mark them unhealthy
        assert services[name]["healthcheck"] == {"disable": True}


def test_the_file_follows_the_compose_specification() -> None:
    """The Compose specification's own model (compose-spec, a dev dependency): unknown keys, wrong types, bad
    durations and conditions are refused here too, where Docker's compose plugin is not installed."""
    compose_spec = pytest.importorskip("compose_spec", reason="compose-spec is not installed (pip install -e '.[dev]')")
    parsed = compose_spec.PyOptions(apply_merge=True).from_yaml((ROOT / "compose.yaml").read_text(encoding="utf-8"))
    parsed.validate()
    assert set(parsed.service_names()) == {*CORE_SERVICES, "dask-scheduler", "dask-worker"}
    merged = parsed.to_dict()["services"]
    assert merged["worker"]["volumes"] == merged["api"]["volumes"], "the anchors merge into both app services"
    assert not merged["dask-worker"].get("volumes"), "Dask workers mount nothing"


def _compose_cli() -> list[str] | None:
    docker = shutil.which("docker")
    if docker is None:
        return None
    found = subprocess.run([docker, "compose", "version"], capture_output=True, text=True, timeout=30, check=False)
    return [docker, "compose"] if found.returncode == 0 else None


@pytest.mark.parametrize("profile", [None, "dask"])
def test_docker_compose_accepts_the_file(profile: str | None, tmp_path: Path) -> None:
    cli = _compose_cli()
    if cli is None:
        pytest.skip("no docker CLI with the compose plugin here: `docker compose config` not run "
                    "(the static checks above still ran)")
    env = {**os.environ, "QDRANT_API_KEY": "a-test-key-that-is-long-enough"}
    # A developer's own .env is left out: the file must stand on what the test gives it.
    base = [*cli, "--env-file", os.devnull, "-f", str(ROOT / "compose.yaml")]
    profiles = ["--profile", profile] if profile else []
    done = subprocess.run([*base, *profiles, "config", "--quiet"], cwd=ROOT, env=env, capture_output=True,
                          text=True, timeout=60, check=False)
    assert done.returncode == 0, done.stderr
    missing = {k: v for k, v in env.items() if k != "QDRANT_API_KEY"}
    refused = subprocess.run([*base, "config", "--quiet"], cwd=tmp_path, env=missing, capture_output=True,
                             text=True, timeout=60, check=False)
    assert refused.returncode != 0 and "QDRANT_API_KEY" in refused.stderr, "no Qdrant without its key"
