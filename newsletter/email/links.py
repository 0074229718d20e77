"""Every URL that leaves the site in an email, a feed or the archive, built in one place:
`absolute_url` (SITE_URL + path), the UTM parameters story links carry (`with_utm`, the
`campaign_name` of an edition), an edition's archive address (`archive_url`), and the first-party
click URL of a story (pure: no Redis, no SQL). The per-recipient links that carry a signed token
(confirm, preferences, unsubscribe) are newsletter.subscribers.token_links.

THE CLICK URL

    {SITE_URL}/c/<story part>/<recipient part>/

A digest is rendered once per segment and merged per recipient, so the URL has two signed
parts, each made where its data is known:
- the story part, `e<edition>a<article>p<position>k<signature>`, made here when the segment is
  rendered: the signature (HMAC under SECRET_KEY, 128 bits in hex) covers edition, article and
  position;
- the recipient part, the per-recipient merge value `click_token` (newsletter.delivery.recipients):
  the subscriber's public uuid signed for the CLICK purpose (newsletter.subscribers.tokens).
A tampered part fails its signature. Pairing one recipient's part with another story part of
the same edition is what that recipient's own email already allows (it has every story); a
recipient part with an edition the subscriber did not receive is dropped by the roll-up (no
Delivery row), so nobody can add clicks to an edition for someone else.

Each word of the URL is a letter followed by digits/hex, or longer than 35 characters, so no
part looks like a Bitcoin address to spam filters (see newsletter.subscribers.tokens).

The redirect target is looked up in Redis (`targets_key`: article id -> URL with UTM), so the
redirect runs no SQL. Rendering builds the links and returns the targets with the email
(newsletter.email.render); whoever sends or shows the email stores them first
(newsletter.clicks.targets).

THE FEEDBACK URLS ("more / less like this", newsletter.feedback)

    {SITE_URL}/f/<story part>/more/<recipient part>/     {SITE_URL}/f/<story part>/less/<recipient part>/

The same two signed parts as the click URL, so a recipient costs nothing more to merge: the
recipient part is the `click_token` already substituted into the story's click link.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from django.conf import settings
from django.urls import reverse
from django.utils.crypto import constant_time_compare, salted_hmac

from newsletter.editions.models import Digest

from . import conf


def absolute_url(url: str) -> str:
    if not url or urlsplit(url).scheme:
        return url
    return f"{settings.SITE_URL}{url if url.startswith('/') else '/' + url}"


def with_utm(url: str, *, campaign: str) -> str:
    """Append DIGEST_UTM_PARAMS (and a utm_campaign naming the edition unless configured)."""
    params = parse_qsl(conf.settings().DIGEST_UTM_PARAMS, keep_blank_values=True)
    if not params:
        return url
    if not any(key == "utm_campaign" for key, _ in params):
        params.append(("utm_campaign", campaign))
    parts = urlsplit(url)
    existing = parse_qsl(parts.query, keep_blank_values=True)
    keys = {key for key, _ in existing}
    query = urlencode(existing + [(k, v) for k, v in params if k not in keys])
    return urlunsplit(parts._replace(query=query))


def campaign_name(digest: Digest) -> str:
    suffix = f"-{digest.number}" if digest.number > 1 else ""
    return f"{digest.frequency}-{digest.edition_date:%Y-%m-%d}{suffix}"


def archive_url(digest: Digest) -> str:
    kwargs: dict[str, object] = {"frequency": digest.frequency, "day": digest.edition_date}
    if digest.number > 1:  # a day's second edition, sent early by an editor
        kwargs["number"] = digest.number
    return absolute_url(reverse("archive:detail", kwargs=kwargs))


# The recipient part of links in an editor's preview or test email: the link leads to the story
# and records nothing (an editor is not a subscriber).
PREVIEW_RECIPIENT = "preview"
STORY_SALT = "newsletter.analytics.story"
STORY_RE = re.compile(r"^e([1-9][0-9]{0,11})a([1-9][0-9]{0,11})p([1-9][0-9]{0,3})k([0-9a-f]{32})$")


def targets_key(digest_id: int) -> str:
    return f"an:t:{digest_id}"


def story_signature(digest_id: int, article_id: int, position: int) -> str:
    return salted_hmac(STORY_SALT, f"{digest_id}:{article_id}:{position}", algorithm="sha256").hexdigest()[:32]


def story_part(digest_id: int, article_id: int, position: int) -> str:
    return f"e{digest_id}a{article_id}p{position}k{story_signature(digest_id, article_id, position)}"


def read_story_part(part: str) -> tuple[int, int, int] | None:
    """(edition, article, position) of a well-signed story part, else None."""
    match = STORY_RE.match(part)
    if match is None:
        return None
    digest_id, article_id, position = int(match[1]), int(match[2]), int(match[3])
    if not constant_time_compare(match[4], story_signature(digest_id, article_id, position)):
        return None
    return digest_id, article_id, position


FEEDBACK_CHOICES = ("more", "less")


def feedback_link(
    *, digest_id: int, article_id: int, position: int, choice: str, merge_field: Callable[[str], str]
) -> str:
    """A story's "more like this" or "less like this" link (pure, like `tracked_link`)."""
    base = settings.SITE_URL.rstrip("/")
    return f"{base}/f/{story_part(digest_id, article_id, position)}/{choice}/{merge_field('click_token')}/"


def tracked_link(*, digest_id: int, article_id: int, position: int, merge_field: Callable[[str], str]) -> str:
    """The tracked link of one story (no side effect: the caller records the redirect targets
    of a whole email with one newsletter.clicks.targets.remember_targets)."""
    base = settings.SITE_URL.rstrip("/")
    return f"{base}/c/{story_part(digest_id, article_id, position)}/{merge_field('click_token')}/"
