"""Where the server may send a request: the one SSRF policy for every outbound request (live sources, listings,
linked PDFs, feeds, webhooks).

* http and https only, ports 80 and 443 unless allowed (``CONVERGENZE_ALLOWED_PORTS``);
* the host is resolved once and every address it resolves to is checked: loopback, private, shared,
  link-local, multicast, reserved and unspecified addresses are refused, in any spelling (``2130706433``,
  ``0x7f.1``, ``[::ffff:127.0.0.1]`` resolve to what they are, and the resolved address is what is checked);
* the connection is made to the checked address: ``GuardedBackend`` is httpcore's network backend, so there is
  no second lookup for a rebinding DNS server to answer differently, while TLS still checks the certificate
  against the host name (httpcore passes the URL's host as the server name);
* ``CONVERGENZE_ALLOWED_PRIVATE_HOSTS`` lets an intranet through: host names, addresses or networks (CIDR);
  a host so allowed may use any port.

``check_url`` is the same rule for a URL given by a user (a webhook at creation), before any connection.
"""

from __future__ import annotations

import ipaddress
import socket
import typing
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from urllib.parse import urlsplit

import httpcore

from convergenze.core.errors import InvalidInput
from convergenze.core.settings import FetchSettings

IpAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
Resolver = Callable[[str, int], Sequence[str]]
DEFAULT_PORTS = frozenset({80, 443})


class BlockedDestination(InvalidInput):
    """A URL or address the server refuses to connect to; the message says why in plain words."""


def system_resolver(host: str, port: int) -> list[str]:
    """Every address ``host`` resolves to (``getaddrinfo``: the system's own rules, numeric forms included)."""
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError) as error:
        raise BlockedDestination(f"the host {host!r} does not resolve") from error
    return list(dict.fromkeys(str(info[4][0]) for info in infos))


def forbidden_reason(address: IpAddress) -> str | None:
    """Why the address is not a public one, or None when it is."""
    if isinstance(address, ipaddress.IPv6Address):
        embedded = address.ipv4_mapped or address.sixtofour or (address.teredo[1] if address.teredo else None)
        if embedded is not None:
            return forbidden_reason(embedded)
    checks = (
        ("unspecified", address.is_unspecified),
        ("loopback", address.is_loopback),
        ("link-local", address.is_link_local),
        ("multicast", address.is_multicast),
        ("reserved", address.is_reserved),
        ("private", address.is_private),
        ("not public", not address.is_global),  # shared address space (100.64/10), documentation ranges...
    )
    return next((f"{name} address" for name, hit in checks if hit), None)


@dataclass(frozen=True, slots=True)
class NetPolicy:
    """Which destinations are allowed beyond the public internet on ports 80 and 443."""

    allowed_private: tuple[str, ...] = ()
    allowed_ports: frozenset[int] = DEFAULT_PORTS
    resolver: Resolver = field(default=system_resolver, compare=False)

    @classmethod
    def from_lists(cls, hosts: Iterable[str], ports: Iterable[int], resolver: Resolver = system_resolver) -> NetPolicy:
        return cls(tuple(h.strip().lower().strip("[]") for h in hosts if h.strip()), DEFAULT_PORTS | set(ports),
                   resolver)

    @classmethod
    def from_settings(cls, fetching: FetchSettings) -> NetPolicy:
        """``CONVERGENZE_ALLOWED_PRIVATE_HOSTS`` and ``CONVERGENZE_ALLOWED_PORTS``, comma-separated."""
        ports = [int(p) for p in fetching.allowed_ports.split(",") if p.strip().isdigit()]
        return cls.from_lists(fetching.allowed_private_hosts.split(","), ports)

    def _networks(self) -> list[ipaddress.IPv4Network | ipaddress.IPv6Network]:
        networks = []
        for entry in self.allowed_private:
            try:
                networks.append(ipaddress.ip_network(entry, strict=False))
            except ValueError:
                continue  # a host name
        return networks

    def host_allowed(self, host: str) -> bool:
        """A host the operator listed by name, or an address inside a listed network."""
        host = host.lower().strip("[]")
        if host in self.allowed_private:
            return True
        try:
            address = ipaddress.ip_address(host)
        except ValueError:
            return False
        return any(address in network for network in self._networks())

    def resolve(self, host: str, port: int) -> list[str]:
        """The addresses to connect to, each checked; raises ``BlockedDestination`` when any is refused (a name
        that resolves to one public and one private address is refused whole)."""
        by_name = self.host_allowed(host)
        addresses = list(self.resolver(host, port))
        if not addresses:
            raise BlockedDestination(f"the host {host!r} does not resolve")
        private = by_name
        for text in addresses:
            address = ipaddress.ip_address(text.split("%", 1)[0])
            if by_name or self.host_allowed(str(address)):
                private = True
            elif reason := forbidden_reason(address):
                raise BlockedDestination(f"{host} is a {reason}: not allowed")
        if not private and port not in self.allowed_ports:
            allowed = ", ".join(map(str, sorted(self.allowed_ports)))
            raise BlockedDestination(f"port {port} is not allowed (only {allowed})")
        return addresses

    def check_url(self, url: str) -> None:
        """The rule applied to a URL before any connection (a webhook at creation): scheme, port, addresses."""
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https"):
            raise BlockedDestination("only http and https URLs are allowed")
        try:
            port = parts.port or (443 if parts.scheme == "https" else 80)
        except ValueError as error:
            raise BlockedDestination("the URL's port is not a number") from error
        if not parts.hostname:
            raise BlockedDestination("the URL has no host")
        if parts.username or parts.password:
            raise BlockedDestination("URLs with a user name or password are not allowed")
        self.resolve(parts.hostname, port)


class GuardedBackend(httpcore.NetworkBackend):
    """httpcore's synchronous backend, connecting only to addresses the policy checked (one lookup)."""

    def __init__(self, policy: NetPolicy) -> None:
        self.policy = policy
        self._backend = httpcore.SyncBackend()

    def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: typing.Iterable[httpcore.SOCKET_OPTION] | None = None,
    ) -> httpcore.NetworkStream:
        addresses = self.policy.resolve(host, port)
        failures: list[Exception] = []
        for address in addresses:  # never empty: resolve() refuses a host without addresses
            try:
                return self._backend.connect_tcp(address, port, timeout, local_address, socket_options)
            except (httpcore.ConnectError, httpcore.ConnectTimeout) as error:
                failures.append(error)
        raise failures[-1]

    def connect_unix_socket(
        self, path: str, timeout: float | None = None,
        socket_options: typing.Iterable[httpcore.SOCKET_OPTION] | None = None,
    ) -> httpcore.NetworkStream:
        raise BlockedDestination("unix sockets are not allowed")

    def sleep(self, seconds: float) -> None:
        self._backend.sleep(seconds)
