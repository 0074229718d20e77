"""Feeds are hostile until checked: link schemes, addresses a fetch may reach, a deadline."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import call_command

from articles.content.feeds import FeedError, import_feed
from articles.content.models import Article
from articles.content.urls_safety import safe_http_url

FIXTURES = Path(__file__).parent / "fixtures"

RSS = """<?xml version="1.0" encoding="UTF-8"?>
<rss version="2.0"><channel><title>CMS</title><link>https://cms.example.com/</link><description>d</description>
{items}
</channel></rss>"""
ITEM = "<item><title>{title}</title>{guid}<link>{link}</link><description>نص</description></item>"


def rss(*items: tuple[str, str, str | None]) -> bytes:
    parts = [
        ITEM.format(title=title, link=link, guid=f'<guid isPermaLink="false">{guid}</guid>' if guid else "")
        for title, link, guid in items
    ]
    return RSS.format(items="\n".join(parts)).encode()


@pytest.mark.parametrize(
    ("url", "safe"),
    [
        ("https://cms.example.com/news/1", True),
        ("http://cms.example.com/news/1?a=b#c", True),
        ("  https://cms.example.com/x  ", True),
        ("javascript:alert(1)", False),
        ("JavaScript:alert(1)", False),
        ("java\tscript:alert(1)", False),
        (" javascript:alert(1)", False),
        ("data:text/html,<script>alert(1)</script>", False),
        ("vbscript:msgbox(1)", False),
        ("file:///etc/passwd", False),
        ("//evil.example.com/x", False),
        ("/news/1", False),
        ("https://", False),
        ("https://exa mple.com/", False),
        ("http://[::1", False),
        ("", False),
        (None, False),
    ],
)
def test_safe_http_url(url: str | None, safe: bool) -> None:
    assert safe_http_url(url) == ((url or "").strip() if safe else "")


@pytest.mark.django_db
def test_javascript_links_never_become_canonical_urls(tmp_path: Path) -> None:
    feed = tmp_path / "feed.rss"
    feed.write_bytes(
        rss(
            ("خبر بمعرّف ورابط خبيث", "javascript:alert(document.cookie)", "cms-7"),
            ("خبر رابطه هو معرّفه", "javascript:alert(2)", None),
            ("خبر سليم", "https://cms.example.com/news/9", None),
        )
    )
    result = import_feed(str(feed))
    assert (result.created, result.skipped) == (2, 1)
    kept = Article.objects.get(guid="cms-7")
    assert kept.canonical_url is None
    assert Article.objects.get(guid="https://cms.example.com/news/9").canonical_url == "https://cms.example.com/news/9"
    assert not Article.objects.filter(canonical_url__icontains="javascript").exists()
    assert not Article.objects.filter(guid__icontains="javascript").exists()
    assert any("cms-7" in w and "not an http(s) URL" in w for w in result.warnings)
    [skipped] = result.skipped_entries
    assert (skipped.position, skipped.reason, skipped.detail) == (2, "unsafe_link", "javascript:alert(2)")
    # The command reports both and still succeeds for the rest.
    out, err = StringIO(), StringIO()
    call_command("import_feed", str(feed), stdout=out, stderr=err)
    assert out.getvalue().strip() == "created 0, updated 0, unchanged 2, skipped 1"
    assert "not an http(s) URL" in err.getvalue()
    assert "skipped entry 2 'خبر رابطه هو معرّفه'" in err.getvalue() and "javascript:alert(2)" in err.getvalue()


# --- Fetching over HTTP -----------------------------------------------------------------------


@pytest.fixture
def serve() -> Iterator[Callable[..., str]]:
    """Start a local HTTP server on 127.0.0.1 answering with `handler(request)`; returns its URL."""
    servers: list[ThreadingHTTPServer] = []

    def start(handler: Callable[[BaseHTTPRequestHandler], None]) -> str:
        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                handler(self)

            def log_message(self, *args: object) -> None:
                pass

        server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        server.daemon_threads = True
        threading.Thread(target=server.serve_forever, daemon=True).start()
        servers.append(server)
        return f"http://127.0.0.1:{server.server_address[1]}"

    yield start
    for server in servers:
        server.shutdown()
        server.server_close()


def feed_body(request: BaseHTTPRequestHandler) -> None:
    body = rss(("خبر من الخادم", "https://cms.example.com/news/1", "srv-1"))
    request.send_response(200)
    request.send_header("Content-Type", "application/rss+xml")
    request.send_header("Content-Length", str(len(body)))
    request.end_headers()
    request.wfile.write(body)


@pytest.mark.django_db
def test_a_loopback_server_is_refused_unless_allowed(serve, settings) -> None:
    base = serve(feed_body)
    settings.FEED_ALLOWED_HOSTS = []
    for url in [f"{base}/feed.xml", base.replace("127.0.0.1", "localhost") + "/feed.xml"]:
        with pytest.raises(FeedError, match="refused to fetch from .*loopback, private"):
            import_feed(url)
    assert not Article.objects.exists()
    settings.FEED_ALLOWED_HOSTS = ["127.0.0.1"]
    assert import_feed(f"{base}/feed.xml").created == 1


@pytest.mark.django_db
def test_a_redirect_from_an_allowed_host_to_a_private_address_is_refused(serve, settings) -> None:
    target = serve(feed_body)  # would answer, were the redirect followed
    port = target.rsplit(":", 1)[1]

    def redirect(request: BaseHTTPRequestHandler) -> None:
        request.send_response(302)
        # "localhost" is not in FEED_ALLOWED_HOSTS and resolves to a loopback address.
        request.send_header("Location", f"http://localhost:{port}/feed.xml")
        request.send_header("Content-Length", "0")
        request.end_headers()

    origin = serve(redirect)
    settings.FEED_ALLOWED_HOSTS = ["127.0.0.1"]
    with pytest.raises(FeedError, match="refused to fetch from localhost"):
        import_feed(f"{origin}/feed.xml")
    assert not Article.objects.exists()


@pytest.mark.django_db
def test_the_deadline_stops_a_server_that_trickles_bytes(serve, settings) -> None:
    def trickle(request: BaseHTTPRequestHandler) -> None:
        request.send_response(200)
        request.send_header("Content-Type", "application/rss+xml")
        request.end_headers()
        body = rss(("خبر بطيء", "https://cms.example.com/news/2", "slow-1"))
        stop = time.monotonic() + 8  # bounded: the server gives up by itself
        for byte in body:
            if time.monotonic() > stop:
                break
            try:
                request.wfile.write(bytes([byte]))
                request.wfile.flush()
            except OSError:
                return
            time.sleep(0.05)

    base = serve(trickle)
    settings.FEED_ALLOWED_HOSTS = ["127.0.0.1"]
    settings.FEED_FETCH_DEADLINE_SECONDS = 1.0
    started = time.monotonic()
    with pytest.raises(FeedError, match="deadline"):
        import_feed(f"{base}/feed.xml")
    assert time.monotonic() - started < 2.5
    assert not Article.objects.exists()


@pytest.mark.django_db
def test_oversized_feed_is_refused(serve, settings, monkeypatch) -> None:
    from articles.content import feeds

    monkeypatch.setattr(feeds, "MAX_FEED_BYTES", 100)
    settings.FEED_ALLOWED_HOSTS = ["127.0.0.1"]
    with pytest.raises(FeedError, match="larger than 100 bytes"):
        import_feed(serve(feed_body) + "/feed.xml")


@pytest.mark.parametrize(
    ("address", "refused"),
    [
        ("2002:7f00:1::1", True),  # 6to4 around 127.0.0.1 (Python calls it global)
        ("2002:c0a8:101::1", True),  # 6to4 around 192.168.1.1
        ("64:ff9b::7f00:1", True),  # NAT64 around 127.0.0.1
        ("::ffff:10.0.0.1", True),
        ("2002:808:808::1", False),  # 6to4 around a public address
        ("2606:4700:4700::1111", False),
    ],
)
def test_ipv6_addresses_that_carry_a_private_ipv4_one_are_refused(address, refused) -> None:
    import ipaddress

    from articles.content.feed_fetch import _refused

    assert _refused(ipaddress.ip_address(address)) is refused
