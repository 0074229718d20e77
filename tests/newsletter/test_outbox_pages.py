"""The development outbox pages (newsletter.backends.outbox_views) exist only with DEBUG on: with
DEBUG off they are 404 even when called directly, and a name cannot leave the outbox."""

from __future__ import annotations

import importlib

import pytest
from django.core.mail import EmailMultiAlternatives
from django.http import Http404
from django.test import RequestFactory
from django.urls import Resolver404, clear_url_caches, include, path, resolve

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


def test_outbox_pages_only_with_debug(settings, one_message, admin_user) -> None:
    settings.ROOT_URLCONF = __name__
    request = RequestFactory().get("/dev/outbox/")
    request.user = admin_user  # the pages are staff-only (tests/newsletter/test_dev_pages.py)
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


def test_outbox_urls_are_mounted_only_with_debug(settings) -> None:
    """config.urls adds the outbox pages only when DEBUG is on at import: reload it both ways
    (and put it back as it was, for the tests that follow)."""
    import config.urls

    had_outbox = any(getattr(p, "name", None) == "outbox" for p in config.urls.urlpatterns)
    try:
        settings.DEBUG = False
        importlib.reload(config.urls)
        clear_url_caches()  # resolvers are cached per urlconf module
        with pytest.raises(Resolver404):
            resolve("/dev/outbox/", urlconf=config.urls)
        settings.DEBUG = True
        importlib.reload(config.urls)
        clear_url_caches()
        assert resolve("/dev/outbox/", urlconf=config.urls).func is outbox_views.outbox_list
    finally:
        settings.DEBUG = had_outbox
        importlib.reload(config.urls)
        clear_url_caches()
