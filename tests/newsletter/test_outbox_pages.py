"""The development outbox pages (newsletter.backends.outbox_views) exist only with DEBUG on: with
DEBUG off they are 404 even when called directly, and a name cannot leave the outbox."""

from __future__ import annotations

import pytest
from django.core.mail import EmailMultiAlternatives
from django.http import Http404
from django.test import RequestFactory
from django.urls import Resolver404, include, path, resolve

from newsletter.backends import outbox_views

# The outbox URLs as config.urls mounts them under DEBUG (the test settings import it with DEBUG
# off), so the list page can link to its messages.
urlpatterns = [
    path("dev/outbox/", outbox_views.outbox_list, name="outbox"),
    path("dev/outbox/<str:name>", outbox_views.outbox_message, name="outbox-message"),
    path("", include("config.urls")),
]


@pytest.fixture
def one_message(outbox_dir) -> str:
    message = EmailMultiAlternatives("موضوع", "نص", "from@example.com", ["to@example.com"])
    message.attach_alternative("<p dir='rtl'>نص</p>", "text/html")
    message.send()
    [path] = outbox_dir.glob("*.eml")
    return path.name


def test_outbox_pages_only_with_debug(settings, one_message) -> None:
    settings.ROOT_URLCONF = __name__
    request = RequestFactory().get("/dev/outbox/")
    settings.DEBUG = True
    listing = outbox_views.outbox_list(request)
    assert listing.status_code == 200 and one_message.encode() in listing.content
    page = outbox_views.outbox_message(request, one_message)
    assert page.status_code == 200 and "dir='rtl'" in page.content.decode()
    with pytest.raises(Http404):
        outbox_views.outbox_message(request, "../" + one_message)
    settings.DEBUG = False
    with pytest.raises(Http404):
        outbox_views.outbox_list(request)
    with pytest.raises(Http404):
        outbox_views.outbox_message(request, one_message)


def test_outbox_urls_are_not_mounted_without_debug() -> None:
    # config.urls adds them only when DEBUG is on at import (the test settings have it off).
    with pytest.raises(Resolver404):
        resolve("/dev/outbox/", urlconf="config.urls")
