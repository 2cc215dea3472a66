"""Shared fixtures. The network is blocked for every test: only loopback connections are allowed."""

from __future__ import annotations

import ipaddress
import os
import shutil
import socket
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest

from convergenze.pipelines.runtime import configure_prefect

os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
# Prefect reads its settings on first import: its ephemeral server must keep its database out of the
# user's home and start with analytics off and a generous timeout (see pipelines/runtime.py).
os.environ.pop("PREFECT_API_URL", None)
os.environ["PREFECT_HOME"] = tempfile.mkdtemp(prefix="convergenze-prefect-")
configure_prefect(Path(os.environ["PREFECT_HOME"]))

_real_connect = socket.socket.connect
_real_connect_ex = socket.socket.connect_ex


def _is_loopback(address: object) -> bool:
    if isinstance(address, tuple) and address:
        host = str(address[0])
        if host in ("localhost", ""):
            return True
        try:
            return ipaddress.ip_address(host).is_loopback
        except ValueError:
            return False
    return True  # AF_UNIX paths


def _guarded_connect(self: socket.socket, address: object) -> None:
    if not _is_loopback(address):
        raise RuntimeError(f"Tests must not use the network (tried to connect to {address!r}).")
    return _real_connect(self, address)


def _guarded_connect_ex(self: socket.socket, address: object) -> int:
    if not _is_loopback(address):
        raise RuntimeError(f"Tests must not use the network (tried to connect to {address!r}).")
    return _real_connect_ex(self, address)


@pytest.fixture(autouse=True)
def _block_network(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(socket.socket, "connect", _guarded_connect)
    monkeypatch.setattr(socket.socket, "connect_ex", _guarded_connect_ex)


@pytest.fixture(scope="session")
def corpora_dir() -> Path:
    """The shared snapshot of real public data (read-only); tests that need it skip without it."""
    from convergenze.core.settings import DataSettings

    path = DataSettings().corpora_dir
    if not path.is_dir():
        pytest.skip(f"shared corpora not found at {path} (set CONVERGENZE_CORPORA)")
    return path


@pytest.fixture(scope="session")
def models_dir() -> Path:
    """The default embedding model and its export for the default backend, where ``make setup`` builds them
    (``CONVERGENZE_MODELS``, else ``data/models``): reused when complete, built from the installed packages
    otherwise. The int8 export takes minutes on two cores; building it once per session would double CI's time."""
    from convergenze.core.settings import DataSettings, EmbeddingSettings
    from convergenze.index.embeddings.factory import prepare_default_model

    data = DataSettings()
    prepare_default_model(data, EmbeddingSettings().backend)
    return data.models_dir.resolve()


def _subset_csv(
    source: Path,
    target: Path,
    keep: int | None = None,
    codes: set[str] | None = None,
    column: str = "Codice Univoco Submisura",
) -> None:
    import pandas as pd

    frame = pd.read_csv(source, sep=";", encoding="utf-8-sig", dtype=str)
    if codes is not None:
        frame = frame[frame[column].isin(codes)]
    if keep is not None:
        frame = frame.head(keep)
    target.parent.mkdir(parents=True, exist_ok=True)
    frame.to_csv(target, sep=";", index=False, encoding="utf-8-sig")


@pytest.fixture(scope="session")
def mini_mirror(corpora_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A small mirror built from the real snapshot, plus bad inputs: a truncated PDF, an empty PDF, a text
    file named .pdf, a call row without a serial number and an EU topic without an id."""
    import json

    import pandas as pd

    root = tmp_path_factory.mktemp("mirror")
    src, dst = corpora_dir / "italia-domani", root / "italia-domani"
    codes = {"M1C1I1.02.00", "M1C1I1.04.01", "M2C1I3.02.00", "M5C2I2.01.00", "M4C1I3.02.00", "M6C2I1.01.02"}
    _subset_csv(
        src / "OpenData_PNRR_QuadroFin_Programmazione_v04.csv",
        dst / "OpenData_PNRR_QuadroFin_Programmazione_v04.csv",
        codes=codes,
    )
    _subset_csv(
        src / "PNRR_MeT_OA_programmazione_v03.csv", dst / "PNRR_MeT_OA_programmazione_v03.csv", codes=codes
    )
    calls = pd.read_csv(src / "PNRR_Bandi_e_Avvisi.csv", sep=";", encoding="utf-8-sig", dtype=str).head(40)
    broken = calls.iloc[[0]].copy()
    broken["Numero seriale "] = None
    pd.concat([calls, broken]).to_csv(
        dst / "PNRR_Bandi_e_Avvisi.csv", sep=";", index=False, encoding="utf-8-sig"
    )
    _subset_csv(
        src / "OpenData_PNC_DescrizioneProgrammi.csv", dst / "OpenData_PNC_DescrizioneProgrammi.csv", keep=10
    )
    projects = pd.read_parquet(src / "PNRR_Progetti_validati.parquet")
    projects = (
        projects[projects["Codice Univoco Submisura"].isin(codes)]
        .groupby("Codice Univoco Submisura")
        .head(10)
    )
    projects.to_parquet(dst / "PNRR_Progetti_validati.parquet")
    places = pd.read_parquet(src / "PNRR_Localizzazioni_validate.parquet")
    places[places["CUP"].isin(set(projects["CUP"]))].to_parquet(dst / "PNRR_Localizzazioni_validate.parquet")

    topics = json.loads((corpora_dir / "eu-funding-tenders/topics.json").read_text(encoding="utf-8"))[:8]
    (root / "eu-funding-tenders").mkdir()
    (root / "eu-funding-tenders/topics.json").write_text(
        json.dumps(topics + [{"title": "no id"}]), encoding="utf-8"
    )
    shutil.copytree(corpora_dir / "regional-api-captures", root / "regional-api-captures")
    export = json.loads((corpora_dir / "incentivi-opendata/opendata-export-sample.json").read_text(encoding="utf-8"))
    # A national measure, a regional guarantee, an ISI grant filed as equity, a chamber of commerce, a UTC date.
    keep = {52, 80, 907, 1285, 2768, 3469}
    (root / "incentivi-opendata").mkdir()
    (root / "incentivi-opendata/opendata-export-sample.json").write_text(
        json.dumps([r for r in export if r["ID_Incentivo"] in keep], ensure_ascii=False), encoding="utf-8"
    )
    lazio = root / "regional-api-captures/lazioinnova_wp_bandi.json"
    capture = json.loads(lazio.read_text(encoding="utf-8"))
    capture["posts"] = capture["posts"][:6]  # long HTML pages: six are enough and keep the run short
    lazio.write_text(json.dumps(capture, ensure_ascii=False), encoding="utf-8")

    pdfs = root / "bandi-pdf"
    pdfs.mkdir()
    for name in ("cciaa_avviso_contributi_terzi.pdf", "inps_concorso_pubblico.pdf"):
        shutil.copy(corpora_dir / "bandi-pdf" / name, pdfs / name)
    whole = (corpora_dir / "bandi-pdf/filse_liguria_bando.pdf").read_bytes()
    (pdfs / "truncated_bando.pdf").write_bytes(whole[: len(whole) // 3])
    (pdfs / "empty_bando.pdf").write_bytes(b"")
    (pdfs / "not_really.pdf").write_text("Questo è un file di testo, non un PDF.", encoding="utf-8")
    return root


def use_environment(patch: pytest.MonkeyPatch, data_dir: Path, mirror: Path, models_dir: Path) -> None:
    patch.setenv("CONVERGENZE_DATA", str(data_dir))
    patch.setenv("CONVERGENZE_CORPORA", str(mirror))
    patch.setenv("CONVERGENZE_MODELS", str(models_dir))
    patch.delenv("QDRANT_URL", raising=False)


@pytest.fixture(scope="session")
def ingested(mini_mirror: Path, models_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> dict:
    """The mini mirror ingested once by a real Prefect flow run into a fresh embedded index."""
    from convergenze.pipelines.ingest import ingest_flow

    data_dir = tmp_path_factory.mktemp("data")
    with pytest.MonkeyPatch.context() as patch:
        use_environment(patch, data_dir, mini_mirror, models_dir)
        report = ingest_flow(today="2026-11-24", progress=False)
    return {"data_dir": data_dir, "report": report, "mirror": mini_mirror, "models_dir": models_dir}


@pytest.fixture
def ingested_env(ingested: dict, monkeypatch: pytest.MonkeyPatch) -> dict:
    """The session's ingested index, with the environment pointing at it for this test."""
    use_environment(monkeypatch, ingested["data_dir"], ingested["mirror"], ingested["models_dir"])
    return ingested


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


_DATA_ENV = {"CONVERGENZE_DATA", "CONVERGENZE_CORPORA", "CONVERGENZE_MODELS"}
ADMIN_KEY = "test-admin-key-0123456789"  # CONVERGENZE_API_KEY of the session's servers
# The session server: security as shipped, except a rate limit the other HTTP tests cannot reach.
SESSION_ENV = {
    "CONVERGENZE_API_KEY": ADMIN_KEY,
    "CONVERGENZE_RATE_LIMIT": "100000/minute",
    "CONVERGENZE_ALERT_RATE_LIMIT": "100000/minute",
    "CONVERGENZE_ALLOWED_PRIVATE_HOSTS": "127.0.0.1",
}


@contextmanager
def serve_api(ingested: dict, env: dict[str, str]) -> Iterator[str]:
    """The API of the session's ingested index with ``env`` set, served by uvicorn on 127.0.0.1 (real HTTP)."""
    from convergenze.api.main import create_app

    with pytest.MonkeyPatch.context() as patch:
        use_environment(patch, ingested["data_dir"], ingested["mirror"], ingested["models_dir"])
        for key in [k for k in os.environ if k.startswith("CONVERGENZE_") and k not in _DATA_ENV]:
            patch.delenv(key)  # another server's settings, still set by its fixture
        for key, value in env.items():
            patch.setenv(key, value)
        with serve_app(create_app()) as url:
            yield url


@contextmanager
def serve_app(app: Any) -> Iterator[str]:
    """``app`` served by uvicorn in a thread on a free port of 127.0.0.1 (real HTTP); stopped on exit."""
    import uvicorn

    port = _free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 120
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("the API server did not start")
        time.sleep(0.1)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=30)


@pytest.fixture(scope="session")
def base_url(ingested: dict) -> Iterator[str]:
    """The API of the session's ingested index, served by uvicorn on 127.0.0.1 (real HTTP)."""
    with serve_api(ingested, SESSION_ENV) as url:
        yield url


@pytest.fixture
def client(base_url: str) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=base_url, timeout=60) as http:
        yield http
