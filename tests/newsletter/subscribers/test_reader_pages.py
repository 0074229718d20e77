"""What a reader met on the subscriber pages (issue 12): their time zone (from the browser at
signup, editable in the preference center), the address the preference page manages, an old
unsubscribe link, the link after resubscribing, /favicon.ico, the Arabic wording."""

from __future__ import annotations

import pytest
from django.urls import reverse

from newsletter.subscribers import token_links
from newsletter.subscribers.models import Subscriber

pytestmark = pytest.mark.django_db


def path_of(url: str) -> str:
    return url.removeprefix("http://testserver")


def active(email: str = "reader@example.com", **fields) -> Subscriber:
    return Subscriber.objects.create(email=email, status=Subscriber.Status.ACTIVE, **fields)


def test_signup_keeps_the_browsers_time_zone_and_ignores_an_unknown_one(client, django_capture_on_commit_callbacks):
    page = client.get("/newsletter/").content.decode()
    assert 'name="time_zone"' in page and 'type="hidden"' in page
    with django_capture_on_commit_callbacks(execute=True):
        client.post(
            "/newsletter/", {"email": "casa@example.com", "frequency": "daily", "time_zone": "Africa/Casablanca"}
        )
        client.post("/newsletter/", {"email": "odd@example.com", "frequency": "daily", "time_zone": "Mars/Olympus"})
    assert Subscriber.objects.get(email="casa@example.com").time_zone == "Africa/Casablanca"
    assert Subscriber.objects.get(email="odd@example.com").time_zone == ""  # the site's TIME_ZONE


def test_preferences_show_the_address_and_edit_the_time_zone(client):
    subscriber = active(time_zone="Asia/Dubai")
    url = path_of(token_links.preferences_url(subscriber.uuid))
    page = client.get(url).content.decode()
    assert '<span dir="ltr">reader@example.com</span>' in page
    # Country and city in the page's language, not the IANA id; one entry per zone.
    assert '<option value="Asia/Dubai" selected>الإمارات العربية المتحدة — دبي</option>' in page
    assert '<option value="Africa/Casablanca">المغرب — الدار البيضاء</option>' in page
    assert page.count('value="Asia/Kolkata"') == 1 and 'value="Asia/Calcutta"' not in page
    response = client.post(url, {"frequency": "daily", "language": "ar", "time_zone": "Europe/London"})
    assert response.status_code == 200
    subscriber.refresh_from_db()
    assert subscriber.time_zone == "Europe/London"


def test_an_old_zone_alias_from_the_browser_is_kept_as_the_zone_it_names(client, django_capture_on_commit_callbacks):
    # Chrome still reports India as "Asia/Calcutta"; the list offers "Asia/Kolkata" only.
    with django_capture_on_commit_callbacks(execute=True):
        client.post("/newsletter/", {"email": "in@example.com", "frequency": "daily", "time_zone": "Asia/Calcutta"})
    assert Subscriber.objects.get(email="in@example.com").time_zone == "Asia/Kolkata"
    older = active(email="older@example.com", time_zone="Asia/Calcutta")  # stored before the fold
    url = path_of(token_links.preferences_url(older.uuid))
    assert '<option value="Asia/Kolkata" selected>' in client.get(url).content.decode()
    response = client.post(url, {"frequency": "daily", "language": "ar", "time_zone": "Asia/Calcutta"})
    assert response.status_code == 200
    older.refresh_from_db()
    assert older.time_zone == "Asia/Kolkata"


def test_an_unknown_time_zone_in_preferences_is_refused_and_changes_nothing(client):
    subscriber = active(time_zone="Asia/Dubai")
    url = path_of(token_links.preferences_url(subscriber.uuid))
    response = client.post(url, {"frequency": "weekly", "language": "en", "time_zone": "Mars/Olympus"})
    assert response.status_code == 400 and 'class="errorlist' in response.content.decode()
    subscriber.refresh_from_db()
    assert (subscriber.time_zone, subscriber.frequency, subscriber.language) == ("Asia/Dubai", "daily", "ar")


def test_an_old_unsubscribe_link_says_the_address_already_left(client):
    subscriber = active()
    url = path_of(token_links.unsubscribe_url(subscriber.uuid))
    assert "هل تريد التوقف" in client.get(url).content.decode()
    client.post(url)
    again = client.get(url).content.decode()
    assert "هل تريد التوقف" not in again and "خارج القائمة" in again
    assert "أُلغي اشتراكك" in again and "ألغي اشتراكك" not in again
    assert reverse("newsletter:resubscribe", kwargs={"token": url.split("/")[-2]}) in again


def test_after_resubscribing_the_link_goes_to_the_preferences(client):
    subscriber = active()
    url = path_of(token_links.unsubscribe_url(subscriber.uuid))
    client.post(url)
    main = client.post(url + "resubscribe/").content.decode().split("<main", 1)[1]
    assert "/newsletter/preferences/" in main and 'href="/newsletter/"' not in main


def test_favicon_answers(client):
    response = client.get("/favicon.ico")
    assert response.status_code == 301 and response["Location"].endswith("favicon.ico")


def test_an_old_unsubscribe_link_does_not_claim_the_address_left_long_ago(client):
    subscriber = active()
    url = path_of(token_links.unsubscribe_url(subscriber.uuid))
    client.post(url)
    again = client.get(url).content.decode()
    assert "خارج القائمة بالفعل" in again and "منذ مدة" not in again


@pytest.mark.parametrize(("numerals", "limit"), [("", "٢٥٤"), ("latin", "254")])
def test_the_address_length_error_follows_the_numeral_style(client, settings, numerals, limit):
    settings.NUMERALS = numerals
    response = client.post("/newsletter/", {"email": "a" * 250 + "@example.com", "frequency": "daily"})
    assert f"العنوان أطول من {limit} حرفًا." in response.content.decode()
    assert not Subscriber.objects.exists()
