"""The click redirect `/c/<story part>/<recipient part>/`: answer 302 to the story's article
(with its UTM parameters) and log the click in Redis, with no SQL.

`handle()` is framework-free, shared by the Django view below and the WSGI fast path
(newsletter.clicks.wsgi), like the read beacon (articles.reading.beacon). One Redis round trip:
the target look-up and the click log entry in one pipeline. The signatures are checked first
(newsletter.email.links): a tampered or malformed link still redirects, to the site's home
page, and records nothing. Bots, prefetches and HEAD requests are redirected without a record.

The reader id logged with the click is the reader's first-party `rid` cookie when the browser
sends one, else a stable keyed hash of the subscriber, which the response sets as the cookie:
the article page they land on then counts the same reader, so the roll-up's read for this click
(articles.reading.reads, counted per reader and day) and the page view are one reader, not two.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass

from django.conf import settings
from django.http import HttpRequest, HttpResponse

from articles.reading import reads, visitors
from newsletter.editions.models import DigestItem
from newsletter.email import links
from newsletter.email.links import absolute_url, campaign_name, with_utm
from newsletter.subscribers import tokens
from sitewide.redis_client import get_redis

from . import clicklog, targets


@dataclass(frozen=True)
class ClickResult:
    location: str
    recorded: bool = False
    set_visitor: str = ""  # a new `rid` cookie value, when the browser had none


def home_url() -> str:
    return settings.SITE_URL.rstrip("/") + "/"


def target_from_database(digest_id: int, article_id: int) -> str | None:
    """The redirect target when Redis lost the map (one query), written back for the next click."""
    item = (
        DigestItem.objects.filter(digest_id=digest_id, article_id=article_id)
        .select_related("digest", "article")
        .first()
    )
    if item is None:
        return None
    article = item.article
    url = with_utm(
        article.canonical_url or absolute_url(article.get_absolute_url()), campaign=campaign_name(item.digest)
    )
    targets.remember_targets(digest_id, {article_id: url})
    return url


def handle(
    *,
    method: str,
    story: str,
    token: str,
    meta: Mapping[str, str],
    cookie: str,
    fallback: Callable[[int, int], str | None] = target_from_database,
) -> ClickResult:
    parsed = links.read_story_part(story)
    if parsed is not None and token == links.PREVIEW_RECIPIENT:
        digest_id, article_id, _position = parsed
        target = get_redis().hget(links.targets_key(digest_id), str(article_id))
        location = target.decode() if isinstance(target, bytes) else fallback(digest_id, article_id)
        return ClickResult(location or home_url())
    try:
        subscriber_uuid = tokens.read_token(token, tokens.Purpose.CLICK) if parsed else None
    except tokens.TokenError:
        subscriber_uuid = None
    if parsed is None or subscriber_uuid is None:
        return ClickResult(home_url())
    digest_id, article_id, position = parsed
    count = reads.should_count_meta(method, meta)
    # A signed reader cookie names the reader; otherwise the subscriber's keyed id does, and the
    # browser gets it as a signed cookie so its later reads on the site are the same reader.
    signed = visitors.read_cookie(cookie)
    reader = signed or clicklog.reader_for(subscriber_uuid.hex)
    pipe = get_redis().pipeline(transaction=False)
    pipe.hget(links.targets_key(digest_id), str(article_id))
    if count:
        clicklog.add(
            pipe,
            digest_id=digest_id,
            article_id=article_id,
            position=position,
            uuid_hex=subscriber_uuid.hex,
            reader=reader,
        )
    target = pipe.execute()[0]
    location = target.decode() if target else fallback(digest_id, article_id)
    return ClickResult(
        location or home_url(), recorded=count, set_visitor="" if signed else visitors.sign_cookie(reader)
    )


def click(request: HttpRequest, story: str, token: str) -> HttpResponse:
    result = handle(
        method=request.method or "GET",
        story=story,
        token=token,
        meta=request.META,
        cookie=request.COOKIES.get(visitors.VISITOR_COOKIE, ""),
    )
    response = HttpResponse(status=302)
    response["Location"] = result.location
    response["Cache-Control"] = "no-store"
    response["Referrer-Policy"] = "no-referrer"
    if result.set_visitor:
        visitors.set_cookie(response, result.set_visitor, secure=request.is_secure())
    return response
