"""A resolved feedback link's choice recorded or withdrawn (newsletter.subscribers.feedback), and
its edition marked for the analytics roll-up, whose story rows count the readers who asked for
more and for less (newsletter.analytics.story_stats)."""

from __future__ import annotations

from datetime import datetime

from newsletter.analytics import changes
from newsletter.subscribers import feedback

from .links import FeedbackLink


def _keys(link: FeedbackLink) -> dict[str, int]:
    return {"subscriber_id": link.subscriber.pk, "digest_id": link.digest_id, "article_id": link.article.pk}


def current(link: FeedbackLink) -> str:
    return feedback.current(**_keys(link))


def choose(link: FeedbackLink, *, now: datetime) -> bool:
    changed = feedback.record(**_keys(link), choice=link.choice, now=now)
    if changed:
        changes.mark(link.digest_id)
    return changed


def withdraw(link: FeedbackLink) -> bool:
    changed = feedback.undo(**_keys(link))
    if changed:
        changes.mark(link.digest_id)
    return changed
