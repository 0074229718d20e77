"""Accessibility checked by a tool nobody here wrote (issue 22): axe-core in Chromium finds no
violation on any public page, in any email's HTML, or on the editor's screens. Before, article
pages (3 nodes) and the editions list (2 nodes) broke `link-in-text-block`: the hashtag links in a
body were told apart from the text by colour alone."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.contrib.auth import get_user_model
from django.urls import reverse
from django.utils import timezone

from articles.content import services
from newsletter.analytics.models import EditionArmStats
from newsletter.delivery import batch, dispatch
from newsletter.editions import compose, curation, variants
from newsletter.editions.models import Digest
from newsletter.editions.segments import Segment
from newsletter.email.render import render_digest
from newsletter.orchestration import runs
from newsletter.orchestration.welcome import build_welcome_email
from newsletter.personal import preview as personal_preview
from newsletter.subscribers.emails import EmailKind, build_subscriber_email
from newsletter.subscribers.models import Subscriber
from newsletter.subscribers.token_links import preferences_url, unsubscribe_url
from tests.e2e.accessibility import violations
from tests.e2e.conftest import editors_group
from tests.integration.helpers import make_digest, make_subscribers
from tests.newsletter.digest_helpers import article, ranked_articles, section

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
PASSWORD = "axe-e2e-pw"


@pytest.fixture
def content():
    """Stories with hashtags in their bodies, two sections, a sent edition, two readers."""
    sport = section("رياضة", "sport")
    ranked_articles(5)
    lead = article(
        "قمة الحوار الاستراتيجي",
        readers=9000,
        body="<p>بدأ #الحوار_الاستراتيجي اليوم في بغداد، وحضره #فؤاد_حسين مع الوفد.</p>",
        image_url="https://cdn.example.com/lead.jpg",
        tags=("الحوار_الاستراتيجي", "فؤاد_حسين"),
    )
    services.save_article(lead)  # as an editor's save: the body's hashtags become links
    article("مباراة الأمس", readers=800, sec=sport, body="<p>فاز الفريق #كرة_القدم</p>")
    digest = compose.compose(frequency="daily")
    # Sent yesterday: between midnight and the 07:00 run, today's edition is the next one, and
    # the editor's screens below need a draft of their own (the test passes at any hour).
    Digest.objects.filter(pk=digest.pk).update(
        status=Digest.Status.SENT,
        edition_date=digest.edition_date - timedelta(days=1),
        sending_started_at=timezone.now(),
    )
    digest.refresh_from_db()
    # Its personal editions and hold-out (issue 25): the report and the dashboard show their table.
    for arm, recipients, openers, clickers in (("p", 900, 270, 90), ("h", 100, 22, 7)):
        EditionArmStats.objects.create(
            digest=digest,
            arm=arm,
            recipients=recipients,
            human_openers=openers,
            clickers=clickers,
            clicks=2 * clickers,
            clicks_squared=5 * clickers,
        )
    reader = Subscriber.objects.create(email="reader@example.com", status=Subscriber.Status.ACTIVE)
    pending = Subscriber.objects.create(email="pending@example.com", status=Subscriber.Status.PENDING)
    return {"lead": lead, "sport": sport, "digest": digest, "reader": reader, "pending": pending}


def check(page, url: str) -> list[str]:
    page.goto(url)
    return [f"{url}: {line}" for line in violations(page)]


def test_public_pages_have_no_accessibility_violation(site, context_factory, content) -> None:
    from newsletter.email.links import archive_url

    page = context_factory(bypass_csp=True).new_page()
    lead, reader = content["lead"], content["reader"]
    tag = lead.tags.first()
    paths = [
        "/",
        lead.get_absolute_url(),
        content["sport"].get_absolute_url(),
        tag.get_absolute_url(),
        "/search/?q=الحوار",
        "/newsletter/",
        "/newsletter/embed/",
        "/archive/",
        archive_url(content["digest"]).removeprefix("http://testserver"),
        preferences_url(reader.uuid).removeprefix("http://testserver"),
        unsubscribe_url(reader.uuid).removeprefix("http://testserver"),
    ]
    found = [line for path in paths for line in check(page, site.url + path.removeprefix(site.url))]
    assert not found, "\n".join(found)


def test_every_email_has_no_accessibility_violation(site, context_factory, content) -> None:
    page = context_factory(bypass_csp=True).new_page()
    digest, reader, pending = content["digest"], content["reader"], content["pending"]
    emails = {
        "digest (ar)": render_digest(digest, Segment(language="ar")).html,
        "digest (en)": render_digest(digest, Segment(language="en")).html,
        "confirmation": build_subscriber_email(pending, EmailKind.CONFIRMATION).alternatives[0][0],
        "already subscribed": build_subscriber_email(reader, EmailKind.ALREADY_SUBSCRIBED).alternatives[0][0],
        "welcome": build_welcome_email(reader).alternatives[0][0],
    }
    from newsletter.hygiene.emails import HygieneEmail, build_hygiene_email

    emails["reminder"] = build_hygiene_email(pending, HygieneEmail.REMINDER).alternatives[0][0]
    emails["still want this"] = build_hygiene_email(reader, HygieneEmail.REENGAGE).alternatives[0][0]
    found = []
    for name, html in emails.items():
        page.set_content(html)
        found += [f"{name}: {line}" for line in violations(page)]
    assert not found, "\n".join(found)


def test_the_editors_screens_have_no_accessibility_violation(site, context_factory, content) -> None:
    editor = get_user_model().objects.create_user("axe-editor", "axe@example.com", PASSWORD, is_staff=True)
    editor.groups.add(editors_group())
    ranked_articles(6, prefix="جديد")
    draft = runs.next_draft("daily")
    curation.pin(digest_id=draft.pk, article_id=curation.active_items(draft)[0].article_id)
    # The distinct-lists count (issue 25), so the edition page shows its table.
    personal_preview.count_and_store(digest_id=draft.pk, now=timezone.now())
    page = context_factory(bypass_csp=True).new_page()
    page.goto(site.url + reverse("admin:login"))
    page.fill("input[name=username]", "axe-editor")
    page.fill("input[name=password]", PASSWORD)
    page.click("input[type=submit], button[type=submit]")
    page.wait_for_load_state()
    sent = content["digest"]
    tested = subject_test_waiting()
    urls = [
        reverse("admin:index"),
        reverse("admin:newsletter_digest_changelist"),
        reverse("admin:newsletter_digest_change", args=[draft.pk]),
        reverse("admin:newsletter_digest_preview", args=[draft.pk]),
        reverse("admin:newsletter_digest_reader", args=[draft.pk]) + f"?reader={content['reader'].pk}",
        reverse("admin:newsletter_digest_reader", args=[draft.pk]) + "?reader=nobody@example.com",
        reverse("admin:newsletter_digest_send", args=[draft.pk]),
        reverse("admin:newsletter_digest_schedule"),
        reverse("admin:newsletter_digest_change", args=[sent.pk]),
        reverse("admin:newsletter_digest_report", args=[sent.pk]),
        reverse("admin:newsletter_digest_dashboard"),
        reverse("admin:newsletter_digest_change", args=[tested.pk]),  # a subject-line test waiting
        reverse("admin:newsletter_digest_report", args=[tested.pk]),
        reverse("admin:articles_article_changelist"),
        reverse("admin:articles_article_change", args=[content["lead"].pk]),
    ]
    found = [line for url in urls for line in check(page, site.url + url)]
    assert not found, "\n".join(found)


def subject_test_waiting() -> Digest:
    """An edition whose subject-line test sent its share and waits (issue 27)."""
    digest = make_digest()
    make_subscribers(10, prefix="axe-subject")
    variants.set_subject_test(digest_id=digest.pk, subjects=["العنوان الأول للاختبار", "العنوان الثاني للاختبار"])
    for number in dispatch.dispatch(digest_id=digest.pk, enqueue=False).batches:
        batch.send_batch(digest_id=digest.pk, batch=number)
    return digest
