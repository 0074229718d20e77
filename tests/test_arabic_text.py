"""Numbers read right in everything we show in Arabic (issue 22): the public pages, every email
and the admin screens of the editor and the administrator, rendered from a newsroom whose own
content has no digits at all, so every digit on them was written by our code.

Two checks (tests/typography.py): no dot-like separator or full stop used as a separator or
list marker beside a digit (the Arabic-Indic zero is a dot: "سياسة · ٣ ديسمبر" reads
"٣٠ ديسمبر"), and, with the default NUMERALS, no Western digit inside Arabic text. The English
email and site get the separator check too (Western digits are theirs)."""

from __future__ import annotations

import io
import re
from datetime import timedelta
from typing import Any

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from articles.content.models import Article, Section, Tag
from articles.reading.models import ArticleDailyStats
from newsletter.analytics import rollup
from newsletter.editions import curation, segments
from newsletter.editions.models import Digest, DigestItem
from newsletter.editions.segments import Segment
from newsletter.email import message as email_message
from newsletter.email.links import archive_url
from newsletter.email.render import preview_segment, render_digest, render_segment
from newsletter.hygiene.emails import HygieneEmail, build_hygiene_email
from newsletter.orchestration import runs
from newsletter.orchestration.welcome import build_welcome_email
from newsletter.subscribers.emails import EmailKind, build_subscriber_email
from newsletter.subscribers.models import Subscriber
from newsletter.subscribers.tokens import Purpose, make_token
from tests.test_admin_language import admin_pages, custom_views
from tests.typography import dot_separators, western_digits
from tests.visible_text import visible_texts

pytestmark = pytest.mark.django_db

TITLES = (
    "الحوار الاستراتيجي يبدأ جولته الأولى في بغداد",
    "وزير الخارجية يلتقي نظيره في عمّان",
    "المنتخب يفوز في مباراة الافتتاح",
    "ارتفاع أسعار النفط مع بداية الشتاء",
    "افتتاح معرض الكتاب بمشاركة عربية واسعة",
    "الأمطار تغمر شوارع البصرة",
    "البرلمان يناقش قانون الموازنة",
    "جامعة بغداد تستقبل طلابها الجدد",
)
# Every option and value in the shown text counts: the <option> labels are ours too.
SKIP = {"script", "style", "svg", "noscript", "template", "textarea", "bdi"}
# Django's own admin chrome, written by Django with its date format and Western digits: the date
# drill-down above a list, the "0 of 8 selected" counter its script rewrites, the sort priority
# beside a column header. Not ours to write (the counts and names we hand Django are checked).
DJANGO_CHROME = frozenset({"toplinks", "action-counter", "sortpriority"})
# Pages left out of the digit check, and why: Django's own account screens (its validators'
# help, "150 characters or fewer"), django-celery-beat's raw screens (crontab fields, priorities
# and the library's names of its rows are typed and shown in Western digits: they are code; our
# descriptions of them are checked in tests/newsletter/test_admin_arabic_screens.py), and the
# RSS feed (dates in RFC 822 for feed readers, not for reading).
# Rows of the relation tables Django makes for many-to-many fields ("Article_tags object (9)"),
# listed on delete pages: Django names them, in English, with their database ids.
DJANGO_RELATION_ROW = re.compile(r"\b\w+_\w+ object \(\d+\)")
NOT_ARABIC_TEXT = ("/admin/auth/user/", "/admin/password_change/", "/admin/django_celery_beat/", "archive feed")


@pytest.fixture
def newsroom(settings, time_machine) -> dict[str, Any]:
    """Sections, tagged articles with reads, subscribers in both languages, a sent daily edition
    (archive, report) and the next drafts: nothing the newsroom typed contains a digit."""
    time_machine.move_to(timezone.now().replace(hour=9, minute=0, second=0, microsecond=0), tick=False)
    settings.DIGEST_MIN_STORIES = 3
    settings.DIGEST_TOP_N = 5  # the sent edition takes five, the next one the other three
    settings.DIGEST_HIJRI_DATE = True
    settings.SENDER_NAME = "نشرة الأخبار"
    settings.SENDER_POSTAL_ADDRESS = "شارع أبي نواس، بغداد"
    politics = Section.objects.create(name="سياسة", slug="سياسة")
    sport = Section.objects.create(name="رياضة", slug="رياضة")
    tag = Tag.objects.create(name="الحوار الاستراتيجي", key="الحوار_الاستراتيجي", slug="الحوار")
    now = timezone.now()
    articles = []
    for index, title in enumerate(TITLES):
        article = Article.objects.create(
            title=title,
            slug=title.replace(" ", "-"),
            summary="ملخص الخبر كما كتبه المحرر.",
            body="<p>نص الخبر.</p>",
            author="مراسلنا",
            section=sport if index == 6 else politics,
            status=Article.Status.PUBLISHED,
            published_at=now - timedelta(hours=3 + index),
        )
        article.tags.add(tag)
        ArticleDailyStats.objects.create(
            article=article, day=timezone.localdate(now - timedelta(hours=3)), views=900 - index, readers=800 - index
        )
        articles.append(article)
    readers = {
        "ar": Subscriber.objects.create(email="qari@example.com", status="active", confirmed_at=now),
        "en": Subscriber.objects.create(email="reader@example.com", status="active", language="en", confirmed_at=now),
        "sport": Subscriber.objects.create(email="riyada@example.com", status="active", confirmed_at=now),
        "weekly": Subscriber.objects.create(
            email="usbui@example.com", status="active", frequency="weekly", confirmed_at=now
        ),
        "pending": Subscriber.objects.create(email="muntazir@example.com"),
    }
    readers["sport"].topics.set([sport])
    call_command("send_digest", "--frequency", "daily", "--sync", stdout=io.StringIO())
    sent = Digest.objects.get(frequency="daily", status=Digest.Status.SENT)
    rollup.rollup(now=timezone.now())
    time_machine.move_to(now + timedelta(days=1), tick=False)
    draft = runs.next_draft("daily")
    # A story of the sent edition pinned again: its row is marked "in the previous edition".
    curation.add_article(digest_id=draft.pk, article_id=articles[0].pk)
    weekly = runs.next_draft("weekly")
    return {
        "articles": articles,
        "sections": (politics, sport),
        "tag": tag,
        "readers": readers,
        "sent": sent,
        "draft": draft,
        "weekly": weekly,
    }


# --- What is rendered ------------------------------------------------------------------------


def public_pages(newsroom: dict[str, Any], client: Client) -> dict[str, str]:
    readers = newsroom["readers"]
    article = newsroom["articles"][0]
    politics, _sport = newsroom["sections"]
    token = make_token(readers["ar"].uuid, Purpose.PREFERENCES)
    pages = {
        "home": client.get("/"),
        "article": client.get(article.get_absolute_url()),
        "section": client.get(politics.get_absolute_url() + "?page=2"),
        "tag": client.get(newsroom["tag"].get_absolute_url()),
        "search": client.get("/search/", {"q": "بغداد"}),
        "archive": client.get("/archive/"),
        "archive edition": client.get(archive_url(newsroom["sent"]).removeprefix("http://testserver")),
        "archive feed": client.get("/archive/feed/"),
        "signup": client.get("/newsletter/"),
        "signup errors": client.post("/newsletter/", {"email": "ليس-عنوانا", "frequency": "daily"}),
        "signup done": client.post("/newsletter/", {"email": "jadid@example.com", "frequency": "daily"}),
        "embed": client.get("/newsletter/embed/"),
        "confirm": client.get(f"/newsletter/confirm/{make_token(readers['pending'].uuid, Purpose.CONFIRM)}/"),
        "preferences": client.get(f"/newsletter/preferences/{token}/"),
        "unsubscribe": client.get(f"/newsletter/unsubscribe/{make_token(readers['ar'].uuid, Purpose.UNSUBSCRIBE)}/"),
    }
    for name, response in pages.items():
        assert response.status_code in (200, 400), (name, response.status_code)
    return {name: response.content.decode() for name, response in pages.items()}


def emails(newsroom: dict[str, Any], *, language: str) -> dict[str, str]:
    """Subject, text and HTML of every email a subscriber in `language` can receive."""
    readers = newsroom["readers"]
    reader = readers["ar"] if language == "ar" else readers["en"]
    pending = readers["pending"]
    pending.language = reader.language = language
    messages = {
        "confirmation": build_subscriber_email(pending, EmailKind.CONFIRMATION),
        "already subscribed": build_subscriber_email(reader, EmailKind.ALREADY_SUBSCRIBED),
        "welcome": build_welcome_email(reader),
        "reminder": build_hygiene_email(pending, HygieneEmail.REMINDER),
        "still want this": build_hygiene_email(reader, HygieneEmail.REENGAGE),
        "test send": email_message.test_message(
            preview_segment(segments.EditionStories(newsroom["draft"]), Segment(language=language)),
            to="muharrir@example.com",
            label=f"{language} test",
        ),
    }
    rendered = {name: (m.subject, m.body, m.alternatives[0][0]) for name, m in messages.items() if m}
    politics, sport = newsroom["sections"]
    for name, digest, section_ids in (
        ("daily digest", newsroom["draft"], ()),
        ("weekly digest", newsroom["weekly"], ()),
        ("topic digest with the site's most read", newsroom["draft"], (sport.pk,)),
    ):
        segment = Segment(language=language, section_ids=section_ids)
        email = (
            render_segment(segments.EditionStories(digest), segment) if section_ids else render_digest(digest, segment)
        )
        assert email is not None, name
        rendered[name] = (email.subject, email.text, email.html)
    return {
        f"{name} ({part})": value
        for name, (subject, text, html) in rendered.items()
        for part, value in (("subject", subject), ("text", text), ("html", html))
    }


def staff_client(*, editor: bool) -> tuple[Client, object]:
    users = get_user_model().objects
    if editor:
        user = users.create_user("محرر", "muharrir@example.com", "pw", is_staff=True)
        user.groups.add(Group.objects.get(name="Editors"))
    else:
        user = users.create_superuser("مدير", "mudir@example.com", "pw")
    client = Client()
    client.force_login(user)
    return client, user


def admin_screens(newsroom: dict[str, Any], *, editor: bool) -> dict[str, str]:
    """Every admin page the user can open, the editions' own views, and the messages the
    editor's and the administrator's everyday actions leave on the next page."""
    client, user = staff_client(editor=editor)
    sent, draft = newsroom["sent"], newsroom["draft"]
    urls = [
        *admin_pages(client, user),
        *custom_views(draft.pk),
        reverse("admin:newsletter_digest_change", args=[sent.pk]),
        reverse("admin:newsletter_digest_report", args=[sent.pk]),
        reverse("admin:newsletter_digest_dashboard"),
        reverse("admin:newsletter_digest_preview", args=[draft.pk]) + "?language=en",
        # Preview as a reader (issue 25): a reader following sport, topped up from the general list.
        reverse("admin:newsletter_digest_reader", args=[draft.pk]) + f"?reader={newsroom['readers']['sport'].pk}",
        reverse("admin:newsletter_digest_reader", args=[draft.pk]) + "?reader=999999",
    ]
    if not editor:
        urls += [
            reverse("admin:newsletter_subscriber_import"),
            reverse("admin:newsletter_subscriber_change", args=[newsroom["readers"]["sport"].pk]),
        ]
    pages = {}
    for url in dict.fromkeys(urls):
        response = client.get(url, follow=True)
        assert response.status_code == 200, (url, response.status_code)
        pages[url] = response.content.decode()
    for name, response in actions(newsroom, client, editor=editor).items():
        pages[name] = response.content.decode()
    return pages


def actions(newsroom: dict[str, Any], client: Client, *, editor: bool):
    """Each action's response page (with the message it left)."""
    draft = newsroom["draft"]
    articles = newsroom["articles"]
    items = list(DigestItem.objects.filter(digest=draft).order_by("position", "id"))
    form = {
        "subject": "",
        "preheader": "",
        "intro": "صباح الخير.",
        "items-TOTAL_FORMS": len(items),
        "items-INITIAL_FORMS": len(items),
        "items-MIN_NUM_FORMS": 0,
        "items-MAX_NUM_FORMS": 1000,
    }
    for index, item in enumerate(items):
        form.update({f"items-{index}-id": item.pk, f"items-{index}-digest": draft.pk})
        form.update({f"items-{index}-article": item.article_id, f"items-{index}-position": index + 1})
    change_list = reverse("admin:articles_article_changelist")
    done = {
        "edition saved": client.post(
            reverse("admin:newsletter_digest_change", args=[draft.pk]), {**form, "_continue": "1"}, follow=True
        ),
        "articles published": client.post(
            change_list, {"action": "publish", "_selected_action": [a.pk for a in articles[:3]]}, follow=True
        ),
        "test sent": client.post(
            reverse("admin:newsletter_digest_send_test", args=[draft.pk]),
            {"addresses": "muharrir@example.com", "language": "ar"},
            follow=True,
        ),
        "lists counted": client.post(reverse("admin:newsletter_digest_count_lists", args=[draft.pk]), follow=True),
        "editions cancelled": client.post(
            reverse("admin:newsletter_digest_changelist"),
            {"action": "cancel_selected", "_selected_action": [newsroom["weekly"].pk]},
            follow=True,
        ),
    }
    if not editor:
        upload = SimpleUploadedFile("list.csv", b"email\nwahid@example.com\nithnan@example.com\nnot-an-address\n")
        preview = client.post(
            reverse("admin:newsletter_subscriber_import"), {"file": upload, "send_confirmation": "on"}
        )
        key = preview.context["import_key"]
        done["import preview"] = preview
        done["import done"] = client.post(
            reverse("admin:newsletter_subscriber_import"),
            {"import_key": key, "send_confirmation": "1", "only_valid_rows": "1"},
            follow=True,
        )
    for name, response in done.items():
        assert response.status_code == 200, (name, response.status_code)
    return done


# --- The checks ---------------------------------------------------------------------------------


def problems(pages: dict[str, str], check) -> dict[str, list[str]]:
    found = {}
    for name, content in pages.items():
        is_html = not name.endswith(("(subject)", "(text)"))
        texts = visible_texts(content, skip_tags=SKIP, skip_classes=DJANGO_CHROME) if is_html else [content]
        texts = [DJANGO_RELATION_ROW.sub(" ", text) for text in texts]
        hits = check(texts)
        if hits:
            found[name] = hits
    return found


def test_no_dot_beside_a_digit_on_the_site_in_emails_and_the_admin(newsroom, client) -> None:
    english = Client()
    english.cookies["django_language"] = "en"
    pages = {
        **public_pages(newsroom, client),
        **{f"{name} [en]": html for name, html in public_pages(newsroom, english).items()},
        **emails(newsroom, language="ar"),
        **{f"{name} [en]": html for name, html in emails(newsroom, language="en").items()},
        **admin_screens(newsroom, editor=True),
    }
    assert problems(pages, dot_separators) == {}


def test_arabic_text_has_only_arabic_indic_digits(newsroom, client) -> None:
    pages = {
        **public_pages(newsroom, client),
        **emails(newsroom, language="ar"),
        **admin_screens(newsroom, editor=True),
        **{f"{name} [administrator]": html for name, html in admin_screens(newsroom, editor=False).items()},
    }
    pages = {name: html for name, html in pages.items() if not name.startswith(NOT_ARABIC_TEXT)}
    assert len(pages) > 60
    assert problems(pages, western_digits) == {}
