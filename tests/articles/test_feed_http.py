"""Feed fetching over HTTP (articles.content.feeds.fetch) against a real local server on 127.0.0.1:
a feed imports, a body over the size cap and a server slower than the timeout are clear
errors that import nothing."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from articles.content import feeds
from articles.content.models import Article

FEED = (Path(__file__).parent / "fixtures" / "feed.rss").read_bytes()


class FeedServer:
    def __init__(self) -> None:
        self.release = threading.Event()  # the /slow answer waits for this, not for a clock
        self.user_agents: list[str] = []
        server = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: object) -> None:
                pass

            def do_GET(self) -> None:
                server.user_agents.append(self.headers.get("User-Agent", ""))
                if self.path == "/slow":
                    server.release.wait(30)
                body = FEED if self.path in ("/feed", "/slow") else b"<rss>" + b"x" * 4096 + b"</rss>"
                self.send_response(200)
                self.send_header("Content-Type", "application/rss+xml")
                self.end_headers()
                try:
                    self.wfile.write(body)
                except OSError:
                    pass  # the client gave up (timeout test)

        self.http = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.http.daemon_threads = True
        threading.Thread(target=self.http.serve_forever, daemon=True).start()

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.http.server_address[1]}{path}"

    def stop(self) -> None:
        self.release.set()
        self.http.shutdown()
        self.http.server_close()


@pytest.fixture
def server(settings) -> Iterator[FeedServer]:
    # A feed server on this machine is a loopback address: refused unless listed (issue 11).
    settings.FEED_ALLOWED_HOSTS = ["127.0.0.1"]
    running = FeedServer()
    yield running
    running.stop()


@pytest.mark.django_db
def test_a_feed_fetched_over_http_imports(server) -> None:
    result = feeds.import_feed(server.url("/feed"))
    assert (result.created, result.updated) == (2, 0)
    assert Article.objects.count() == 2
    assert server.user_agents == [feeds.USER_AGENT]


@pytest.mark.django_db
def test_a_body_over_the_size_cap_is_refused_and_imports_nothing(server, monkeypatch) -> None:
    monkeypatch.setattr(feeds, "MAX_FEED_BYTES", 1024)  # the big answer is 4 KB
    with pytest.raises(feeds.FeedError, match="larger than 1024 bytes"):
        feeds.import_feed(server.url("/big"))
    assert len(feeds.fetch(server.url("/feed"))) == len(FEED) < 1024 * 4  # a small one still passes
    assert not Article.objects.exists()


@pytest.mark.django_db
def test_a_server_slower_than_the_timeout_is_an_error_and_imports_nothing(server, settings) -> None:
    settings.FEED_FETCH_DEADLINE_SECONDS = 0.5
    with pytest.raises(feeds.FeedError, match="deadline"):
        feeds.import_feed(server.url("/slow"))  # the server holds its answer until teardown
    assert not Article.objects.exists()
