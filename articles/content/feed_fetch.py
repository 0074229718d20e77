"""Fetching a feed over HTTP(S) without letting a feed URL reach into our own network (SSRF).

* Only absolute http(s) URLs (articles.content.urls_safety).
* Every address the host resolves to must be public: loopback, private (RFC 1918, IPv6 ULA),
  link-local (including the cloud metadata address 169.254.169.254), shared (100.64/10),
  multicast, reserved and unspecified addresses are refused, unless the host is listed in
  FEED_ALLOWED_HOSTS (a CMS on the internal network, a test server).
* The connection goes to the address that was checked, not to a second DNS answer, so a name
  that changes its answer between check and connect (DNS rebinding) cannot slip through; TLS
  still verifies the certificate for the host name.
* Redirects are followed by hand (at most MAX_REDIRECTS) and every target is checked the same way.
* One deadline covers resolving, connecting, TLS, every redirect and reading the body: at the
  deadline a watchdog shuts the socket, so a server that trickles a byte at a time cannot hold a
  worker for longer (a per-read timeout alone never fires on a trickle). The body is capped.

Environment proxies (HTTP_PROXY) are not used: the check is about where this process connects.
"""

from __future__ import annotations

import contextlib
import http.client
import ipaddress
import socket
import ssl
import threading
import time
from collections.abc import Collection
from concurrent.futures import ThreadPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeout
from urllib.parse import urljoin, urlsplit

from .urls_safety import safe_http_url

MAX_REDIRECTS = 5
CHUNK_BYTES = 64 * 1024
# getaddrinfo cannot be interrupted: it runs here so the caller can stop waiting at the deadline.
_resolver = ThreadPoolExecutor(max_workers=2, thread_name_prefix="feed-dns")


class FetchError(Exception):
    """The feed could not be fetched, or fetching it was refused."""


class _Deadline:
    def __init__(self, seconds: float) -> None:
        self.seconds = seconds
        self.end = time.monotonic() + seconds

    def left(self) -> float:
        remaining = self.end - time.monotonic()
        if remaining <= 0:
            raise FetchError(f"gave up after the {self.seconds:g} s deadline")
        return remaining

    def watch(self, sock: socket.socket) -> threading.Timer:
        """Shut the socket at the deadline: any blocked read or handshake returns at once."""

        def abort() -> None:
            with contextlib.suppress(OSError):  # already closed
                sock.shutdown(socket.SHUT_RDWR)

        timer = threading.Timer(max(self.end - time.monotonic(), 0), abort)
        timer.daemon = True
        timer.start()
        return timer


NAT64 = ipaddress.IPv6Network("64:ff9b::/96")


def _embedded_ipv4(address: ipaddress.IPv6Address) -> ipaddress.IPv4Address | None:
    """The IPv4 address an IPv6 one carries and reaches: IPv4-mapped (`::ffff:a.b.c.d`), 6to4
    (`2002:AABB:CCDD::`, which Python counts as global even around 127.0.0.1: issue 23) or the
    NAT64 well-known prefix (`64:ff9b::a.b.c.d`)."""
    if address.ipv4_mapped is not None:
        return address.ipv4_mapped
    if address.sixtofour is not None:
        return address.sixtofour
    if address in NAT64:
        return ipaddress.IPv4Address(int(address) & 0xFFFFFFFF)
    return None


def _refused(address: ipaddress.IPv4Address | ipaddress.IPv6Address) -> bool:
    if isinstance(address, ipaddress.IPv6Address):
        embedded = _embedded_ipv4(address)
        if address.ipv4_mapped is not None:
            return _refused(address.ipv4_mapped)  # it is that IPv4 address
        if embedded is not None and _refused(embedded):
            return True  # it leads to that IPv4 address
    # is_global alone lets multicast through (224.0.0.0/4 is not "private"): list every class.
    return (
        not address.is_global
        or address.is_private
        or address.is_loopback
        or address.is_link_local
        or address.is_multicast
        or address.is_reserved
        or address.is_unspecified
    )


def _resolve(host: str, port: int, deadline: _Deadline) -> list[str]:
    future = _resolver.submit(socket.getaddrinfo, host, port, type=socket.SOCK_STREAM)
    try:
        infos = future.result(timeout=deadline.left())
    except FutureTimeout:
        raise FetchError(f"resolving {host} took longer than the {deadline.seconds:g} s deadline") from None
    except OSError as error:
        raise FetchError(f"cannot resolve {host}: {error}") from error
    return list(dict.fromkeys(str(info[4][0]) for info in infos))


def _checked_address(host: str, port: int, *, allowed_hosts: Collection[str], deadline: _Deadline) -> str:
    addresses = _resolve(host, port, deadline)
    if not addresses:
        raise FetchError(f"{host} has no address")
    if host.lower() in allowed_hosts:
        return addresses[0]
    for text in addresses:
        if _refused(ipaddress.ip_address(text.split("%")[0])):
            raise FetchError(
                f"refused to fetch from {host}: it resolves to {text}, a loopback, private, link-local, "
                "multicast or reserved address (list the host in FEED_ALLOWED_HOSTS to allow it)"
            )
    return addresses[0]


class _PinnedHTTPConnection(http.client.HTTPConnection):
    """Connects to the checked address; Host header and everything else use the host name."""

    def __init__(self, host: str, port: int | None, *, address: str, deadline: _Deadline) -> None:
        super().__init__(host, port, timeout=deadline.left())
        self.address, self.deadline = address, deadline
        self.watchdog: threading.Timer | None = None

    def _open(self) -> socket.socket:
        sock = socket.create_connection((self.address, self.port), timeout=self.deadline.left())
        self.watchdog = self.deadline.watch(sock)
        return sock

    def connect(self) -> None:
        self.sock = self._open()

    def close(self) -> None:
        super().close()
        if self.watchdog is not None:
            self.watchdog.cancel()


class _PinnedHTTPSConnection(_PinnedHTTPConnection):
    default_port = http.client.HTTPS_PORT

    def connect(self) -> None:
        context = ssl.create_default_context()
        self.sock = context.wrap_socket(self._open(), server_hostname=self.host)


def _get(url: str, *, address: str, deadline: _Deadline, user_agent: str, max_bytes: int) -> tuple[int, str, bytes]:
    """(status, Location header, body) of one GET."""
    parts = urlsplit(url)
    connection_class = _PinnedHTTPSConnection if parts.scheme.lower() == "https" else _PinnedHTTPConnection
    connection = connection_class(parts.hostname or "", parts.port, address=address, deadline=deadline)
    path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    try:
        connection.request("GET", path, headers={"User-Agent": user_agent, "Accept-Encoding": "identity"})
        response = connection.getresponse()
        if response.status in (301, 302, 303, 307, 308):
            return response.status, response.getheader("Location") or "", b""
        if response.status != 200:
            return response.status, "", b""
        body = bytearray()
        while len(body) <= max_bytes:
            deadline.left()
            chunk = response.read1(CHUNK_BYTES)  # one recv at most: the loop sees the clock
            if not chunk:
                break
            body.extend(chunk)
        return 200, "", bytes(body)
    except (OSError, http.client.HTTPException) as error:
        deadline.left()  # a socket shut by the watchdog reports the deadline, not its symptom
        raise FetchError(f"cannot fetch {url}: {error}") from error
    finally:
        connection.close()


def fetch_url(
    url: str, *, max_bytes: int, deadline_seconds: float, allowed_hosts: Collection[str], user_agent: str
) -> bytes:
    """The body of `url` (at most max_bytes + 1 bytes, so the caller can tell it was too big),
    following redirects, under the rules of the module docstring."""
    deadline = _Deadline(deadline_seconds)
    allowed = {host.lower() for host in allowed_hosts}
    current = url
    for _ in range(MAX_REDIRECTS + 1):
        if not safe_http_url(current):
            raise FetchError(f"refused to fetch {current!r}: only http and https URLs are fetched")
        parts = urlsplit(current)
        host = parts.hostname or ""
        port = parts.port or (443 if parts.scheme.lower() == "https" else 80)
        address = _checked_address(host, port, allowed_hosts=allowed, deadline=deadline)
        status, location, body = _get(
            current, address=address, deadline=deadline, user_agent=user_agent, max_bytes=max_bytes
        )
        if status == 200:
            return body
        if not location:
            raise FetchError(f"cannot fetch {current}: HTTP {status}")
        current = urljoin(current, location)
    raise FetchError(f"cannot fetch {url}: more than {MAX_REDIRECTS} redirects")
