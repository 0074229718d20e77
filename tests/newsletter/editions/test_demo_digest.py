"""`seed_demo` data as a new user meets it: the demo sport follower receives a daily digest whose
stories are sport stories (issue 12: before, the topic filter of the overall top 10 skipped them)."""

from __future__ import annotations

import pytest
from django.core.management import call_command

from articles.content.models import Article
from newsletter.delivery import dispatch
from newsletter.delivery.models import Delivery
from newsletter.editions import compose

pytestmark = pytest.mark.django_db


def test_demo_sport_follower_receives_a_daily_digest_of_sport_stories(
    outbox, django_capture_on_commit_callbacks, settings
) -> None:
    settings.DEBUG = True  # seed_demo is for development (`make run`), as a new user runs it
    with django_capture_on_commit_callbacks(execute=True):
        call_command("seed_demo", verbosity=0)
    digest = compose.compose(frequency="daily")
    report = dispatch.send_all_sync(digest_id=digest.pk)
    assert report.skipped == 0
    fan = Delivery.objects.get(digest=digest, subscriber__email="sports.fan@example.com")
    assert fan.status == Delivery.Status.SENT
    message = next(m for m in outbox() if m["To"] == "sports.fan@example.com")
    text = message.get_body(preferencelist=("plain",)).get_content()
    sport_titles = Article.objects.filter(section__slug="sport").values_list("title", flat=True)
    first_story = text.split("(١) ", 1)[1].split("\n", 1)[0]
    assert first_story in sport_titles
