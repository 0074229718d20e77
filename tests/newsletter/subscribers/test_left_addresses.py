"""An address that left stays out (issue 22): whatever the admin does to remove a subscriber, an
unsubscribed, bounced or complained address is never made active again by an import, a signup or
the admin's add form. Erase is the one way to remove a subscriber, and it keeps the suppression
hash (newsletter.privacy)."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from django.contrib.auth.models import User
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.utils import timezone

from newsletter import privacy
from newsletter.hygiene import rules
from newsletter.subscribers import addresses, csv_io, lifecycle, signup
from newsletter.subscribers.models import Subscriber

pytestmark = pytest.mark.django_db

CHANGELIST = "/admin/newsletter/subscriber/"
IMPORT = f"{CHANGELIST}import/"
ADDRESS = "leaver@example.com"


@pytest.fixture
def boss(client):
    client.force_login(User.objects.create_superuser("boss", "boss@example.com", "pw"))
    return client


def _link(message, path: str) -> str:
    text = message.get_body(preferencelist=("plain",)).get_content()
    match = re.search(rf"http://testserver({path}[^\s]+)", text)
    assert match, text
    return match.group(1)


def _left_through_the_welcome_email(outbox, capture) -> Subscriber:
    """Sign up, confirm, then unsubscribe with the welcome email's link, as a reader does."""
    browser = Client()
    with capture(execute=True):
        browser.post("/newsletter/", {"email": ADDRESS, "frequency": "daily"})
    with capture(execute=True):
        browser.post(_link(outbox()[-1], "/newsletter/confirm/"))
    welcome = outbox()[-1]
    assert "/newsletter/unsubscribe/" in welcome.get_body(preferencelist=("plain",)).get_content()
    browser.post(_link(welcome, "/newsletter/unsubscribe/"))
    subscriber = Subscriber.objects.get(email=ADDRESS)
    assert subscriber.status == Subscriber.Status.UNSUBSCRIBED
    return subscriber


def _import(client, content: bytes, *, send_confirmation: bool = False):
    data: dict[str, object] = {"file": SimpleUploadedFile("list.csv", content)}
    if send_confirmation:
        data["send_confirmation"] = "on"
    preview = client.post(IMPORT, data)
    assert preview.status_code == 200
    client.post(IMPORT, {"import_key": preview.context["import_key"], "only_valid_rows": "1"})
    return preview


def test_plain_delete_then_import_never_reactivates_a_reader_who_left(boss, outbox, django_capture_on_commit_callbacks):
    """The newsroom's first week: the reader left from the welcome email, an administrator used
    the admin's plain delete, and a CSV import of the same address made them active again."""
    subscriber = _left_through_the_welcome_email(outbox, django_capture_on_commit_callbacks)

    # The list's "delete selected" action, confirmed as Django's confirmation page posts it.
    boss.post(CHANGELIST, {"action": "delete_selected", "_selected_action": [subscriber.pk], "post": "yes"})
    # The change page's delete view, confirmed.
    boss.post(f"{CHANGELIST}{subscriber.pk}/delete/", {"post": "yes"})
    assert Subscriber.objects.filter(pk=subscriber.pk, status=Subscriber.Status.UNSUBSCRIBED).exists()

    preview = _import(boss, f"email,name\n{ADDRESS.upper()},Back\n".encode())
    assert [row.action for row in preview.context["preview"].rows] == [csv_io.Action.SKIP_EXISTING]
    assert not Subscriber.objects.filter(email__iexact=ADDRESS, status=Subscriber.Status.ACTIVE).exists()
    assert Subscriber.objects.filter(email__iexact=ADDRESS).count() == 1


def test_the_admin_offers_erase_and_no_plain_delete(boss):
    subscriber = Subscriber.objects.create(email=ADDRESS, status=Subscriber.Status.UNSUBSCRIBED)
    changelist = boss.get(CHANGELIST).content.decode()
    assert 'value="delete_selected"' not in changelist and 'value="erase_selected"' in changelist
    change = boss.get(f"{CHANGELIST}{subscriber.pk}/change/").content.decode()
    assert f"{subscriber.pk}/delete/" not in change
    erase_url = f"{CHANGELIST}{subscriber.pk}/erase/"
    assert erase_url in change
    # The old delete address leads to erase, which says what it keeps and deletes nothing by GET.
    old = boss.get(f"{CHANGELIST}{subscriber.pk}/delete/")
    assert old.status_code == 302 and old["Location"] == erase_url
    page = boss.get(erase_url)
    assert page.status_code == 200 and "قائمة الحظر" in page.content.decode()
    assert Subscriber.objects.filter(pk=subscriber.pk).exists()
    done = boss.post(erase_url, {"confirm_erase": "yes"})
    assert done.status_code == 302 and done["Location"] == CHANGELIST
    assert not Subscriber.objects.filter(pk=subscriber.pk).exists()
    assert addresses.is_suppressed(ADDRESS)
    # After the erase, import, the signup form and the add form all keep the address out.
    preview = _import(boss, f"email\n{ADDRESS}\n".encode())
    assert [row.action for row in preview.context["preview"].rows] == [csv_io.Action.SKIP_SUPPRESSED]
    assert signup.subscribe(email=ADDRESS, ip="10.1.1.1").outcome is signup.Outcome.BLOCKED
    added = boss.post(f"{CHANGELIST}add/", _add_form(ADDRESS))
    assert added.status_code == 200 and "محظور" in _email_errors(added)
    assert not Subscriber.objects.exists()


def _add_form(email: str, **extra: str) -> dict[str, str]:
    return {"email": email, "name": "", "status": "active", "frequency": "daily", "language": "ar", **extra}


def _email_errors(response) -> str:
    errors = response.context["adminform"].form.errors
    assert list(errors) == ["email"], errors  # beside the field, not a form-wide message
    return " ".join(errors["email"])


@pytest.mark.parametrize("status", ["active", "pending", "unsubscribed", "bounced", "complained"])
def test_the_add_form_refuses_a_known_address_beside_the_field(boss, status):
    Subscriber.objects.create(email=ADDRESS, status=status)
    response = boss.post(f"{CHANGELIST}add/", _add_form("Leaver@EXAMPLE.com"))
    assert response.status_code == 200
    assert "مشترك بالفعل" in _email_errors(response)
    assert Subscriber.objects.get().status == status and Subscriber.objects.count() == 1


def test_the_add_form_refuses_a_suppressed_address_and_adds_a_new_one(boss):
    addresses.suppress("bounced.before@example.com", reason="bounced")
    refused = boss.post(f"{CHANGELIST}add/", _add_form("bounced.before@example.com"))
    assert "محظور" in _email_errors(refused) and not Subscriber.objects.exists()
    added = boss.post(f"{CHANGELIST}add/", _add_form("New.Reader@EXAMPLE.com"))
    assert added.status_code == 302
    subscriber = Subscriber.objects.get()
    assert subscriber.email == "New.Reader@example.com" and subscriber.source == Subscriber.Source.ADMIN


def test_purging_stale_pending_signups_keeps_a_reader_who_had_left(time_machine):
    """A reader who unsubscribed, then signed up again and never confirmed: the hourly purge of
    pending signups must not drop the row that says they left (an import would then add them)."""
    start = timezone.now()
    time_machine.move_to(start, tick=False)
    left = Subscriber.objects.create(
        email=ADDRESS, status=Subscriber.Status.ACTIVE, confirmed_at=start - timedelta(days=90)
    )
    lifecycle.unsubscribe(subscriber=left)
    assert signup.subscribe(email=ADDRESS, ip="10.1.1.2").outcome is signup.Outcome.REFRESHED
    never = signup.subscribe(email="never@example.com", ip="10.1.1.3").subscriber_id
    later = start + timedelta(days=40)
    time_machine.move_to(later, tick=False)
    assert rules.purge_pending(now=later) == 2
    assert not Subscriber.objects.filter(pk=never).exists()  # never consented: gone
    left.refresh_from_db()
    assert left.status == Subscriber.Status.UNSUBSCRIBED and left.unsubscribed_at == start
    result = csv_io.apply_import(f"email\n{ADDRESS}\n".encode(), send_confirmation=False, only_valid_rows=False)
    assert result.created == 0
    assert Subscriber.objects.get(email=ADDRESS).status == Subscriber.Status.UNSUBSCRIBED


def test_erasing_a_reader_who_left_keeps_them_out_of_every_import():
    subscriber = Subscriber.objects.create(email=ADDRESS, status=Subscriber.Status.COMPLAINED)
    privacy.erase(subscriber=subscriber)
    result = csv_io.apply_import(f"email\n{ADDRESS}\n".encode(), send_confirmation=False, only_valid_rows=False)
    assert result.created == 0 and not Subscriber.objects.exists()
