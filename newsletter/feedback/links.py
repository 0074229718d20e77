"""Reading a feedback link (see the package docstring): its signatures, its reader, and whether
that reader was sent that edition, in two queries."""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import datetime, timedelta

from articles.content.models import Article
from newsletter.delivery.models import Delivery
from newsletter.email import links
from newsletter.personal import conf as personal_conf
from newsletter.subscribers import tokens
from newsletter.subscribers.models import Subscriber


class Refusal(enum.Enum):
    FORGED = "forged"  # tampered, malformed, another purpose's token, or an erased reader
    NOT_SENT = "not_sent"  # a recipient part with an edition that reader was not sent
    EXPIRED = "expired"  # older than PERSONAL_HISTORY_DAYS
    PREVIEW = "preview"  # an editor's preview or test email


@dataclass(frozen=True)
class FeedbackLink:
    subscriber: Subscriber
    digest_id: int
    article: Article
    choice: str


def resolve(*, story: str, choice: str, token: str, now: datetime) -> FeedbackLink | Refusal:
    parsed = links.read_story_part(story)
    if parsed is None or choice not in links.FEEDBACK_CHOICES:
        return Refusal.FORGED
    if token == links.PREVIEW_RECIPIENT:
        return Refusal.PREVIEW
    try:
        subscriber_uuid = tokens.read_token(token, tokens.Purpose.CLICK)
    except tokens.TokenError:
        return Refusal.FORGED
    digest_id, article_id, _position = parsed
    subscriber = Subscriber.objects.filter(uuid=subscriber_uuid).first()
    article = Article.objects.filter(pk=article_id).select_related("section").first()
    if subscriber is None or article is None:
        return Refusal.FORGED
    sent = Delivery.objects.filter(digest_id=digest_id, subscriber=subscriber, sent_at__isnull=False)
    sent_at = sent.values_list("sent_at", flat=True).first()
    if sent_at is None:
        return Refusal.NOT_SENT
    if sent_at < now - timedelta(days=personal_conf.settings().PERSONAL_HISTORY_DAYS):
        return Refusal.EXPIRED
    return FeedbackLink(subscriber=subscriber, digest_id=digest_id, article=article, choice=choice)
