"""The admin's Arabic reads right (issue 22): words agree with our nouns, Django's messages say
what happened, the scripts' texts are Arabic, positions count from 1, and the editor can give the
English edition its own texts (a section's English name, the edition's English intro).

- The story rows' "add another" link agrees with مادة (feminine): "أضِف مادة أخرى", not Django's
  masculine "أضِف مادة آخر".
- After an edit Django's Arabic said "نجحت إضافة" (added); our catalog says "تم تعديل".
- Django's delete action put our plural names in the wrong case ("احذف المشتركون المحدّدة"):
  the name is quoted now, which reads right whatever its gender or case.
- The two-box chooser of a subscriber's topics (filter_horizontal) and the calendar take their
  texts from the admin's JavaScript catalog, where Django's Arabic leaves some English.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from django.conf import settings
from django.contrib import admin
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.contrib.messages import get_messages
from django.test import Client
from django.urls import reverse

from articles.content.models import Section
from newsletter.editions import curation
from newsletter.editions.models import DigestItem
from newsletter.orchestration import runs
from tests.newsletter.digest_helpers import ranked_articles, subscriber

pytestmark = pytest.mark.django_db

ADMIN_JS = Path(admin.__file__).parent / "static" / "admin" / "js"
# The admin scripts whose texts an editor or administrator reads: the two-box chooser of
# filter_horizontal (a subscriber's topics) and the calendar of the date fields (an article's
# publication time).
SCRIPTS = ("SelectFilter2.js", "calendar.js", "admin/DateTimeShortcuts.js", "actions.js")


@pytest.fixture
def editor() -> Client:
    user = get_user_model().objects.create_user("محرر", "muharrir@example.com", "pw", is_staff=True)
    user.groups.add(Group.objects.get(name="Editors"))
    client = Client()
    client.force_login(user)
    return client


@pytest.fixture
def administrator() -> Client:
    client = Client()
    client.force_login(get_user_model().objects.create_superuser("مدير", "mudir@example.com", "pw"))
    return client


def messages_after(client: Client, path: str, data: dict[str, object]) -> list[str]:
    response = client.post(path, data, follow=True)
    assert response.redirect_chain, response.content.decode()[:2000]
    return [str(message) for message in get_messages(response.wsgi_request)]


def test_the_story_rows_add_another_link_agrees_with_its_noun(editor: Client) -> None:
    ranked_articles(4)
    digest = runs.next_draft("daily")
    page = editor.get(reverse("admin:newsletter_digest_change", args=[digest.pk])).content.decode()
    data = re.search(r'data-inline-formset="([^"]+)"', page).group(1)
    options = json.loads(data.replace("&quot;", '"'))["options"]
    assert options["addText"] == "أضِف مادة أخرى"


def test_the_message_after_an_edit_says_it_was_changed(editor: Client) -> None:
    section = Section.objects.create(name="سياسة", slug="siyasa")
    change = reverse("admin:articles_section_change", args=[section.pk])
    form = {"name": "سياسة", "name_en": "Politics", "slug": "siyasa", "position": 0}
    [message] = messages_after(editor, change, form)
    assert message.startswith("تم تعديل") and "نجحت إضافة" not in message


def test_editors_give_a_section_its_english_name(editor: Client) -> None:
    section = Section.objects.create(name="رياضة", slug="riyada")
    change = reverse("admin:articles_section_change", args=[section.pk])
    assert 'name="name_en"' in editor.get(change).content.decode()
    messages_after(editor, change, {"name": "رياضة", "name_en": "Sport", "slug": "riyada", "position": 0})
    section.refresh_from_db()
    assert section.name_en == "Sport" and section.name_in("en") == "Sport" and section.name_in("ar") == "رياضة"


def test_the_editor_writes_the_english_intro_on_the_edition_page(editor: Client) -> None:
    ranked_articles(4)
    digest = runs.next_draft("daily")
    change = reverse("admin:newsletter_digest_change", args=[digest.pk])
    assert 'name="intro_en"' in editor.get(change).content.decode()
    items = list(DigestItem.objects.filter(digest=digest).order_by("position"))
    form: dict[str, object] = {
        "subject": "",
        "preheader": "",
        "intro": "صباح الخير.",
        "intro_en": "Good morning.",
        "items-TOTAL_FORMS": len(items),
        "items-INITIAL_FORMS": len(items),
        "items-MIN_NUM_FORMS": 0,
        "items-MAX_NUM_FORMS": 1000,
    }
    for index, item in enumerate(items):
        form.update({f"items-{index}-id": item.pk, f"items-{index}-digest": digest.pk})
        form.update({f"items-{index}-article": item.article_id, f"items-{index}-position": item.position})
    messages_after(editor, change, form)
    digest.refresh_from_db()
    assert (digest.intro, digest.intro_en) == ("صباح الخير.", "Good morning.")
    preview = editor.get(reverse("admin:newsletter_digest_preview", args=[digest.pk]) + "?language=en")
    assert "Good morning." in preview.content.decode()


def test_delete_actions_name_our_models_in_a_form_that_agrees(administrator: Client) -> None:
    """Every list with Django's delete action: its label quotes the plural name."""
    from django.test import RequestFactory

    ranked_articles(1)
    subscriber("qari@example.com")
    request = RequestFactory().get("/admin/")
    request.user = get_user_model().objects.get(username="مدير")
    checked = 0
    for model, model_admin in admin.site._registry.items():
        labels = {name: str(label) for name, label in model_admin.get_action_choices(request)}
        if "delete_selected" not in labels:
            continue
        assert labels["delete_selected"] == f"احذف المحدَّد من «{model._meta.verbose_name_plural}»", model
        checked += 1
    assert checked >= 5
    page = administrator.post(
        reverse("admin:articles_section_changelist"),
        {"action": "delete_selected", "_selected_action": list(Section.objects.values_list("pk", flat=True))},
    ).content.decode()
    assert "أأنت متأكد أنك تريد حذف المحدَّد من «" in page


def test_positions_shown_to_editors_count_from_one(editor: Client) -> None:
    articles = ranked_articles(4)
    digest = runs.next_draft("daily")
    assert list(DigestItem.objects.filter(digest=digest).order_by("position").values_list("position", flat=True)) == [
        1,
        2,
        3,
        4,
    ]
    curation.remove(digest_id=digest.pk, article_id=articles[0].pk)
    curation.add_article(digest_id=digest.pk, article_id=articles[0].pk)
    assert [item.position for item in curation.active_items(digest)] == [1, 2, 3, 4]
    page = editor.get(reverse("admin:newsletter_digest_change", args=[digest.pk])).content.decode()
    first = re.search(r'<input type="number" name="items-0-position" value="(\d+)"', page).group(1)
    assert first == "1" and 'min="1"' in page
    # The empty "add" row starts at 1 too, and the drag script writes positions from 1.
    assert re.search(r'name="items-__prefix__-position" value="1"', page)
    script = (Path(settings.BASE_DIR) / "static" / "digest_order.js").read_text(encoding="utf-8")
    assert ".value = index + 1;" in script


def _catalog(client: Client) -> dict[str, object]:
    source = client.get(reverse("admin:jsi18n")).content.decode()
    return json.loads(re.search(r"const newcatalog = (\{.*?\});\n", source, flags=re.S).group(1))


def _script_texts(name: str) -> set[str]:
    """The msgids a script passes to gettext/ngettext/pgettext (context\x04msgid for pgettext)."""
    source = (ADMIN_JS / name).read_text(encoding="utf-8")
    texts = {
        match.group(2).replace('\\"', '"').replace("\\'", "'")
        for match in re.finditer(r"""\bgettext\(\s*(['"])((?:\\.|(?!\1).)*)\1\s*\)""", source)
    }
    texts |= {
        f"{context}\x04{msgid}" for context, msgid in re.findall(r"pgettext\(\s*'([^']*)'\s*,\s*'([^']*)'", source)
    }
    texts |= set(re.findall(r"\bngettext\(\s*'([^']*)'", source))
    return texts


@pytest.mark.parametrize("script", SCRIPTS)
def test_the_admin_scripts_texts_are_arabic(administrator: Client, script: str) -> None:
    catalog = _catalog(administrator)
    texts = _script_texts(script)
    assert texts, script
    untranslated = sorted(
        text for text in texts if not re.search(r"[\u0600-\u06ff]", json.dumps(catalog.get(text), ensure_ascii=False))
    )
    assert untranslated == []


def test_the_topics_chooser_is_on_the_subscribers_page(administrator: Client) -> None:
    """The chooser those texts fill (SelectFilter2.js) is what the subscriber's page loads."""
    reader = subscriber("qari@example.com")
    page = administrator.get(reverse("admin:newsletter_subscriber_change", args=[reader.pk])).content.decode()
    assert "SelectFilter2.js" in page and 'class="selectfilter"' in page
