"""Development-only surfaces: the outbox pages are for staff, seed_demo refuses production."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import AnonymousUser
from django.core.management import CommandError, call_command
from django.test import RequestFactory
from django.urls import path

from config import urls as site_urls
from newsletter.backends import outbox_views

pytestmark = pytest.mark.django_db
# config.urls mounts the outbox pages only with DEBUG on, at import; this module mounts them for the test.
urlpatterns = [
    path("dev/outbox/", outbox_views.outbox_list, name="outbox"),
    path("dev/outbox/<str:name>", outbox_views.outbox_message, name="outbox-message"),
    *site_urls.urlpatterns,
]


@pytest.mark.urls("tests.newsletter.test_dev_pages")
def test_the_outbox_shows_live_links_to_staff_only(settings, tmp_path, django_user_model) -> None:
    settings.DEBUG = True
    settings.EMAIL_OUTBOX_DIR = tmp_path
    (tmp_path / "20261130-reader.eml").write_bytes(
        b"To: reader@example.com\r\nSubject: confirm\r\n\r\nhttp://testserver/newsletter/confirm/s.x/\r\n"
    )
    request = RequestFactory().get("/dev/outbox/")
    request.user = AnonymousUser()
    response = outbox_views.outbox_list(request)
    assert response.status_code == 302 and "/admin/login/" in response["Location"]
    request.user = django_user_model.objects.create_user("reader", "r@example.com", "x")
    assert outbox_views.outbox_list(request).status_code == 302  # logged in, not staff
    request.user = django_user_model.objects.create_user("dev", "d@example.com", "x", is_staff=True)
    response = outbox_views.outbox_list(request)
    assert response.status_code == 200 and b"reader@example.com" in response.content


def test_seed_demo_refuses_with_debug_off(settings, django_user_model) -> None:
    settings.DEBUG = False
    with pytest.raises(CommandError, match="DEBUG"):
        call_command("seed_demo")
    assert not django_user_model.objects.exists()
