"""The SSRF policy: every forbidden address family is refused before any connection, redirects are checked
hop by hop, webhooks follow none, and the connection goes to the address that was checked (DNS rebinding)."""

from __future__ import annotations

import pytest

from convergenze.corpora.http import FetchError, FetchPolicy, HttpFetcher
from convergenze.corpora.netguard import BlockedDestination, NetPolicy, system_resolver
from tests.local_server import LOCAL, LocalSite, Response, serve

FORBIDDEN = [
    "http://127.0.0.1/hook",
    "http://127.1/hook",  # short form of 127.0.0.1
    "http://2130706433/hook",  # decimal 127.0.0.1
    "http://0x7f000001/hook",  # hexadecimal
    "http://localhost/hook",
    "http://0.0.0.0/hook",
    "http://[::1]/hook",
    "http://[::]/hook",
    "http://[::ffff:127.0.0.1]/hook",  # IPv4-mapped
    "http://[::ffff:a9fe:a9fe]/latest/meta-data",  # IPv4-mapped 169.254.169.254
    "http://169.254.169.254/latest/meta-data",  # cloud metadata: link-local
    "http://[fe80::1]/hook",
    "http://10.1.2.3/hook",
    "http://172.16.0.1/hook",
    "http://192.168.1.1/hook",
    "http://100.64.0.1/hook",  # shared address space (carrier NAT)
    "http://[fd00::1]/hook",  # unique local
    "http://224.0.0.1/hook",  # multicast
    "http://240.0.0.1/hook",  # reserved
    "http://[2002:7f00:1::1]/hook",  # 6to4 of 127.0.0.1
]


@pytest.mark.parametrize("url", FORBIDDEN)
def test_every_non_public_address_family_is_refused(url: str) -> None:
    with pytest.raises(BlockedDestination, match="not allowed"):
        NetPolicy().check_url(url)


@pytest.mark.parametrize(
    ("url", "reason"),
    [
        ("ftp://8.8.8.8/file", "only http and https"),
        ("file:///etc/passwd", "only http and https"),
        ("http://8.8.8.8:22/", "port 22 is not allowed"),
        ("https://user:pw@8.8.8.8/", "user name or password"),
        ("http://no-such-host.invalid/", "does not resolve"),
    ],
)
def test_schemes_ports_credentials_and_unknown_hosts_are_refused(url: str, reason: str) -> None:
    with pytest.raises(BlockedDestination, match=reason):
        NetPolicy().check_url(url)


def test_public_addresses_pass_and_allowed_private_hosts_open_an_intranet() -> None:
    NetPolicy().check_url("https://8.8.8.8/hook")
    NetPolicy.from_lists([], [8443]).check_url("https://8.8.8.8:8443/hook")
    intranet = NetPolicy.from_lists(["10.0.0.0/8", "[::1]"], [])
    intranet.check_url("http://10.20.30.40:9000/hook")  # an allowed host may use any port
    intranet.check_url("http://[::1]:8080/hook")
    with pytest.raises(BlockedDestination):
        intranet.check_url("http://192.168.0.1/hook")


def test_a_name_resolving_to_one_public_and_one_private_address_is_refused() -> None:
    policy = NetPolicy(resolver=lambda host, port: ["8.8.8.8", "10.0.0.1"])
    with pytest.raises(BlockedDestination, match="private"):
        policy.check_url("http://mixed.example/")


def fetcher(policy: NetPolicy) -> HttpFetcher:
    return HttpFetcher(FetchPolicy(min_interval=0.0, retries=2, backoff=0.0, timeout=5.0, net=policy))


def test_a_fetch_to_a_forbidden_address_fails_at_once_without_retries() -> None:
    site = LocalSite(routes={"/p": lambda request: Response(200, b"secret")})
    with serve(site), fetcher(NetPolicy()) as http:
        with pytest.raises(FetchError, match="loopback address: not allowed") as error:
            http.get(site.url("/p"))
    assert not error.value.retryable and site.requests == []


def test_a_redirect_from_an_allowed_host_to_a_forbidden_one_is_refused() -> None:
    inner = LocalSite(routes={"/admin": lambda request: Response(200, b"internal")})
    with serve(inner):
        # The allowed host answers 127.0.0.1 under another name; the redirect target is 127.0.0.1 itself, which
        # this policy does not allow by address.
        policy = NetPolicy.from_lists(["allowed.test"], [],
                                      resolver=lambda host, port: ["127.0.0.1"] if host == "allowed.test"
                                      else system_resolver(host, port))
        outer = LocalSite(routes={"/go": lambda request: Response(302, headers={"Location": inner.url("/admin")})})
        with serve(outer):
            port = outer.base.rsplit(":", 1)[1]
            with fetcher(policy) as http, pytest.raises(FetchError, match="loopback address: not allowed"):
                http.get(f"http://allowed.test:{port}/go")
    assert inner.requests == [] and len(outer.requests) == 1


def test_a_webhook_post_follows_no_redirect() -> None:
    target = LocalSite(routes={"/elsewhere": lambda request: Response(200, b"ok")})
    with serve(target):
        moved = Response(307, headers={"Location": target.url("/elsewhere")})
        hook = LocalSite(routes={"/hook": lambda request: moved})
        with serve(hook), fetcher(LOCAL) as http:
            with pytest.raises(FetchError, match="redirect, which is not followed"):
                http.post(hook.url("/hook"), content=b"{}", follow_redirects=False)
    assert target.requests == []


def test_the_connection_goes_to_the_checked_address_dns_rebinding() -> None:
    """A resolver that answers an allowed address first and a forbidden one afterwards: the request reaches the
    first (the connection uses the checked answer; the conftest guard would raise on 10.0.0.1)."""
    answers = iter([["127.0.0.1"], ["10.0.0.1"], ["10.0.0.1"]])
    calls: list[str] = []

    def rebinding(host: str, port: int) -> list[str]:
        calls.append(host)
        return next(answers)

    site = LocalSite(routes={"/p": lambda request: Response(200, b"public page")})
    with serve(site):
        policy = NetPolicy.from_lists(["127.0.0.1"], [], resolver=rebinding)
        port = site.base.rsplit(":", 1)[1]
        with fetcher(policy) as http:
            assert http.get(f"http://rebind.test:{port}/p").body == b"public page"
    assert calls == ["rebind.test"]
    assert site.requests[0].headers["host"] == f"rebind.test:{port}"  # the name, not the address, is sent
