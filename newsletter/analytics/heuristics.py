"""Which opens a machine made and which clicks a link scanner made (documented in the README).

MACHINE OPENS. An open is a tracking pixel fetched; many are fetched by no human:
- Apple Mail Privacy Protection pre-fetches every image of every message through Apple's proxy
  when the message arrives, whether or not it is read. Those fetches come with the bare user
  agent `Mozilla/5.0` (no browser or OS token) from Apple's network 17.0.0.0/8.
- Security gateways and scanners (Mimecast, Proofpoint, Barracuda, Microsoft Safe Links, ...)
  fetch images to inspect them, usually with a bot-like or product user agent.
- Either kind typically fetches within seconds of delivery.
So an open is a MACHINE open when its user agent is exactly `Mozilla/5.0`, or its IP is in
17.0.0.0/8, or its user agent is a known bot/scanner, or it came within
ANALYTICS_MACHINE_OPEN_SECONDS (10) of the delivery. Every other open is HUMAN. The report
counts recipients with a human open, and apart from them recipients whose only opens were
machine opens (an Apple Mail reader who really reads is then under-counted as machine: that is
the price of not inflating open rates, and clicks are the better signal anyway).

SCANNER CLICKS. Link scanners follow every link of a message within seconds of its delivery.
A recipient's clicks are a scanner's when at least ANALYTICS_SCANNER_MIN_LINKS (3) different
stories were clicked within ANALYTICS_SCANNER_BURST_SECONDS (10) of each other, starting within
ANALYTICS_SCANNER_AFTER_DELIVERY_SECONDS (120) of the delivery (or of the send when the ESP
reported no delivery); those clicks are not counted (the reader is still redirected). Requests
with a bot user agent, prefetches and HEAD requests are never recorded at all.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Sequence
from datetime import datetime, timedelta

from articles.reading.reads import is_bot

from . import conf

APPLE_PROXY_USER_AGENT = "Mozilla/5.0"
APPLE_NETWORKS = (ipaddress.ip_network("17.0.0.0/8"),)
_SCANNER_UA = re.compile(
    r"mimecast|proofpoint|barracuda|symantec|messagelabs|trend ?micro|forcepoint|ironport|cisco|"
    r"zscaler|safelinks|microsoft office|ms-office|fireeye|sophos|spamtitan|mailscanner|urlscan|scanner",
    re.IGNORECASE,
)


def from_apple_network(ip: str | None) -> bool:
    if not ip:
        return False
    try:
        address = ipaddress.ip_address(ip.strip())
    except ValueError:
        return False
    return any(address in network for network in APPLE_NETWORKS)


def is_machine_open(
    *, user_agent: str | None, ip: str | None, opened_at: datetime, delivered_at: datetime | None
) -> bool:
    agent = (user_agent or "").strip()
    if agent == APPLE_PROXY_USER_AGENT or from_apple_network(ip):
        return True
    if agent and (is_bot(agent) or _SCANNER_UA.search(agent)):
        return True
    if delivered_at is not None:
        return opened_at - delivered_at <= timedelta(seconds=conf.settings().ANALYTICS_MACHINE_OPEN_SECONDS)
    return False


def scanner_clicks(clicks: Sequence[tuple[int, datetime]], *, delivered_at: datetime | None) -> set[int]:
    """Indexes of `clicks` ((article id, time) of one recipient in one edition) made by a scanner."""
    if delivered_at is None or len(clicks) < conf.settings().ANALYTICS_SCANNER_MIN_LINKS:
        return set()
    burst = timedelta(seconds=conf.settings().ANALYTICS_SCANNER_BURST_SECONDS)
    after = timedelta(seconds=conf.settings().ANALYTICS_SCANNER_AFTER_DELIVERY_SECONDS)
    order = sorted(range(len(clicks)), key=lambda i: clicks[i][1])
    flagged: set[int] = set()
    for start, first in enumerate(order):
        first_at = clicks[first][1]
        if first_at - delivered_at > after:
            break
        window = [i for i in order[start:] if clicks[i][1] - first_at <= burst]
        if len({clicks[i][0] for i in window}) >= conf.settings().ANALYTICS_SCANNER_MIN_LINKS:
            flagged.update(window)
    return flagged
