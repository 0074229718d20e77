"""Issue 15 in the browser: an editor watches an edition send. The progress box on the edition's
page shows sent/total, rate and estimated finish, and refreshes itself (static/edition_progress.js)
when the counters move; when the edition finishes the page reloads without the box. Screenshot
`admin-send-progress.png` for the README."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.contrib.auth import get_user_model
from django.utils import timezone

from newsletter.delivery import dispatch
from newsletter.editions.models import Digest
from tests.e2e.conftest import assert_reads_rtl, editors_group, screenshots_dir
from tests.integration.helpers import make_digest, make_subscribers

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
PASSWORD = "progress-e2e-pw"


def test_editor_watches_the_progress_box_refresh_itself(site, context_factory) -> None:
    digest = make_digest()
    make_subscribers(40)
    dispatch.dispatch(digest_id=digest.id, enqueue=False)
    started = timezone.now() - timedelta(seconds=4)
    Digest.objects.filter(id=digest.id).update(sent_count=12, failed_count=1, sending_started_at=started)
    editor = get_user_model().objects.create_user("watcher", "watcher@example.com", PASSWORD, is_staff=True)
    editor.groups.add(editors_group())

    page = context_factory(width=1000).new_page()
    page.goto(site.url + "/admin/login/?next=/admin/")
    page.locator("#id_username").fill("watcher")
    page.locator("#id_password").fill(PASSWORD)
    page.locator("input[type=submit]").click()
    page.wait_for_url("**/admin/")
    page.goto(f"{site.url}/admin/newsletter/digest/{digest.pk}/change/")

    box = page.locator("#edition-progress")
    assert box.locator("progress").get_attribute("value") == "13"
    assert_reads_rtl(page, selector="body", text_selector="#edition-progress")

    Digest.objects.filter(id=digest.id).update(sent_count=30)
    page.locator("#edition-progress progress[value='31']").wait_for(timeout=15_000)  # no reload: the box
    box = page.locator("#edition-progress")
    assert "٣١" in box.inner_text() and "٤٠" in box.inner_text()
    box.screenshot(path=str(screenshots_dir() / "admin-send-progress.png"))

    Digest.objects.filter(id=digest.id).update(sent_count=39, status=Digest.Status.SENT)
    page.locator("#edition-progress").wait_for(state="detached", timeout=15_000)  # reloaded, final
    assert page.locator("#edition-progress").count() == 0
