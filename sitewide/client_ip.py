"""The client's IP address behind reverse proxies, and the key per-client limits count under.

The rule: `X-Forwarded-For` is believed only when the connection itself (`REMOTE_ADDR`) comes
from a proxy listed in `TRUSTED_PROXIES`. Each proxy appends the address it received the request
from, so reading the header from the right, entries are ours for as long as they are trusted
proxies; the first entry that is not one is the client. Everything left of it was written by the
client (or its own proxies) and may be forged. Without a trusted `REMOTE_ADDR` the header is
ignored: anyone can send it.

Why not django-ipware: its trusted-proxy list is matched position by position against the
trailing `X-Forwarded-For` entries (one entry per hop, in order, and an exact hop count in strict
mode) and never against `REMOTE_ADDR`; without a list it scans a dozen headers (`X-Real-IP`,
`CF-Connecting-IP`, ...) for the first public address, each of which a client reaching the app
directly can set. Neither is the rule above, so it is written here with `ipaddress`.

`limit_key` is what rate limits and caps count under: the address for IPv4, the /64 network for
IPv6, since one IPv6 subscriber line is usually given a whole /64 and could rotate through it.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Mapping
from functools import lru_cache

from django.conf import settings
from django.http import HttpRequest

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network


def parse_ip(value: str) -> IPAddress | None:
    """An address from a header or REMOTE_ADDR: tolerates surrounding spaces, an IPv4 port
    (`1.2.3.4:5678`), a bracketed IPv6 with or without port (`[2001:db8::1]:443`) and IPv4-mapped
    IPv6 (`::ffff:1.2.3.4`, as dual-stack sockets report IPv4 clients). None when not an IP."""
    text = value.strip()
    if text.startswith("["):
        text = text[1 : text.find("]")] if "]" in text else ""
    elif text.count(":") == 1:
        text = text.partition(":")[0]
    try:
        address = ipaddress.ip_address(text)
    except ValueError:
        return None
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        return address.ipv4_mapped
    return address


@lru_cache(maxsize=8)
def _networks(spec: tuple[str, ...]) -> tuple[IPNetwork, ...]:
    # Keyed by the setting's value, so tests that override TRUSTED_PROXIES get a fresh parse.
    # config.settings already refused invalid entries at startup.
    return tuple(ipaddress.ip_network(item, strict=False) for item in spec)


def _trusted(address: IPAddress, networks: tuple[IPNetwork, ...]) -> bool:
    return any(address.version == network.version and address in network for network in networks)


def client_ip(meta: Mapping[str, str]) -> str:
    """The client's address from a WSGI environ / request.META (see the module docstring).
    Normalised text (`2001:db8::1`, IPv4-mapped as IPv4); REMOTE_ADDR as given when it is not
    an IP (e.g. a unix socket), "" when there is none."""
    proxies = settings.TRUSTED_PROXIES
    forwarded = meta.get("HTTP_X_FORWARDED_FOR", "") if proxies else ""
    return _client_ip(meta.get("REMOTE_ADDR", ""), forwarded, tuple(proxies))


# On the read path (every read): the same few addresses arrive again and again, and parsing
# them with ipaddress costs more than the rest of identifying the reader.
@lru_cache(maxsize=4096)
def _client_ip(remote: str, forwarded: str, proxies: tuple[str, ...]) -> str:
    address = parse_ip(remote)
    if address is None:
        return remote
    if not proxies:
        return str(address)
    networks = _networks(proxies)
    if not forwarded or not _trusted(address, networks):
        return str(address)
    closest = address
    for entry in reversed(forwarded.split(",")):
        hop = parse_ip(entry)
        if hop is None:
            # Our own proxies write valid addresses: garbage here came from beyond them.
            break
        closest = hop
        if not _trusted(hop, networks):
            break
    # Every entry trusted (an internal client behind our proxies): the leftmost one.
    return str(closest)


def request_client_ip(request: HttpRequest) -> str:
    """client_ip for a Django request."""
    return client_ip(request.META)


def request_limit_address(request: HttpRequest) -> str:
    """What admin login throttling counts under (django-axes' AXES_CLIENT_IP_CALLABLE), like every
    other limit (`limit_key`): the client's IPv4 address, or for IPv6 the first address of its
    /64 (an address, not a network, because django-axes stores it in an IP address column).
    Keyed on the full IPv6 address, 55 guesses rotating inside one /64 were never blocked."""
    ip = client_ip(request.META)
    address = parse_ip(ip)
    if isinstance(address, ipaddress.IPv6Address):
        return str(ipaddress.IPv6Address(int(address) >> 64 << 64))
    return ip


@lru_cache(maxsize=4096)
def limit_key(ip: str) -> str:
    """The address for IPv4, its /64 network for IPv6 (`2001:db8:1:2::/64`); the input
    unchanged when it is not an IP."""
    address = parse_ip(ip)
    if address is None:
        return ip
    if isinstance(address, ipaddress.IPv6Address):
        return str(ipaddress.IPv6Network((int(address) >> 64 << 64, 64)))
    return str(address)
