"""A reader's "more / less like this" (StoryFeedback) and what they asked for less of
(LessLikeThis): recording a choice, undoing it, the preference center's list with its undo, the
retention sweep and the data export. The link, its checks and the pages are newsletter.feedback;
the personal ranking reads `less_of` (newsletter.personal.profiles).

WHAT A CHOICE DOES. "Less" on a story marks its section and each of its tags as asked-for-less;
"more" lifts any such mark from its section and tags ("until they ask for more"). A reader has
one choice per story of an edition (the latest); choosing the same again changes nothing. Undo
from the thank-you page withdraws that story's choice (and, for "less", the marks it made); undo
in the preference center lifts one section or tag.

The profile the ranking reads is rebuilt by the personal roll-up: each change adds the reader
to CHANGED_KEY (a Redis set, after the commit), which newsletter.personal.profiles drains.

Personal data: rows go with the subscriber (ON DELETE CASCADE), are deleted after
PERSONAL_HISTORY_DAYS (`prune`, called by the personal roll-up with its cutoff) and are listed
in the data export (`for_export`). No IP address, user agent or cookie is stored.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from django.db import transaction
from django.db.models import Count, Q

from articles.content.models import Article, Section, Tag
from sitewide.redis_client import get_redis

from .models import LessLikeThis, StoryFeedback

Choice = StoryFeedback.Choice
Kind = LessLikeThis.Kind

# Readers whose feedback changed since the personal roll-up last rebuilt their profile.
CHANGED_KEY = "fb:changed"


@dataclass(frozen=True)
class LessItem:
    """One line of the preference center's "less of" list."""

    kind: str
    target_id: int
    name: str


def _marks(article: Article) -> list[tuple[str, int]]:
    marks = [(Kind.TAG.value, tag.pk) for tag in article.tags.all()]
    if article.section_id is not None:
        marks.insert(0, (Kind.SECTION.value, article.section_id))
    return marks


def _changed(subscriber_ids: Iterable[int]) -> None:
    ids = [str(i) for i in set(subscriber_ids)]
    if ids:
        transaction.on_commit(lambda: get_redis().sadd(CHANGED_KEY, *ids))


def _unmark(subscriber_id: int, marks: list[tuple[str, int]]) -> None:
    if marks:
        which = Q()
        for kind, target_id in marks:
            which |= Q(kind=kind, target_id=target_id)
        LessLikeThis.objects.filter(which, subscriber_id=subscriber_id).delete()


def current(*, subscriber_id: int, digest_id: int, article_id: int) -> str:
    """The reader's choice on this story of this edition ("" when none)."""
    found = StoryFeedback.objects.filter(subscriber_id=subscriber_id, digest_id=digest_id, article_id=article_id)
    return found.values_list("choice", flat=True).first() or ""


def record(*, subscriber_id: int, digest_id: int, article_id: int, choice: str, now: datetime) -> bool:
    """Store the reader's choice on a story (the caller checked the link). Returns False when it
    was already their choice (nothing changes)."""
    choice = Choice(choice)
    article = Article.objects.filter(pk=article_id).prefetch_related("tags").first()
    if article is None:
        return False
    with transaction.atomic():
        row, created = StoryFeedback.objects.select_for_update().get_or_create(
            subscriber_id=subscriber_id,
            digest_id=digest_id,
            article_id=article_id,
            defaults={"choice": choice, "at": now},
        )
        if not created and row.choice == choice:
            return False
        if not created:
            row.choice, row.at = choice, now
            row.save(update_fields=["choice", "at"])
        marks = _marks(article)
        if choice == Choice.LESS:
            LessLikeThis.objects.bulk_create(
                [LessLikeThis(subscriber_id=subscriber_id, kind=k, target_id=t, at=now) for k, t in marks],
                update_conflicts=True,
                unique_fields=["subscriber", "kind", "target_id"],
                update_fields=["at"],
            )
        else:
            _unmark(subscriber_id, marks)
        _changed([subscriber_id])
    return True


def undo(*, subscriber_id: int, digest_id: int, article_id: int) -> bool:
    """Withdraw the reader's choice on a story (the thank-you page's undo). Returns False when
    there was none."""
    with transaction.atomic():
        row = (
            StoryFeedback.objects.select_for_update()
            .filter(subscriber_id=subscriber_id, digest_id=digest_id, article_id=article_id)
            .first()
        )
        if row is None:
            return False
        if row.choice == Choice.LESS:
            article = Article.objects.filter(pk=article_id).prefetch_related("tags").first()
            if article is not None:
                _unmark(subscriber_id, _marks(article))
        row.delete()
        _changed([subscriber_id])
    return True


def less_list(*, subscriber_id: int, language: str) -> list[LessItem]:
    """What the reader asked for less of, sections first, newest first (three queries)."""
    rows = list(
        LessLikeThis.objects.filter(subscriber_id=subscriber_id)
        .order_by("kind", "-at", "id")
        .values_list("kind", "target_id")
    )
    sections = Section.objects.in_bulk([t for k, t in rows if k == Kind.SECTION])
    tags = Tag.objects.in_bulk([t for k, t in rows if k == Kind.TAG])
    items = []
    for kind, target_id in rows:
        if kind == Kind.SECTION and target_id in sections:
            items.append(LessItem(kind, target_id, sections[target_id].name_in(language)))
        elif kind == Kind.TAG and target_id in tags:
            items.append(LessItem(kind, target_id, "#" + tags[target_id].name.replace("_", " ")))
    return items


def lift(*, subscriber_id: int, kind: str, target_id: int) -> bool:
    """Undo one "less" from the preference center. Returns False when it was not there."""
    with transaction.atomic():
        deleted, _ = LessLikeThis.objects.filter(subscriber_id=subscriber_id, kind=kind, target_id=target_id).delete()
        if deleted:
            _changed([subscriber_id])
    return bool(deleted)


def less_of(subscriber_ids: Iterable[int]) -> dict[int, tuple[set[int], set[int]]]:
    """(sections, tags) each of these readers asked for less of (one query)."""
    found: dict[int, tuple[set[int], set[int]]] = {}
    rows = LessLikeThis.objects.filter(subscriber_id__in=set(subscriber_ids)).values_list(
        "subscriber_id", "kind", "target_id"
    )
    for subscriber_id, kind, target_id in rows:
        sections, tags = found.setdefault(subscriber_id, (set(), set()))
        (sections if kind == Kind.SECTION else tags).add(target_id)
    return found


def drain_changed(*, limit: int) -> list[int]:
    """Readers whose feedback changed since the last call (taken off the set)."""
    taken: list[bytes] = get_redis().spop(CHANGED_KEY, limit) or []  # type: ignore[assignment]
    return [int(i) for i in taken]


def prune(*, before: datetime) -> int:
    """Delete feedback and "less" marks older than `before` (retention). Returns rows deleted."""
    with transaction.atomic():
        old_feedback = StoryFeedback.objects.filter(at__lt=before)
        old_marks = LessLikeThis.objects.filter(at__lt=before)
        touched = set(old_marks.values_list("subscriber_id", flat=True).distinct())
        deleted = old_feedback.delete()[0] + old_marks.delete()[0]
        _changed(touched)
    return deleted


def counts(*, digest_id: int) -> dict[int, tuple[int, int]]:
    """Readers who asked for more and for less of each story of an edition: article id ->
    (more, less). One query on the report's index."""
    found: dict[int, tuple[int, int]] = {}
    rows = (
        StoryFeedback.objects.filter(digest_id=digest_id)
        .values("article_id", "choice")
        .annotate(n=Count("id"))
        .values_list("article_id", "choice", "n")
    )
    for article_id, choice, n in rows:
        more, less = found.get(article_id, (0, 0))
        found[article_id] = (more + n, less) if choice == Choice.MORE else (more, less + n)
    return found


def for_export(*, subscriber_id: int) -> dict[str, list[dict[str, str]]]:
    """The reader's feedback as their data export lists it."""
    feedback = StoryFeedback.objects.filter(subscriber_id=subscriber_id).order_by("at", "id")
    titles = dict(Article.objects.filter(pk__in=feedback.values("article_id")).values_list("id", "title"))
    return {
        "stories": [
            {"article": titles.get(article_id, ""), "choice": choice, "at": at.isoformat()}
            for article_id, choice, at in feedback.values_list("article_id", "choice", "at")
        ],
        "less_of": [
            {"kind": item.kind, "name": item.name} for item in less_list(subscriber_id=subscriber_id, language="ar")
        ],
    }
