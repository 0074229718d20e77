"""Story rows of an edition's report, per segment (the roll-up writes them into StoryClickStats).

A reader who follows sport gets the sport segment's email, whose stories and their order differ
from the general list's; merging segments put a sport-only story at position 11 of a list it
never was in. So each segment the edition was sent to (EditionSegment, written by the send,
newsletter.editions.segments.record) gets its own rows: its stories in the order its email
listed them (the position its click links carry, newsletter.email.links), each with the
unique clicks of that segment's recipients (StoryClick.segment, taken from their Delivery row).
A clicked story that is not in the recorded list (a later ranking in another worker) follows
the segment's stories.

Editions sent before segments were recorded, and clicks whose recipient has no segment, keep
one group without a segment: the edition's general list in the editor's order, then the other
clicked stories, as before.

Each row also counts the segment's readers who asked for more and for less like the story
(StoryFeedback, issue 27), their segment taken from their Delivery row as for clicks.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable

from django.db.models import Count, OuterRef, Subquery

from articles.content.models import Article
from newsletter.delivery.models import Delivery, EditionSegment
from newsletter.editions import conf as editions_conf
from newsletter.editions.models import Digest, DigestItem
from newsletter.email.links import absolute_url, campaign_name, with_utm
from newsletter.subscribers.models import StoryFeedback

from .models import StoryClick, StoryClickStats

Row = tuple[int, int, str, str]  # (position, article id, title, url)


def _story(digest: Digest, article: Article) -> tuple[str, str]:
    url = with_utm(article.canonical_url or absolute_url(article.get_absolute_url()), campaign=campaign_name(digest))
    return " ".join(article.title.split())[:300], url[:1000]


def general_rows(digest: Digest) -> list[Row]:
    """(position, article id, title, url) of the edition's general list as the full edition sends it."""
    items = DigestItem.objects.filter(digest=digest, removed=False).select_related("article").order_by("position", "id")
    return [
        (position, item.article_id, *_story(digest, item.article))
        for position, item in enumerate(items[: editions_conf.settings().DIGEST_TOP_N], start=1)
    ]


def _rows(digest: Digest, article_ids: Iterable[int], articles: dict[int, Article], *, first: int = 1) -> list[Row]:
    rows: list[Row] = []
    for article_id in article_ids:
        if article_id in articles:  # an article deleted since the send has no row
            rows.append((first + len(rows), article_id, *_story(digest, articles[article_id])))
    return rows


def clicks_by_segment(digest_id: int, known: set[int]) -> dict[int | None, dict[int, int]]:
    """Unique clicks per (segment, article); a segment not recorded counts as None."""
    found: dict[int | None, dict[int, int]] = defaultdict(dict)
    rows = (
        StoryClick.objects.filter(digest_id=digest_id)
        .values("segment", "article_id")
        .annotate(n=Count("id"))
        .values_list("segment", "article_id", "n")
    )
    for segment, article_id, n in rows:
        key = segment if segment in known else None
        found[key][article_id] = found[key].get(article_id, 0) + n
    return found


Votes = dict[int, tuple[int, int]]  # article id -> (readers asking for more, for less)


def feedback_by_segment(digest_id: int, known: set[int]) -> dict[int | None, Votes]:
    """Readers' "more / less like this" per (segment, article), one query (the report's index,
    and one Delivery look-up per feedback row by its unique (edition, subscriber) key)."""
    segment_of = Delivery.objects.filter(digest_id=digest_id, subscriber_id=OuterRef("subscriber_id")).values(
        "segment"
    )[:1]
    rows = (
        StoryFeedback.objects.filter(digest_id=digest_id)
        .annotate(segment=Subquery(segment_of))
        .values("segment", "article_id", "choice")
        .annotate(n=Count("id"))
        .values_list("segment", "article_id", "choice", "n")
    )
    found: dict[int | None, Votes] = defaultdict(dict)
    for segment, article_id, choice, n in rows:
        key = segment if segment in known else None
        more, less = found[key].get(article_id, (0, 0))
        found[key][article_id] = (more + n, less) if choice == StoryFeedback.Choice.MORE else (more, less + n)
    return found


def write(digest: Digest, *, per_segment: dict[int | None, tuple[int, int]]) -> None:
    """Replace the edition's StoryClickStats and its segments' figures; `per_segment` is (sent,
    delivered) per Delivery.segment. Runs inside the roll-up's transaction."""
    segments = list(EditionSegment.objects.filter(digest_id=digest.pk).order_by("id"))
    clicks = clicks_by_segment(digest.pk, {segment.pk for segment in segments})
    votes = feedback_by_segment(digest.pk, {segment.pk for segment in segments})
    wanted = {a for segment in segments for a in segment.stories} | {a for c in clicks.values() for a in c}
    articles = Article.objects.in_bulk(list(wanted))
    stats: list[StoryClickStats] = []
    for segment in segments:
        segment.sent, segment.delivered = per_segment.get(segment.pk, (0, 0))
        listed = _rows(digest, segment.stories, articles)
        mine = clicks.get(segment.pk, {})
        shown = {row[1] for row in listed}
        listed += _rows(digest, sorted(a for a in mine if a not in shown), articles, first=len(listed) + 1)
        stats += [_stat(digest, row, mine, votes.get(segment.pk, {}), segment=segment) for row in listed]
    if not segments or None in clicks or None in votes:
        listed = general_rows(digest)
        unsegmented = clicks.get(None, {})
        shown = {row[1] for row in listed}
        listed += _rows(digest, sorted(a for a in unsegmented if a not in shown), articles, first=len(listed) + 1)
        stats += [_stat(digest, row, unsegmented, votes.get(None, {}), segment=None) for row in listed]
    EditionSegment.objects.bulk_update(segments, ["sent", "delivered"])
    StoryClickStats.objects.filter(digest_id=digest.pk).delete()
    StoryClickStats.objects.bulk_create(stats)


def _stat(
    digest: Digest, row: Row, clicks: dict[int, int], votes: Votes, *, segment: EditionSegment | None
) -> StoryClickStats:
    position, article_id, title, url = row
    more, less = votes.get(article_id, (0, 0))
    return StoryClickStats(
        digest_id=digest.pk,
        segment=segment,
        position=position,
        article_id=article_id,
        title=title,
        url=url,
        unique_clicks=clicks.get(article_id, 0),
        more_readers=more,
        less_readers=less,
    )
