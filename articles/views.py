"""Public pages. Minimal home page; the articles work extends these views."""
from django.http import HttpRequest, HttpResponse, Http404
from django.shortcuts import render

from .models import Article


def home(request: HttpRequest) -> HttpResponse:
    latest = Article.objects.published().select_related("section")[:20]
    return render(request, "articles/home.html", {"latest": latest})


def article_detail(request: HttpRequest, slug: str) -> HttpResponse:
    raise Http404


def tag_detail(request: HttpRequest, slug: str) -> HttpResponse:
    raise Http404


def section_detail(request: HttpRequest, slug: str) -> HttpResponse:
    raise Http404
