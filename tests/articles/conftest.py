"""Factories for the articles tests."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

import pytest
from django.utils import timezone

from articles.content import services
from articles.content.models import Article, Section


@pytest.fixture
def section(db) -> Section:
    return Section.objects.create(name="سياسة", slug="politics")


@pytest.fixture
def make_article(db, django_capture_on_commit_callbacks) -> Callable[..., Article]:
    counter = {"n": 0}

    def make(title: str | None = None, body: str = "<p>نص</p>", *, hours_ago: float = 1, **fields: object) -> Article:
        counter["n"] += 1
        fields.setdefault("status", Article.Status.PUBLISHED)
        fields.setdefault("published_at", timezone.now() - timedelta(hours=hours_ago))
        article = Article(title=title or f"مقال رقم {counter['n']}", body=body, **fields)
        with django_capture_on_commit_callbacks(execute=True):
            services.save_article(article)
        return article

    return make
