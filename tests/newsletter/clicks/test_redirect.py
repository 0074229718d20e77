"""The click redirect /c/<story part>/<recipient part>/ (done-means 2 of issue 14): a good link
answers 302 to the article with its UTM parameters and logs the click in Redis with no SQL; a
tampered link still redirects, to the home page, and records nothing; bots are not logged; the
WSGI fast path answers the same."""

from __future__ import annotations

import io
import uuid

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from articles.reading import visitors
from config import wsgi as wsgi_entry
from newsletter.clicks import clicklog, targets
from newsletter.email import links
from newsletter.subscribers.tokens import Purpose, make_token
from sitewide.redis_client import get_redis

pytestmark = pytest.mark.django_db
UA = "Mozilla/5.0 (X11; Linux x86_64) Firefox/128.0"
TARGET = "https://news.example/articles/x/?utm_source=newsletter&utm_medium=email&utm_campaign=daily-2030-01-02"


@pytest.fixture
def link(settings) -> tuple[str, str]:
    settings.SITE_URL = "http://testserver"
    url = targets.click_url(digest_id=7, article_id=42, position=3, url=TARGET, merge_field=lambda name: f"[[{name}]]")
    story = url.split("/c/")[1].split("/")[0]
    return story, make_token(uuid.UUID(int=5), Purpose.CLICK)


def logged() -> list[clicklog.LoggedClick]:
    return clicklog.settled(until=1e12)


def test_click_redirects_to_the_article_and_logs_without_sql(client, link) -> None:
    story, token = link
    with CaptureQueriesContext(connection) as queries:
        response = client.get(f"/c/{story}/{token}/", HTTP_USER_AGENT=UA)
    assert response.status_code == 302 and response["Location"] == TARGET
    assert len(queries) == 0
    [click] = logged()
    assert (click.digest_id, click.article_id, click.position) == (7, 42, 3)
    assert click.subscriber_uuid_hex == uuid.UUID(int=5).hex
    # the article page will see the same reader (the cookie is signed: articles.reading.visitors)
    assert visitors.read_cookie(response.cookies["rid"].value) == click.reader


@pytest.mark.parametrize(
    "tamper",
    [
        lambda s, t: (s.replace("a42", "a43"), t),  # another article
        lambda s, t: (s.replace("p3", "p4"), t),  # another position
        lambda s, t: (s.replace("e7", "e8"), t),  # another edition
        lambda s, t: (s[:-1] + ("0" if s[-1] != "0" else "1"), t),  # the story signature
        lambda s, t: (s, t.replace(t[1:5], "ffff")),  # another subscriber
        lambda s, t: (s, t[:-1] + ("0" if t[-1] != "0" else "1")),  # the recipient signature
        lambda s, t: (s, make_token(uuid.UUID(int=5), Purpose.UNSUBSCRIBE)),  # a token for another purpose
        lambda s, t: ("garbage", t),
    ],
)
def test_tampered_link_redirects_home_and_records_nothing(client, link, tamper) -> None:
    story, token = tamper(*link)
    response = client.get(f"/c/{story}/{token}/", HTTP_USER_AGENT=UA)
    assert response.status_code == 302 and response["Location"] == "http://testserver/"
    assert logged() == [] and get_redis().zcard(clicklog.CLICKS_KEY) == 0


def test_bots_and_head_requests_are_redirected_but_not_logged(client, link) -> None:
    story, token = link
    assert client.get(f"/c/{story}/{token}/", HTTP_USER_AGENT="Slackbot-LinkExpanding 1.0")["Location"] == TARGET
    assert client.head(f"/c/{story}/{token}/", HTTP_USER_AGENT=UA).status_code == 302
    assert logged() == []


def test_target_is_found_again_after_redis_lost_it(client, link) -> None:
    from tests.integration.helpers import make_digest

    digest = make_digest(stories=3)
    item = digest.items.select_related("article").first()
    story = links.story_part(digest.id, item.article_id, 1)
    get_redis().flushdb()
    response = client.get(f"/c/{story}/{link[1]}/", HTTP_USER_AGENT=UA)
    assert response.status_code == 302
    assert response["Location"].startswith(f"http://testserver/articles/{item.article.slug}/?utm_source=newsletter")
    assert get_redis().hget(links.targets_key(digest.id), str(item.article_id)) is not None


def wsgi_get(path: str, *, user_agent: str = UA) -> tuple[str, dict[str, str]]:
    seen: dict[str, object] = {}

    def start_response(status: str, headers: list[tuple[str, str]]) -> None:
        seen["status"], seen["headers"] = status, dict(headers)

    environ = {
        "REQUEST_METHOD": "GET",
        "PATH_INFO": path,
        "HTTP_USER_AGENT": user_agent,
        "wsgi.input": io.BytesIO(b""),
        "wsgi.url_scheme": "http",
    }
    body = b"".join(wsgi_entry.application(environ, start_response))
    assert body == b""
    return str(seen["status"]), seen["headers"]  # type: ignore[return-value]


def test_fast_path_answers_like_the_view(link) -> None:
    story, token = link
    status, headers = wsgi_get(f"/c/{story}/{token}/")
    assert status == "302 Found" and headers["Location"] == TARGET
    assert headers["Set-Cookie"].startswith("rid=")
    # Tampered: the last two characters changed (never equal to the real ones, whatever the key).
    tampered = token[:-2] + ("11" if token.endswith("00") else "00")
    status, headers = wsgi_get(f"/c/{story}/{tampered}/")
    assert status == "302 Found" and headers["Location"] == "http://testserver/"
    assert len(logged()) == 1


def test_tracking_off_leaves_story_links_direct(settings) -> None:
    settings.ANALYTICS_CLICK_TRACKING = False
    assert targets.click_url(digest_id=1, article_id=2, position=1, url=TARGET, merge_field=str) == TARGET


@pytest.mark.parametrize("purpose", [Purpose.UNSUBSCRIBE, Purpose.PREFERENCES, Purpose.CLICK, Purpose.STAY])
def test_batch_token_maker_signs_exactly_like_the_signer(purpose) -> None:
    from newsletter.subscribers.tokens import read_token, signer_for, token_maker

    subscriber = uuid.uuid4()
    made = token_maker(purpose)(subscriber.hex)
    assert made == signer_for(purpose).sign("s" + subscriber.hex)
    assert read_token(made, purpose) == subscriber
