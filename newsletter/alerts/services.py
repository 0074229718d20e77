"""Creating and cancelling breaking-news alerts (see this package's docstring for how an alert
rides the delivery pipeline). Typed, keyword-only services the admin and tests call."""

from __future__ import annotations

import math
from datetime import datetime, timedelta
from typing import Any

from django.db import IntegrityError, connection, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from articles.content.models import Article
from newsletter import task_names
from newsletter.editions import compose, state
from newsletter.editions.models import ALERT, Digest

from . import conf
from .models import Alert

# Serialises alert creation, so two alerts of one day never take the same edition number.
CREATE_LOCK_KEY = 27_0004


class AlertRefused(Exception):
    """The alert cannot be sent; the message (Arabic first) is shown to the editor."""


def unfit(article: Article | None, *, now: datetime) -> str | None:
    """Why `article` may not be mailed as an alert now: deleted, unpublished or excluded (None:
    it may). Checked when the editor confirms and again when the batches render (an editor may
    unpublish the article during the cancel window)."""
    if article is None:
        return _("المقال غير موجود: ربما حُذف. لا يُرسل تنبيه عن مقال محذوف.")
    if article.status != Article.Status.PUBLISHED or article.published_at is None or article.published_at > now:
        return _("المقال غير منشور: انشره أولًا ثم أرسله تنبيهًا.")
    if article.exclude_from_digests:
        return _("المقال مستبعد من النشرات، فلا يُرسل تنبيهًا.")
    return None


def refusal(article: Article | None, *, now: datetime) -> str | None:
    """Why `article` may not go out as an alert (None: it may)."""
    reason = unfit(article, now=now)
    if reason is not None or article is None:
        return reason
    if Alert.objects.filter(article=article, cancelled_at__isnull=True).exists():
        return _("أُرسل هذا المقال تنبيهًا من قبل: يُرسل المقال تنبيهًا مرة واحدة.")
    return None


def alert_create(*, article_id: int, user: Any, now: datetime | None = None) -> Alert:
    """Create the alert of `article_id`, approved and due ALERT_CANCEL_SECONDS from now, and
    enqueue its release with that countdown (on commit). Raises AlertRefused with the reason."""
    now = now or timezone.now()
    wait = conf.settings().ALERT_CANCEL_SECONDS
    try:
        with transaction.atomic():
            if connection.vendor == "postgresql":
                with connection.cursor() as cursor:
                    cursor.execute("SELECT pg_advisory_xact_lock(%s)", [CREATE_LOCK_KEY])
            article = Article.objects.select_for_update().filter(pk=article_id).first()
            reason = refusal(article, now=now)
            if reason or article is None:
                raise AlertRefused(reason)
            today = timezone.localdate(now)
            digest = Digest.objects.create(
                frequency=ALERT,
                edition_date=today,
                number=compose.next_number(ALERT, today),
                extra=True,
                period_start=now,
                period_end=now,
                status=Digest.Status.APPROVED,
                subject=article.title[:200],
                approved_by=user,
                approved_at=now,
                send_at=now + timedelta(seconds=wait),
            )
            alert = Alert.objects.create(
                article=article, digest=digest, headline=article.title, created_by=user, created_at=now
            )
            digest_id = digest.pk
            transaction.on_commit(
                lambda: task_names.enqueue(task_names.RELEASE_ALERT, digest_id, countdown=math.ceil(wait)),
                robust=True,
            )
    except IntegrityError as exc:  # a concurrent click took the article first
        raise AlertRefused(_("أُرسل هذا المقال تنبيهًا من قبل: يُرسل المقال تنبيهًا مرة واحدة.")) from exc
    return alert


def alert_cancel(*, alert_id: int, now: datetime | None = None) -> bool:
    """Cancel an alert still in its window: True only for the call that cancelled it. Once it
    was dispatched (the window passed and the task or the beat sent it) nothing changes."""
    now = now or timezone.now()
    with transaction.atomic():
        alert = Alert.objects.select_for_update().filter(pk=alert_id).first()
        if alert is None or not state.apply(state.Transition.WITHDRAW, digest_id=alert.digest_id, updated_at=now):
            return False
        Alert.objects.filter(pk=alert_id).update(cancelled_at=now)
    return True
