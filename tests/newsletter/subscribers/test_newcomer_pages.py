"""What a new newsroom met on the reader pages (issue 22): the unsubscribe page offers the weekly
edition instead and asks an optional reason afterwards (the RFC 8058 POST unchanged, a GET still
changing nothing); a privacy policy link beside every signup form and in every email's footer;
each signup error beside its field, named by aria-describedby; the CSV import's topics by a
section's id, slug or name."""

from __future__ import annotations

import re

import pytest
from django.contrib.auth.models import User
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from articles.content.models import Section
from newsletter.orchestration.welcome import build_welcome_email
from newsletter.subscribers import consent, csv_io, lifecycle, token_links
from newsletter.subscribers.emails import EmailKind, build_subscriber_email
from newsletter.subscribers.models import ConsentEvent, Subscriber
from tests.integration.helpers import make_digest

pytestmark = pytest.mark.django_db

PRIVACY = "https://news.example.com/privacy/"


def path_of(url: str) -> str:
    return url.removeprefix("http://testserver")


def reader(frequency: str = "daily", **fields) -> Subscriber:
    return Subscriber.objects.create(
        email="reader@example.com", status="active", confirmed_at=timezone.now(), frequency=frequency, **fields
    )


# --- unsubscribe page: weekly instead, a reason afterwards ---------------------------------------


def test_the_unsubscribe_page_offers_weekly_instead_and_a_get_changes_nothing(client):
    subscriber = reader()
    url = path_of(token_links.unsubscribe_url(subscriber.uuid))
    page = client.get(url).content.decode()
    weekly = reverse("newsletter:weekly-instead", kwargs={"token": url.split("/")[-2]})
    assert f'action="{weekly}"' in page and "الأسبوعية" in page
    assert client.get(weekly).status_code == 405  # a link scanner's GET
    subscriber.refresh_from_db()
    assert (subscriber.status, subscriber.frequency) == ("active", "daily")
    # The POST needs the page's CSRF token as well as the signed link.
    assert Client(enforce_csrf_checks=True).post(weekly).status_code == 403
    done = client.post(weekly)
    assert done.status_code == 200 and "الأسبوعية" in done.content.decode()
    subscriber.refresh_from_db()
    assert (subscriber.status, subscriber.frequency) == ("active", "weekly")
    assert not ConsentEvent.objects.exists()  # a preference, not a consent change
    # A weekly reader is not offered it again; a reader who left cannot switch.
    assert f'action="{weekly}"' not in client.get(url).content.decode()
    lifecycle.unsubscribe(subscriber=subscriber)
    assert client.post(weekly).status_code == 409
    tampered = reverse("newsletter:weekly-instead", kwargs={"token": "x" + url.split("/")[-2]})
    assert client.post(tampered).status_code == 404


def test_one_click_post_is_unchanged_and_then_asks_an_optional_reason(client):
    subscriber = reader()
    url = path_of(token_links.unsubscribe_url(subscriber.uuid))
    token = url.split("/")[-2]
    mail_provider = Client(enforce_csrf_checks=True)  # no cookie, no CSRF token, no session
    response = mail_provider.post(url, "List-Unsubscribe=One-Click", content_type="application/x-www-form-urlencoded")
    assert response.status_code == 200 and not response.has_header("Location")
    subscriber.refresh_from_db()
    assert subscriber.status == "unsubscribed"
    [left] = consent.history(subscriber)
    assert (left.kind, left.reason) == ("unsubscribed", "")
    page = response.content.decode()
    reason_url = reverse("newsletter:unsubscribe-reason", kwargs={"token": token})
    assert f'action="{reason_url}"' in page
    for reason in consent.READER_REASONS:
        assert f'value="{reason.value}"' in page and str(reason.label) in page
    # A wrong choice: a clear error beside the choices, nothing stored.
    bad = client.post(reason_url, {"reason": "inactive"})
    assert bad.status_code == 400 and "اختر سببًا من القائمة." in bad.content.decode()
    assert 'aria-describedby="id_reason_error"' in bad.content.decode()
    assert client.post(reason_url, {}).status_code == 400
    assert consent.history(subscriber)[0].reason == ""
    thanked = client.post(reason_url, {"reason": "too_many"})
    assert thanked.status_code == 200 and "شكرًا لك" in thanked.content.decode()
    assert 'name="reason"' not in thanked.content.decode()
    assert [(row.kind, row.reason) for row in consent.history(subscriber)] == [("unsubscribed", "too_many")]
    client.post(reason_url, {"reason": "other"})  # once: the first answer stays
    assert consent.history(subscriber)[0].reason == "too_many"
    # An old link visited later says they left and asks nothing again.
    assert f'action="{reason_url}"' not in client.get(url).content.decode()


# --- privacy policy link -------------------------------------------------------------------------


def test_no_privacy_link_by_default(client, settings):
    assert settings.PRIVACY_POLICY_URL == ""
    assert "privacy-link" not in client.get("/newsletter/").content.decode()


def test_privacy_link_beside_every_signup_form(client, settings, make_article):
    settings.PRIVACY_POLICY_URL = PRIVACY
    signup = client.get("/newsletter/").content.decode()
    embed = client.get("/newsletter/embed/").content.decode()
    article = client.get(make_article("خبر").get_absolute_url()).content.decode()
    box = article[article.index('class="subscribe-box"') :]
    for page in (signup, embed, box):
        assert f'<a href="{PRIVACY}">سياسة الخصوصية' in page


def test_privacy_link_in_the_footer_of_every_email(settings):
    settings.PRIVACY_POLICY_URL = "/privacy/"  # a path on this site: made absolute in emails
    absolute = "http://testserver/privacy/"
    settings.SITE_URL = "http://testserver"
    subscriber = reader()
    messages = [build_subscriber_email(subscriber, kind) for kind in EmailKind]
    messages.append(build_welcome_email(subscriber))
    from newsletter.hygiene.emails import HygieneEmail, build_hygiene_email

    messages += [build_hygiene_email(subscriber, kind) for kind in HygieneEmail]
    from newsletter.editions.segments import Segment
    from newsletter.email.render import editor_links, merge, render_digest

    digest = make_digest()
    for language in ("ar", "en"):
        rendered = merge(render_digest(digest, Segment(language=language)), editor_links())
        assert f'href="{absolute}"' in rendered.html and absolute in rendered.text, language
    for message in messages:
        html = str(message.alternatives[0][0])
        assert f'href="{absolute}"' in html and absolute in message.body, message.subject


# --- CSV import topics ---------------------------------------------------------------------------


def test_import_topics_by_id_slug_or_arabic_or_english_name(settings):
    sport = Section.objects.create(name="الرياضة", slug="sport")
    economy = Section.objects.create(name="Economy", slug="iqtisad")
    content = (
        "email,topics\n"
        f"a@example.com,{sport.pk}\n"
        "b@example.com,sport|ECONOMY\n"
        "c@example.com,الرياضه|iqtisad\n"  # teh marbuta typed as heh
        f"d@example.com,{str(economy.pk).translate(str.maketrans('0123456789', '٠١٢٣٤٥٦٧٨٩'))}\n"
        "e@example.com,politics\n"
    ).encode()
    preview = csv_io.parse_import(content)
    assert [row.topic_ids for row in preview.rows[:4]] == [
        [sport.pk],
        [sport.pk, economy.pk],
        [sport.pk, economy.pk],
        [economy.pk],
    ]
    assert preview.rows[4].errors == ["قسم غير معروف: politics"]


def test_a_name_two_sections_answer_to_is_refused_not_guessed():
    Section.objects.create(name="news", slug="akhbar")
    Section.objects.create(name="أخبار", slug="news")
    [row] = csv_io.parse_import(b"email,topics\na@example.com,news\n").rows
    assert row.action == csv_io.Action.ERROR and "أكثر من قسم" in row.errors[0]


def test_the_import_help_text_says_what_a_topic_may_be():
    from newsletter.subscribers.forms import ImportUploadForm

    help_text = str(ImportUploadForm().fields["file"].help_text)
    assert "رقم القسم أو معرّفه أو اسمه" in help_text


# --- signup errors beside their field ------------------------------------------------------------


@pytest.mark.parametrize("path", ["/newsletter/", "/newsletter/embed/"])
def test_server_rendered_errors_are_named_by_their_field(client, path):
    data = {"email": "not-an-address", "frequency": "hourly"}
    if path.endswith("embed/"):
        page = client.get(path).content.decode()
        data["embed_token"] = re.search(r'name="embed_token" value="([^"]+)"', page).group(1)
    body = client.post(path, data).content.decode()
    email_input = re.search(r'<input[^>]*name="email"[^>]*>', body).group(0)
    assert 'aria-invalid="true"' in email_input and 'aria-describedby="id_email_error"' in email_input
    assert body.count('id="id_email_error"') == 1
    field = body[body.index('<div class="field">') : body.index("</div>", body.index('id="id_email_error"'))]
    assert "name@example.com" in field  # the message sits in the field's own box
    assert 'aria-describedby="id_frequency_error"' in body and body.count('id="id_frequency_error"') == 1


@pytest.fixture
def make_article():
    from articles.content.models import Article

    def make(title: str) -> Article:
        from articles.content import services

        article = Article(title=title, body="<p>نص</p>", status=Article.Status.PUBLISHED, published_at=timezone.now())
        services.save_article(article)
        return article

    return make


@pytest.fixture
def boss(client):
    client.force_login(User.objects.create_superuser("boss", "boss@example.com", "pw"))
    return client


def test_upload_topics_in_the_admin_import(boss):
    sport = Section.objects.create(name="الرياضة", slug="sport")
    upload = SimpleUploadedFile("s.csv", "email,topics\nx@example.com,الرياضة\n".encode())
    preview = boss.post("/admin/newsletter/subscriber/import/", {"file": upload})
    assert preview.context["counts"] == {"create": 1}
    boss.post("/admin/newsletter/subscriber/import/", {"import_key": preview.context["import_key"]})
    assert list(Subscriber.objects.get(email="x@example.com").topics.all()) == [sport]
