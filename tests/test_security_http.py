"""Security over real HTTP, against a server with public reading off and small limits: keys and roles, private
alerts, webhook addresses refused at creation, rate limits and model slots, bounded bodies (chunked too),
decompression bombs, short 422s, CORS."""

from __future__ import annotations

import io
import re
import socket
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import docx
import httpx
import pytest

from convergenze.api import errors
from convergenze.core.vocabulary import Role
from convergenze.corpora.state import StateStore
from convergenze.services.access import AccessStore
from tests.bombs import billion_laughs_docx, docx_bomb, pdf_bomb
from tests.conftest import ADMIN_KEY, serve_api

STRICT_ENV = {
    "CONVERGENZE_API_KEY": ADMIN_KEY,
    "CONVERGENZE_PUBLIC_READ": "false",
    "CONVERGENZE_RATE_LIMIT": "8/minute",
    "CONVERGENZE_ALERT_RATE_LIMIT": "5/minute",
    "CONVERGENZE_MAX_ALERTS": "3",
    "CONVERGENZE_MAX_CONCURRENT": "1",
    "CONVERGENZE_QUEUE_WAIT": "0.3",
    "CONVERGENZE_MAX_JSON_BYTES": "65536",
    "CONVERGENZE_MAX_UPLOAD_BYTES": str(2 * 2**20),
    "CONVERGENZE_CORS_ORIGINS": "https://ufficio.example",
    "CONVERGENZE_ALLOWED_PRIVATE_HOSTS": "",
}
PROJECT = "Il comune vuole digitalizzare i servizi dell'anagrafe e portarli in cloud per i cittadini."
pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def strict_url(ingested: dict) -> Iterator[str]:
    with serve_api(ingested, STRICT_ENV) as url:
        yield url


@pytest.fixture(scope="module")
def access(ingested: dict) -> AccessStore:
    return AccessStore(StateStore(Path(ingested["data_dir"]) / "state" / "state.sqlite"))


@pytest.fixture
def key(access: AccessStore) -> Iterator[object]:
    """A fresh key of a role for each call (fresh rate-limit budgets): ``key(Role.EDITOR)`` -> headers."""

    def make(role: Role) -> dict[str, str]:
        return {"Authorization": f"Bearer {access.create('tests', role)[1]}"}

    yield make


def test_health_is_open_and_public_data_needs_a_key_when_public_reading_is_off(strict_url: str, key) -> None:
    with httpx.Client(base_url=strict_url, timeout=60) as http:
        assert http.get("/health").status_code == 200
        anonymous = http.get("/v1/search", params={"q": "bando"})
        assert (anonymous.status_code, anonymous.json()) == (401, {"detail": errors.KEY_NEEDED})
        assert anonymous.headers["www-authenticate"] == "Bearer"
        wrong = http.get("/v1/search", params={"q": "bando"}, headers={"X-API-Key": "cvz_00000000_nope"})
        assert (wrong.status_code, wrong.json()) == (401, {"detail": errors.BAD_KEY})
        assert http.get("/v1/search", params={"q": "bando"}, headers=key(Role.READER)).status_code == 200
        assert http.get("/v1/taxonomy", headers={"X-API-Key": ADMIN_KEY}).status_code == 200


def test_the_pages_ask_for_a_signed_in_key_when_public_reading_is_off(strict_url: str, access: AccessStore) -> None:
    reader, plain = access.create("lettore del sito", Role.READER)
    with httpx.Client(base_url=strict_url, timeout=60) as browser:
        closed = browser.get("/search", params={"q": "bando"})
        assert closed.status_code == 401 and "Questo servizio è riservato" in closed.text
        form = browser.get("/alerts")  # where one signs in: open
        token = re.search(r'name="csrftoken" value="([^"]+)"', form.text)
        assert form.status_code == 200 and token
        signed = browser.post("/alerts/session", data={"key": plain, "csrftoken": token.group(1)})
        assert signed.status_code == 303
        assert browser.get("/search", params={"q": "bando"}).status_code == 200
        assert "permette solo la consultazione" in browser.get("/alerts").text  # a reader saves no alerts
        access.revoke(reader.id)
        assert browser.get("/search", params={"q": "bando"}).status_code == 401  # revoked: signed out at once


def test_writes_need_the_editor_role_and_revoked_keys_stop_working(strict_url: str, access: AccessStore) -> None:
    reader, reader_plain = access.create("lettore", Role.READER)
    editor, editor_plain = access.create("redattore", Role.EDITOR)
    alert = {"name": "Digitale", "query": "digitalizzazione"}
    with httpx.Client(base_url=strict_url, timeout=60) as http:
        refused = http.post("/v1/alerts", json=alert, headers={"Authorization": f"Bearer {reader_plain}"})
        assert (refused.status_code, refused.json()) == (403, {"detail": errors.ROLE_NEEDED.format(role="editor")})
        assert http.post("/v1/alerts", json=alert).status_code == 401
        made = http.post("/v1/alerts", json=alert, headers={"Authorization": f"Bearer {editor_plain}"})
        assert made.status_code == 201
        access.revoke(editor.id)
        gone = http.get("/v1/alerts", headers={"Authorization": f"Bearer {editor_plain}"})
        assert (gone.status_code, gone.json()) == (401, {"detail": errors.BAD_KEY})
    entries = [e for e in access.audit_log(200) if e.actor == editor.id]
    assert [(e.action, e.target, e.status) for e in entries] == [("alert.create", made.json()["id"], 201)]
    assert reader.id not in {e.actor for e in access.audit_log(200)}  # refused attempts change nothing


def test_alerts_are_private_to_their_owner(strict_url: str, key, access: AccessStore) -> None:
    owner, other, admin = key(Role.EDITOR), key(Role.EDITOR), {"X-API-Key": ADMIN_KEY}
    secret = "a-shared-secret-of-the-owner"
    body = {"name": "Scuole", "query": "efficienza energetica scuole", "email": "ufficio@comune.example",
            "webhook_url": "https://8.8.8.8/hook?token=s3cr3t", "secret": secret}
    with httpx.Client(base_url=strict_url, timeout=60) as http:
        alert = http.post("/v1/alerts", json=body, headers=owner).json()
        path = f"/v1/alerts/{alert['id']}"
        assert http.get("/v1/alerts", headers=other).json()["total"] == 0
        for method, url in (("GET", path), ("DELETE", path), ("GET", f"{path}/feed")):
            stranger = http.request(method, url, headers=other)
            assert (stranger.status_code, stranger.json()) == (404, {"detail": errors.ALERT_NOT_FOUND})
        mine = http.get(path, headers=owner).json()
        # A feed reader sends no key: the token in feed_url opens that feed, and no other.
        assert http.get(mine["feed_url"]).status_code == 200
        assert http.get(f"{path}/feed", params={"token": "0" * 32}).status_code == 401
        assert mine["email"] == "ufficio@comune.example" and "secret" not in mine
        assert alert["id"] in [a["id"] for a in http.get("/v1/alerts", headers=admin,
                                                         params={"limit": 100}).json()["data"]]
        # The same alert from another key is another alert: ids come from owner and content.
        assert http.post("/v1/alerts", json=body, headers=other).json()["id"] != alert["id"]
        assert http.delete(path, headers=owner).status_code == 204
    assert not any(secret in f"{e}" or "s3cr3t" in f"{e}" for e in access.audit_log(500))


def test_alerts_are_capped_per_owner_and_listed_a_page_at_a_time(strict_url: str, key) -> None:
    editor = key(Role.EDITOR)
    with httpx.Client(base_url=strict_url, timeout=60, headers=editor) as http:
        ids = [http.post("/v1/alerts", json={"name": f"A{i}", "query": f"tema {i}"}).json()["id"] for i in range(3)]
        over = http.post("/v1/alerts", json={"name": "A4", "query": "tema 4"})
        assert (over.status_code, over.json()) == (400, {"detail": errors.ALERT_LIMIT})
        page = http.get("/v1/alerts", params={"limit": 2, "offset": 1}).json()
        assert (page["total"], page["count"], [a["id"] for a in page["data"]]) == (3, 2, ids[1:])


@pytest.mark.parametrize(
    "url",
    ["http://127.0.0.1:8000/hook", "http://[::1]/hook", "http://169.254.169.254/latest/meta-data",
     "http://10.0.0.7/hook", "http://192.168.1.1/hook", "http://0.0.0.0/hook", "http://2130706433/hook",
     "http://[::ffff:127.0.0.1]/hook", "http://localhost/hook", "https://8.8.8.8:25/hook"],
)
def test_a_webhook_to_a_forbidden_address_is_refused_at_creation(strict_url: str, key, url: str) -> None:
    body = {"name": "SSRF", "query": "bandi", "webhook_url": url, "secret": "0123456789abcdef"}
    with httpx.Client(base_url=strict_url, timeout=60, headers=key(Role.EDITOR)) as http:
        response = http.post("/v1/alerts", json=body)
    assert response.status_code == 422
    assert response.json()["detail"].startswith("The webhook_url is not allowed: ")


def test_rate_limits_answer_429_with_retry_after(strict_url: str, key) -> None:
    reader, editor = key(Role.READER), key(Role.EDITOR)
    with httpx.Client(base_url=strict_url, timeout=60) as http:
        answers = [http.post("/v1/match", json={"text": " "}, headers=reader).status_code for _ in range(9)]
        assert answers == [400] * 8 + [429]
        limited = http.post("/v1/overlaps", json={"text": " "}, headers=reader)
        assert limited.status_code == 400  # each route has its own budget
        made = [http.post("/v1/alerts", json={"name": "x", "query": f"q{i}"}, headers=editor) for i in range(6)]
        assert [r.status_code for r in made][-1] == 429
        assert int(made[-1].headers["retry-after"]) >= 1 and made[-1].json() == {"detail": errors.RATE_LIMITED}
        assert http.post("/v1/match", json={"text": " "}, headers=key(Role.READER)).status_code == 400


def test_model_work_beyond_the_slots_is_a_503_not_a_pile_up(strict_url: str, key) -> None:
    def match(index: int) -> httpx.Response:
        with httpx.Client(base_url=strict_url, timeout=60, headers=key(Role.READER)) as http:
            return http.post("/v1/match", json={"text": f"{PROJECT} {index}", "explain": True})

    with ThreadPoolExecutor(6) as pool:
        statuses = [r.status_code for r in pool.map(match, range(6))]
    assert 200 in statuses and 503 in statuses and set(statuses) <= {200, 503}


def test_json_bodies_over_the_limit_are_refused_declared_or_chunked(strict_url: str) -> None:
    headers = {"X-API-Key": ADMIN_KEY, "content-type": "application/json"}
    big = b'{"text": "' + b"a" * 70_000 + b'"}'
    with httpx.Client(base_url=strict_url, timeout=60) as http:
        declared = http.post("/v1/match", content=big, headers=headers)
        chunked = http.post("/v1/match", content=iter([big[:40_000], big[40_000:]]), headers=headers)
    assert (declared.status_code, declared.json()) == (413, {"detail": errors.BODY_TOO_LARGE})
    assert (chunked.status_code, chunked.json()) == (413, {"detail": errors.BODY_TOO_LARGE})


def test_a_chunked_upload_over_the_limit_is_cut_off_while_streaming(strict_url: str) -> None:
    """No Content-Length: the server answers 413 after about the limit (2 MiB), not after the 300 MiB."""
    host, port = strict_url.removeprefix("http://").split(":")
    boundary = "xyz"
    head = (f"--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"big.txt\"\r\n"
            "Content-Type: text/plain\r\n\r\n").encode()
    sent, answer = 0, b""
    with socket.create_connection((host, int(port)), timeout=30) as sock:
        sock.sendall((f"POST /v1/match HTTP/1.1\r\nHost: {host}\r\nX-API-Key: {ADMIN_KEY}\r\n"
                      f"Content-Type: multipart/form-data; boundary={boundary}\r\n"
                      "Transfer-Encoding: chunked\r\n\r\n").encode())
        sock.sendall(b"%x\r\n%s\r\n" % (len(head), head))
        chunk = b"a" * 2**18
        sock.settimeout(0.05)
        while sent < 300 * 2**20 and not answer:
            try:
                sock.sendall(b"%x\r\n%s\r\n" % (len(chunk), chunk))
                sent += len(chunk)
                answer = sock.recv(4096)
            except TimeoutError:
                continue
            except (BrokenPipeError, ConnectionResetError):
                break
        sock.settimeout(10)
        while b"\r\n\r\n" not in answer:
            more = sock.recv(4096)
            if not more:
                break
            answer += more
    assert answer.startswith(b"HTTP/1.1 413"), answer[:200]
    assert sent < 8 * 2**20


def _upload(base: str, name: str, content: bytes) -> httpx.Response:
    with httpx.Client(base_url=base, timeout=120, headers={"X-API-Key": ADMIN_KEY}) as http:
        return http.post("/v1/match", files={"file": (name, content)})


def _truncated_docx() -> bytes:
    document = docx.Document()
    document.add_paragraph(PROJECT)
    buffer = io.BytesIO()
    document.save(buffer)
    return buffer.getvalue()[:-200]


@pytest.mark.parametrize(
    ("name", "make", "seconds"),
    [("bomba.docx", docx_bomb, 5), ("risate.docx", billion_laughs_docx, 5), ("tronco.docx", _truncated_docx, 5),
     ("bomba.pdf", pdf_bomb, 20)],
)
def test_hostile_files_are_a_quick_422_and_cost_the_server_nothing(strict_url: str, name: str, make: object,
                                                                    seconds: float) -> None:
    content = make()  # type: ignore[operator]
    started = time.monotonic()
    response = _upload(strict_url, name, content)
    assert (response.status_code, response.json()) == (422, {"detail": errors.UPLOAD_UNREADABLE})
    assert time.monotonic() - started < seconds
    with httpx.Client(base_url=strict_url, timeout=10) as http:
        assert http.get("/health").status_code == 200


def test_a_422_quotes_the_input_only_briefly(strict_url: str, key) -> None:
    with httpx.Client(base_url=strict_url, timeout=60, headers=key(Role.EDITOR)) as http:
        response = http.post("/v1/alerts", json={"name": "n" * 60_000, "query": "q"})
    assert response.status_code == 422 and len(response.content) < 1000
    assert response.json()["detail"][0]["loc"] == ["body", "name"]


def test_cors_answers_only_the_configured_origins(strict_url: str, base_url: str) -> None:
    preflight = {"Access-Control-Request-Method": "POST", "Access-Control-Request-Headers": "authorization"}
    with httpx.Client(timeout=30) as http:
        allowed = http.options(f"{strict_url}/v1/match", headers={"Origin": "https://ufficio.example", **preflight})
        other = http.options(f"{strict_url}/v1/match", headers={"Origin": "https://evil.example", **preflight})
        closed = http.get(f"{base_url}/health", headers={"Origin": "https://ufficio.example"})
    assert allowed.headers.get("access-control-allow-origin") == "https://ufficio.example"
    assert "access-control-allow-origin" not in other.headers
    assert "access-control-allow-origin" not in closed.headers


def test_the_server_keeps_answering_while_a_slow_client_uploads(strict_url: str) -> None:
    """A client that sends its body slowly holds no model slot: health and search still answer."""
    stop = threading.Event()

    def trickle() -> Iterator[bytes]:
        yield b'{"text": "'
        while not stop.is_set():
            time.sleep(0.05)
            yield b"a"
        yield b'"}'

    with ThreadPoolExecutor(1) as pool:
        slow = pool.submit(lambda: httpx.post(f"{strict_url}/v1/match", content=trickle(), timeout=60,
                                              headers={"X-API-Key": ADMIN_KEY, "content-type": "application/json"}))
        time.sleep(0.3)
        with httpx.Client(base_url=strict_url, timeout=10, headers={"X-API-Key": ADMIN_KEY}) as http:
            assert http.get("/health").status_code == 200
            assert http.get("/v1/search", params={"q": "bando"}).status_code == 200
        stop.set()
        assert slow.result().status_code == 200
