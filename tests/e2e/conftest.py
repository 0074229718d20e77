"""Browser end-to-end harness: Debian's Chromium driven by Playwright for Python against
pytest-django's `live_server` (a real threaded HTTP server on the test database).

- Never downloads a browser: Chromium comes from apt (`/usr/bin/chromium`, or
  PLAYWRIGHT_CHROMIUM_EXECUTABLE as exported by .ci/run). When it is missing the browser tests
  are skipped with the reason, except under CI (the `CI` variable set), where they fail.
- Playwright's sync API runs an asyncio loop in the main thread; Django would then refuse ORM
  calls made by the test itself (SynchronousOnlyOperation). Nothing here is async code, so the
  guard is switched off for this process.
- Emails: the test settings use eager Celery and tests/conftest.py points EMAIL_BACKEND at the
  .eml outbox, so a confirmation sent by the live server is on disk when the request returns.
- Screenshots go to VAR_DIR/screenshots/<name>-<width>.png (viewport-sized PNGs).
"""

from __future__ import annotations

import importlib
import os
import re
from collections.abc import Iterator
from email.message import EmailMessage
from pathlib import Path

import pytest
from django.conf import settings as django_settings

os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

CHROMIUM = os.environ.get("PLAYWRIGHT_CHROMIUM_EXECUTABLE") or "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
WIDTHS = (600, 375)
SCREENSHOT_HEIGHT = 900


def screenshots_dir() -> Path:
    directory = Path(django_settings.VAR_DIR) / "screenshots"
    directory.mkdir(parents=True, exist_ok=True)
    return directory


@pytest.fixture(scope="session")
def browser() -> Iterator[object]:
    if not Path(CHROMIUM).exists():
        reason = f"Chromium not found at {CHROMIUM} (apt-get install chromium; .ci/run does it)"
        if os.environ.get("CI"):
            pytest.fail(reason)
        pytest.skip(reason)
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        instance = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            yield instance
        finally:
            instance.close()


@pytest.fixture(params=[True, False], ids=["js", "nojs"])
def javascript(request: pytest.FixtureRequest) -> bool:
    return bool(request.param)


@pytest.fixture
def site(live_server, settings):
    """The live server, with the links in emails pointing at it."""
    settings.SITE_URL = live_server.url
    return live_server


@pytest.fixture
def context_factory(browser):
    contexts = []

    def make(*, javascript: bool = True, width: int = 600, height: int = SCREENSHOT_HEIGHT, bypass_csp: bool = False):
        context = browser.new_context(
            java_script_enabled=javascript,
            viewport={"width": width, "height": height},
            locale="ar",
            bypass_csp=bypass_csp,  # only the accessibility checks (tests/e2e/accessibility.py)
        )
        context.set_default_timeout(15_000)
        contexts.append(context)
        return context

    yield make
    for context in contexts:
        context.close()


@pytest.fixture
def page(context_factory, javascript):
    return context_factory(javascript=javascript).new_page()


# --- What a person sees ---------------------------------------------------------------------------


def computed(page, selector: str, prop: str) -> str:
    return page.eval_on_selector(selector, f"el => getComputedStyle(el).getPropertyValue('{prop}')")


def assert_reads_rtl(page, *, selector: str = "body", text_selector: str | None = None) -> None:
    """Computed direction is rtl and the text is aligned to the right (`start` is right under rtl)."""
    assert computed(page, selector, "direction") == "rtl", f"{selector} is not rtl on {page.url}"
    target = text_selector or selector
    assert computed(page, target, "direction") == "rtl"
    assert computed(page, target, "text-align") in {"right", "start", "-webkit-right"}, (
        f"{target} is aligned {computed(page, target, 'text-align')} on {page.url}"
    )


def assert_no_horizontal_scroll(page, width: int) -> None:
    scroll = page.evaluate("document.documentElement.scrollWidth")
    assert scroll <= width, f"horizontal scroll at {width}px: scrollWidth={scroll} on {page.url or 'email'}"


def check_at_widths(
    page,
    name: str | None,
    *,
    selector: str = "body",
    text_selector: str | None = None,
    widths: tuple[int, ...] = WIDTHS,
) -> list[Path]:
    """At each width: rtl, right-aligned, no horizontal scroll; screenshot when `name` is given."""
    written = []
    for width in widths:
        page.set_viewport_size({"width": width, "height": SCREENSHOT_HEIGHT})
        assert_reads_rtl(page, selector=selector, text_selector=text_selector)
        assert_no_horizontal_scroll(page, width)
        if name:
            path = screenshots_dir() / f"{name}-{width}.png"
            page.screenshot(path=str(path), full_page=False)
            written.append(path)
    return written


# --- Emails ---------------------------------------------------------------------------------------


def html_of(message: EmailMessage) -> str:
    return message.get_body(preferencelist=("html",)).get_content()


def text_of(message: EmailMessage) -> str:
    return message.get_body(preferencelist=("plain",)).get_content()


def messages_to(outbox, address: str) -> list[EmailMessage]:
    return [m for m in outbox() if address in str(m["To"])]


def link_in(text: str, base: str, path_part: str) -> str:
    match = re.search(re.escape(base) + r"(/newsletter/" + re.escape(path_part) + r"/[^\s\"'<>]+)", text)
    assert match, f"no {path_part} link to {base} in the message"
    return base + match.group(1)


# --- The Editors group ----------------------------------------------------------------------------


def editors_group():
    """The Editors group with the permissions its data migration grants. Transactional tests
    (live_server) flush the database after each test, which removes migration-made rows but
    not permissions (post_migrate recreates those), so recreate the group from the migration's
    own permission table when it is gone."""
    from django.contrib.auth.models import Group, Permission

    group, created = Group.objects.get_or_create(name="Editors")
    if created or not group.permissions.exists():
        migration = importlib.import_module("articles.migrations.0002_editors_group")
        wanted = [
            Permission.objects.get(content_type__app_label=app_label, codename=f"{action}_{model}")
            for app_label, models in migration.EDITOR_PERMISSIONS.items()
            for model, actions in models.items()
            for action in actions
        ]
        group.permissions.set(wanted)
    return group
