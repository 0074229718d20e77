"""The Redis map of where a digest's click links lead (`an:t:<edition>`: article id -> the
story's URL with UTM), read by the redirect (newsletter.clicks.redirect) with no SQL.

Rendering is pure: it returns the targets with the email (`RenderedEmail.click_targets`,
newsletter.email.render). Whoever sends or shows a rendered email stores its targets here first,
one Redis round trip per rendered email, so no email with a link can leave before the link's
target is known: a sending worker when it renders a segment (newsletter.delivery.batch, once per
segment per process like the rendering), a test send and the editor's preview when they render.
After Redis lost the map, the redirect refills it from one query (`clicks.target_from_database`).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping

from newsletter.email import conf as email_conf
from newsletter.email.links import targets_key, tracked_link
from sitewide.redis_client import get_redis

TARGETS_TTL_SECONDS = 400 * 86400


def remember_targets(digest_id: int, targets: Mapping[int, str]) -> None:
    if not targets:
        return
    pipe = get_redis().pipeline(transaction=False)
    pipe.hset(targets_key(digest_id), mapping={str(k): v for k, v in targets.items()})
    pipe.expire(targets_key(digest_id), TARGETS_TTL_SECONDS)
    pipe.execute()


def click_url(*, digest_id: int, article_id: int, position: int, url: str, merge_field: Callable[[str], str]) -> str:
    """The tracked link of one story (`url` when first-party tracking is off), recording `url`
    as its redirect target. An email's stories use `links.tracked_link` and return their targets
    with the email (newsletter.email.render)."""
    if not email_conf.settings().ANALYTICS_CLICK_TRACKING:
        return url
    remember_targets(digest_id, {article_id: url})
    return tracked_link(digest_id=digest_id, article_id=article_id, position=position, merge_field=merge_field)
