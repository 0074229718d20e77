"""Demo articles and simulated read traffic for `seed_demo` (idempotent)."""
from __future__ import annotations

from datetime import timedelta

from django.utils import timezone
from django.utils.text import slugify

from .models import Article, Section

DEMO_SECTIONS = [("سياسة", "politics"), ("اقتصاد", "economy"), ("رياضة", "sport")]

DEMO_ARTICLES = [
    ("politics", "وزير الخارجية يبحث #الحوار_الاستراتيجي مع واشنطن", "جولة جديدة من الحوار بين بغداد وواشنطن."),
    ("economy", "البرلمان يناقش #ميزانية_٢٠٢٥ وسط خلافات", "خلافات حول أبواب الإنفاق."),
    ("sport", "المنتخب يستعد لمباراة حاسمة في #تصفيات_كأس_العالم", "استعدادات مكثفة قبل اللقاء."),
]


def seed_articles() -> int:
    now = timezone.now()
    sections = {}
    for position, (name, slug) in enumerate(DEMO_SECTIONS):
        sections[slug], _ = Section.objects.get_or_create(slug=slug, defaults={"name": name, "position": position})
    for index, (section, title, summary) in enumerate(DEMO_ARTICLES):
        Article.objects.get_or_create(
            slug=slugify(title, allow_unicode=True),
            defaults={
                "title": title,
                "summary": summary,
                "body": f"<p>{summary}</p>",
                "section": sections[section],
                "status": Article.Status.PUBLISHED,
                "published_at": now - timedelta(hours=index + 1),
            },
        )
    return Article.objects.count()


def seed_reads() -> None:
    """Simulated read traffic (filled in by the read-counting work)."""
