"""Saving articles (sanitising, slugs, tags from hashtags), tag merging and search."""

import pytest
from django.test import Client

from articles.content import services
from articles.content.models import Article, Tag

BODY = (
    "<p>بحث #فؤاد_حسين ملفات #الحوار_الاستراتيجي مع #أميركا، وقال إن #اميركا شريك و#قمة بغداد "
    'ناقشت خطر #داعش و#ميزانيةٌ_٢٠٢٥.</p><script>alert(1)</script><p onclick="x()">نص</p>'
)


@pytest.mark.django_db
def test_hashtags_become_tags_with_normalised_keys_and_links(make_article, client: Client) -> None:
    article = make_article("وزير الخارجيّة يبحث الحوار مع واشنطن", BODY)
    keys = set(article.tags.values_list("key", flat=True))
    assert keys == {"فؤاد حسين", "الحوار الاستراتيجي", "اميركا", "قمه", "داعش", "ميزانيه 2025"}
    assert Tag.objects.filter(key="اميركا").count() == 1
    assert Tag.objects.get(key="الحوار الاستراتيجي").name == "الحوار الاستراتيجي"
    assert "<script>" not in article.body and "onclick" not in article.body
    page = client.get(article.get_absolute_url()).content.decode()
    for key in keys:
        tag = Tag.objects.get(key=key)
        assert f'href="{tag.get_absolute_url()}" rel="tag">#' in page
    assert page.count('class="hashtag"') == 7  # أميركا and اميركا both link to the one tag


@pytest.mark.django_db
def test_search_without_hamza_or_tashkeel_finds_the_article(make_article, client: Client) -> None:
    article = make_article("إطلاقُ مبادرةٍ للسلام في الأنبار", "<p>مبادرة جديدة #أميركا</p>")
    make_article("خبر آخر", "<p>لا علاقة</p>")
    for query in ["اطلاق مبادره", "الانبار", "ٱلأنبار", "اميركا", "إطلاق"]:
        found = list(services.search(Article.objects.all(), query))
        assert found == [article], query
    response = client.get("/search/", {"q": "اطلاق مبادره"})
    assert article.title in response.content.decode()
    assert "خبر آخر" not in response.content.decode()


@pytest.mark.django_db
def test_slug_is_unicode_and_unique(make_article) -> None:
    first = make_article("عنوان مكرر")
    second = make_article("عنوان مكرر")
    assert first.slug == "عنوان-مكرر"
    assert second.slug == "عنوان-مكرر-2"


@pytest.mark.django_db
def test_merge_tags_moves_links_and_redirects(make_article, client: Client, django_capture_on_commit_callbacks) -> None:
    a = make_article("أ", "<p>#أمريكا</p>")
    b = make_article("ب", "<p>#أميركا</p>")
    variant, survivor = Tag.objects.get(key="امريكا"), Tag.objects.get(key="اميركا")
    with django_capture_on_commit_callbacks(execute=True):
        moved = services.merge_tags(source=variant, into=survivor)
    assert moved == 1
    assert list(a.tags.all()) == [survivor] and list(b.tags.all()) == [survivor]
    response = client.get(variant.get_absolute_url())
    assert response.status_code == 301 and response["Location"] == survivor.get_absolute_url()
    # The hashtag in the old article's body now links to the survivor.
    page = client.get(a.get_absolute_url()).content.decode()
    assert f'href="{survivor.get_absolute_url()}" rel="tag">#أمريكا</a>' in page
    # A new article using the merged spelling lands on the survivor.
    c = make_article("ج", "<p>#أمريكا</p>")
    assert list(c.tags.all()) == [survivor]
