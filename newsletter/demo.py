"""Demo accounts and subscribers for `seed_demo` (idempotent): three Arabic daily/weekly
readers of everything, one following sport only, one English reader of two sections; in
several time zones, so the hourly waves (newsletter.orchestration.waves) have more than one offset."""

from __future__ import annotations

from datetime import datetime

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.utils import timezone

from articles.content.models import Section

from .editions.models import Frequency, Language
from .subscribers import consent
from .subscribers.models import Subscriber

DEMO_ACCOUNTS = [
    ("admin", "admin-demo-2026", "admin (superuser)"),
    ("editor", "editor-demo-2026", "editor (Editors group)"),
]

DEMO_SUBSCRIBERS = [
    ("reader1@example.com", Frequency.DAILY),
    ("reader2@example.com", Frequency.DAILY),
    ("reader3@example.com", Frequency.WEEKLY),
]
# Readers from Morocco to the Gulf (blank: the site's TIME_ZONE).
DEMO_TIME_ZONES = {
    "reader2@example.com": "Africa/Casablanca",
    "sports.fan@example.com": "Asia/Dubai",
    "english.reader@example.com": "Europe/London",
}

# (address, frequency, language, section slugs): readers with topic choices and one in English.
DEMO_SUBSCRIBERS_WITH_TOPICS = [
    ("sports.fan@example.com", Frequency.DAILY, Language.ARABIC, ["sport"]),
    ("english.reader@example.com", Frequency.WEEKLY, Language.ENGLISH, ["politics", "economy"]),
]


def seed_accounts() -> list[tuple[str, str, str]]:
    User = get_user_model()
    admin_name, admin_password, _ = DEMO_ACCOUNTS[0]
    if not User.objects.filter(username=admin_name).exists():
        User.objects.create_superuser(admin_name, "admin@example.com", admin_password)
    editor_name, editor_password, _ = DEMO_ACCOUNTS[1]
    editor, created = User.objects.get_or_create(
        username=editor_name, defaults={"email": "editor@example.com", "is_staff": True}
    )
    if created:
        editor.set_password(editor_password)
        editor.save()
    editors_group, _ = Group.objects.get_or_create(name="Editors")
    editor.groups.add(editors_group)
    return DEMO_ACCOUNTS


def seed_subscribers() -> int:
    now = timezone.now()
    for email, frequency in DEMO_SUBSCRIBERS:
        subscriber, created = Subscriber.objects.get_or_create(
            email=email,
            defaults={
                "status": Subscriber.Status.ACTIVE,
                "frequency": frequency,
                "source": Subscriber.Source.ADMIN,
                "confirmed_at": now,
                "time_zone": DEMO_TIME_ZONES.get(email, ""),
            },
        )
        if created:
            _added(subscriber, at=now)
    for email, frequency, language, slugs in DEMO_SUBSCRIBERS_WITH_TOPICS:
        subscriber, created = Subscriber.objects.get_or_create(
            email=email,
            defaults={
                "status": Subscriber.Status.ACTIVE,
                "frequency": frequency,
                "language": language,
                "source": Subscriber.Source.ADMIN,
                "confirmed_at": now,
                "time_zone": DEMO_TIME_ZONES.get(email, ""),
            },
        )
        if created:
            subscriber.topics.set(Section.objects.filter(slug__in=slugs))
            _added(subscriber, at=now)
    return Subscriber.objects.count()


def _added(subscriber: Subscriber, *, at: datetime) -> None:
    """The demo readers' consent history: added by an administrator, as the admin would write it."""
    consent.append(
        subscriber_id=subscriber.pk,
        kind=consent.Kind.ADDED_BY_ADMIN,
        source=consent.Source.ADMIN,
        status=subscriber.status,
        at=at,
    )
