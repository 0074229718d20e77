"""What an editor reads on the report, the dashboard and the editions list, as data: the helpers
the issue-22 tests share (an editor's client, a send with clicks through /c/, the figures of
each screen by name)."""

from __future__ import annotations

import re
from datetime import timedelta
from urllib.parse import urlsplit

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from newsletter.analytics import rollup

BROWSER = "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0 Safari/537.36"
CLICK_RE = re.compile(r'href="(https?://[^"]+/c/[^"]+)"')
# A count, a decimal or a percentage in either numeral style, or the dash of "no figure".
NUMBER = re.compile(r"[0-9٠-٩][0-9٠-٩٫٬.,]*[%٪]?|—")


def editor_client(username: str = "editor-figures") -> Client:
    user = get_user_model().objects.create_user(username, f"{username}@example.com", "pw", is_staff=True)
    user.groups.add(Group.objects.get(name="Editors"))
    client = Client()
    client.force_login(user)
    return client


def click_links(html: str) -> list[str]:
    """A recipient's story links, in the order of their email."""
    return CLICK_RE.findall(html)


def click(link: str) -> None:
    """A reader's click, in their own browser (own cookie)."""
    response = Client().get(urlsplit(link).path, HTTP_USER_AGENT=BROWSER)
    assert response.status_code == 302


def roll_up() -> None:
    """The 5-minute roll-up, late enough for the clicks just made to have settled."""
    rollup.rollup(now=timezone.now() + timedelta(seconds=rollup.SETTLE_SECONDS + 5))


def first_number(cell: str) -> str:
    found = NUMBER.search(re.sub(r"<[^>]+>", " ", cell))
    assert found, cell
    return found.group(0)


def report_figures(html: str) -> dict[str, str]:
    """The report's figures table: figure name -> the number shown."""
    rows = re.findall(r'<tr data-figure="(\w+)"><th[^>]*>.*?</th><td>(.*?)</td></tr>', html, re.S)
    return {name: first_number(cell) for name, cell in rows}


def labelled(html: str, table: str, digest_id: int | None = None) -> dict[str, str]:
    """A table's figures by the label an editor reads: a report row's header, or (with
    `digest_id`) the dashboard's column header above that edition's cell."""
    body = html.split(table, 1)[1].split("</table>", 1)[0]
    if digest_id is None:
        rows = re.findall(r'<th scope="row">(.*?)</th><td>(.*?)</td>', body, re.S)
        return {label: first_number(cell) for label, cell in rows}
    labels = re.findall(r'<th scope="col">(.*?)</th>', body, re.S)
    row = re.search(rf'<tr[^>]*>\s*<td><a href="[^"]*/{digest_id}/report/">.*?</tr>', body, re.S)
    assert row, f"edition {digest_id} is not in the table"
    cells = re.findall(r"<td[^>]*>(.*?)</td>", row.group(0), re.S)
    return {label: first_number(cell) for label, cell in zip(labels[1:], cells[1:], strict=False)}


def dashboard_row(html: str, digest_id: int) -> str:
    found = re.search(rf'<tr data-digest="{digest_id}">(.*?)</tr>', html, re.S)
    assert found, f"edition {digest_id} is not in the dashboard's rates table"
    return found.group(1)


def dashboard_figures(html: str, digest_id: int) -> dict[str, str]:
    cells = re.findall(r'<td data-figure="(\w+)">(.*?)</td>', dashboard_row(html, digest_id), re.S)
    return {name: first_number(cell) for name, cell in cells}


def segment_tables(html: str) -> dict[str, list[tuple[str, str, str, str]]]:
    """The report's story rows per segment: name -> (position, title, unique clicks, per 1,000)."""
    found = {}
    for name, body in re.findall(
        r'<table class="segment-stories" data-segment="([^"]+)"[^>]*>(.*?)</table>', html, re.S
    ):
        rows = re.findall(
            r'<tr><td>([^<]+)</td><td><a href="[^"]*"[^>]*>([^<]+)</a>.*?</td>\s*<td>([^<]+)</td><td>([^<]+)</td>'
            r"\s*(?:<td data-figure[^>]*>[^<]*</td>)*</tr>",
            body,
            re.S,
        )
        found[name] = rows
    return found


def feedback_cells(html: str) -> dict[str, list[tuple[str, str, str]]]:
    """The report's "more / less like this" per story and segment: name -> (title, more, less)."""
    found = {}
    for name, body in re.findall(
        r'<table class="segment-stories" data-segment="([^"]+)"[^>]*>(.*?)</table>', html, re.S
    ):
        found[name] = re.findall(
            r'<a href="[^"]*"[^>]*>([^<]+)</a>.*?<td data-figure="more_readers">([^<]+)</td>'
            r'<td data-figure="less_readers">([^<]+)</td>',
            body,
            re.S,
        )
    return found


def pages(client: Client, digest_id: int) -> dict[str, str]:
    """The report, the dashboard and the editions list as an editor gets them."""
    urls = {
        "report": reverse("admin:newsletter_digest_report", args=[digest_id]),
        "dashboard": reverse("admin:newsletter_digest_dashboard"),
        "list": reverse("admin:newsletter_digest_changelist"),
    }
    found = {}
    for name, url in urls.items():
        response = client.get(url)
        assert response.status_code == 200, (url, response.status_code)
        found[name] = response.content.decode()
    return found
