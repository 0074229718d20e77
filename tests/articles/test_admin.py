"""Editors group permissions and the article/tag admin (reads columns, actions, search, merge)."""

from datetime import timedelta

import pytest
from django.contrib.auth.models import Group, User
from django.test import Client

from articles.content import published
from articles.content.models import Article, Tag
from articles.reading import reads
from articles.reading.models import ArticleDailyStats
from sitewide import dates


@pytest.fixture
def editor_client(db) -> Client:
    user = User.objects.create_user("ed", password="pw-editor-123", is_staff=True)
    user.groups.add(Group.objects.get(name="Editors"))
    client = Client()
    client.force_login(user)
    return client


@pytest.mark.django_db
def test_editors_group_has_exactly_editor_permissions() -> None:
    perms = {f"{p.content_type.app_label}.{p.codename}" for p in Group.objects.get(name="Editors").permissions.all()}
    for model in ("article", "section", "tag"):
        assert {f"articles.{a}_{model}" for a in ("add", "change", "delete", "view")} <= perms
    assert {
        "articles.view_articledailystats",
        "newsletter.add_digest",
        "newsletter.change_digest",
        "newsletter.view_digest",
        "newsletter.delete_digestitem",
    } <= perms
    assert not [p for p in perms if p.startswith("auth.")]
    newsletter = {p for p in perms if p.startswith("newsletter.")}
    assert newsletter == {
        "newsletter.add_digest",
        "newsletter.change_digest",
        "newsletter.view_digest",
        "newsletter.add_digestitem",
        "newsletter.change_digestitem",
        "newsletter.delete_digestitem",
        "newsletter.view_digestitem",
        "newsletter.add_alert",  # breaking-news alerts from an article's page (migration 0021)
        "newsletter.view_alert",
    }
    assert "articles.change_articledailystats" not in perms


@pytest.mark.django_db
def test_editor_can_curate_but_not_see_users_or_subscribers(editor_client: Client, make_article) -> None:
    make_article("مقال للمحررين")
    assert editor_client.get("/admin/articles/article/").status_code == 200
    assert editor_client.get("/admin/articles/article/add/").status_code == 200
    assert editor_client.get("/admin/articles/tag/").status_code == 200
    assert editor_client.get("/admin/auth/user/").status_code == 403
    assert editor_client.get("/admin/auth/group/").status_code == 403
    assert editor_client.get("/admin/newsletter/subscriber/").status_code == 403


@pytest.mark.django_db
def test_changelist_reads_columns_search_and_query_count(
    make_article, admin_client: Client, django_assert_max_num_queries, settings
) -> None:
    settings.NUMERALS = ""  # Arabic-Indic digits in Arabic, as the email and the site
    articles = [make_article(f"إطلاق خبر {n}") for n in range(30)]
    today = reads.today()
    ArticleDailyStats.objects.create(article=articles[0], day=today, views=7, readers=5)
    ArticleDailyStats.objects.create(article=articles[0], day=today - timedelta(days=3), views=11, readers=9)
    ArticleDailyStats.objects.create(article=articles[0], day=today - timedelta(days=20), views=100, readers=90)
    with django_assert_max_num_queries(10):  # constant, whatever the page size
        response = admin_client.get("/admin/articles/article/")
    html = response.content.decode()
    assert '<td class="field-reads_24h">٧</td>' in html and '<td class="field-reads_7d">١٨</td>' in html
    # the publication time as the site writes it ("٣٠ نوفمبر ٢٠٢٦، ٠٧:٠٠"), not Django's "N j, Y, P"
    published = dates.format_datetime(articles[0].published_at)
    assert f'<td class="field-shown_published_at">{published}</td>' in html and "،" in published
    settings.NUMERALS = "latin"
    html = admin_client.get("/admin/articles/article/").content.decode()
    assert '<td class="field-reads_24h">7</td>' in html and '<td class="field-reads_7d">18</td>' in html
    response = admin_client.get("/admin/articles/article/", {"q": "اطلاق خبر 13"})
    assert response.context["cl"].result_count == 1


@pytest.mark.django_db
def test_bulk_actions_and_admin_save_syncs_tags(
    make_article, admin_client: Client, django_capture_on_commit_callbacks
) -> None:
    a, b = make_article(), make_article(status="draft", published_at=None)
    ids = [a.pk, b.pk]
    with django_capture_on_commit_callbacks(execute=True):
        admin_client.post("/admin/articles/article/", {"action": "publish", "_selected_action": ids})
    assert set(Article.objects.values_list("status", flat=True)) == {"published"}
    assert published.resolve_published(article_id=b.pk) == b.pk
    admin_client.post("/admin/articles/article/", {"action": "exclude_selected", "_selected_action": ids})
    assert all(Article.objects.values_list("exclude_from_digests", flat=True))
    admin_client.post("/admin/articles/article/", {"action": "include_selected", "_selected_action": ids})
    assert not any(Article.objects.values_list("exclude_from_digests", flat=True))
    with django_capture_on_commit_callbacks(execute=True):
        admin_client.post("/admin/articles/article/", {"action": "unpublish", "_selected_action": [a.pk]})
    assert Article.objects.get(pk=a.pk).status == "draft"
    assert published.resolve_published(article_id=a.pk) is None
    response = admin_client.post(
        "/admin/articles/article/add/",
        {
            "title": "مقال من لوحة التحرير",
            "slug": "",
            "summary": "",
            "body": "<p>عن #داعش و#أميركا</p><script>x</script>",
            "author": "",
            "image_url": "",
            "image_alt": "",
            "status": "published",
            "published_at_0": "",
            "published_at_1": "",
            "canonical_url": "",
            "guid": "",
        },
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    created = Article.objects.get(title="مقال من لوحة التحرير")
    assert created.slug == "مقال-من-لوحة-التحرير" and "<script>" not in created.body
    assert set(created.tags.values_list("key", flat=True)) == {"داعش", "اميركا"}


@pytest.mark.django_db
def test_tag_merge_action(make_article, admin_client: Client) -> None:
    a = make_article(body="<p>#أمريكا</p>")
    make_article(body="<p>#أميركا</p>")
    variant, survivor = Tag.objects.get(key="امريكا"), Tag.objects.get(key="اميركا")
    response = admin_client.post("/admin/articles/tag/", {"action": "merge", "_selected_action": [variant.pk]})
    assert response.status_code == 200 and "الوسم الباقي" in response.content.decode()
    admin_client.post(
        "/admin/articles/tag/", {"action": "merge", "_selected_action": [variant.pk], "apply": "1", "into": survivor.pk}
    )
    variant.refresh_from_db()
    assert variant.merged_into == survivor and list(a.tags.all()) == [survivor]
    autocomplete = admin_client.get(
        "/admin/autocomplete/",
        {"app_label": "articles", "model_name": "article", "field_name": "tags", "term": "أميركا"},
    )
    assert autocomplete.status_code == 200 and str(survivor.pk) in autocomplete.content.decode()
