"""The English interface: the compiled catalog in locale/en is complete and in use.

Arabic is the source language (the msgids), so a missing or stale English catalog does not
break anything visibly in the default language; it shows Arabic text in a left-to-right page.
These tests read the shipped .po/.mo with the standard library only (no gettext binaries in CI).
"""

from __future__ import annotations

import ast
import gettext
import re
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from django.conf import settings
from django.test import Client

from articles.content.models import Section
from newsletter.editions import compose
from newsletter.editions.models import Digest
from newsletter.editions.segments import Segment
from newsletter.email.render import render_digest
from newsletter.subscribers import signup
from tests.newsletter.digest_helpers import article

LOCALE_DIR = Path(settings.BASE_DIR) / "locale" / "en" / "LC_MESSAGES"
PO_FILE = LOCALE_DIR / "django.po"
MO_FILE = LOCALE_DIR / "django.mo"

ARABIC = re.compile(r"[\u0600-\u06FF\u0750-\u077F\uFB50-\uFDFF\uFE70-\uFEFF]")
# %(name)s, %d, %s ... (not "%%"): the placeholders a translation must keep.
PLACEHOLDER = re.compile(r"%(?:\([^)]+\))?[#0 +-]?\d*(?:\.\d+)?[sdifr]")
# Translations that may keep Arabic letters on purpose: the language switcher names Arabic in
# Arabic (an endonym), so an Arabic reader who landed on the English site still finds it.
ARABIC_ALLOWED = {"العربية"}


@dataclass
class Entry:
    msgid: str = ""
    msgid_plural: str | None = None
    msgstrs: list[str] = field(default_factory=list)
    flags: set[str] = field(default_factory=set)
    obsolete: bool = False


def parse_po(path: Path) -> list[Entry]:
    """A small .po reader: enough for what makemessages writes (no msgctxt in this project)."""
    entries: list[Entry] = []
    entry = Entry()
    key: str | None = None
    values: dict[str, str] = {}

    def finish() -> None:
        nonlocal entry, values, key
        if values:
            entry.msgid = values.get("msgid", "")
            entry.msgid_plural = values.get("msgid_plural")
            entry.msgstrs = [v for k, v in sorted(values.items()) if k.startswith("msgstr")]
            entries.append(entry)
        entry, values, key = Entry(), {}, None

    for line in path.read_text(encoding="utf-8").splitlines():
        if not line.strip():
            finish()
        elif line.startswith("#~"):
            entry.obsolete = True
        elif line.startswith("#,"):
            entry.flags.update(flag.strip() for flag in line[2:].split(","))
        elif line.startswith("#"):
            continue
        elif line.startswith('"'):
            assert key is not None, line
            values[key] += ast.literal_eval(line)
        else:
            key, _, literal = line.partition(" ")
            values[key] = ast.literal_eval(literal)
    finish()
    return [e for e in entries if e.msgid]  # drop the header


@pytest.fixture(scope="module")
def catalog() -> list[Entry]:
    assert PO_FILE.is_file(), f"missing {PO_FILE}: run makemessages -l en"
    return parse_po(PO_FILE)


# --- (a) the catalog ------------------------------------------------------------------------


def test_every_english_msgid_is_translated(catalog: list[Entry]) -> None:
    assert len(catalog) > 300  # the parser found the entries, not an empty file
    problems = []
    for entry in catalog:
        expected_forms = 2 if entry.msgid_plural is not None else 1
        if entry.obsolete or "fuzzy" in entry.flags:
            problems.append(f"obsolete or fuzzy: {entry.msgid!r}")
        if len(entry.msgstrs) != expected_forms or not all(s.strip() for s in entry.msgstrs):
            problems.append(f"untranslated: {entry.msgid!r}")
            continue
        for msgstr in entry.msgstrs:
            if ARABIC.search(msgstr) and msgstr not in ARABIC_ALLOWED:
                problems.append(f"Arabic left in the English text: {entry.msgid!r} -> {msgstr!r}")
        singular_ph = set(PLACEHOLDER.findall(entry.msgid))
        plural_ph = set(PLACEHOLDER.findall(entry.msgid_plural or entry.msgid))
        if set(PLACEHOLDER.findall(entry.msgstrs[0])) != singular_ph:
            problems.append(f"placeholders differ: {entry.msgid!r} -> {entry.msgstrs[0]!r}")
        if entry.msgid_plural is not None and set(PLACEHOLDER.findall(entry.msgstrs[1])) != plural_ph:
            problems.append(f"plural placeholders differ: {entry.msgid_plural!r} -> {entry.msgstrs[1]!r}")
    assert not problems, "\n".join(problems)


def test_compiled_catalog_matches_the_po(catalog: list[Entry]) -> None:
    """The shipped .mo (what Django loads) holds every translation of the .po: a fresh clone
    needs no gettext tools, so a .po edited without compilemessages must fail here."""
    assert MO_FILE.is_file(), f"missing {MO_FILE}: run compilemessages"
    with MO_FILE.open("rb") as handle:
        compiled = gettext.GNUTranslations(handle)
    stale = []
    for entry in catalog:
        if entry.msgid_plural is None:
            got = [compiled.gettext(entry.msgid)]
        else:
            got = [compiled.ngettext(entry.msgid, entry.msgid_plural, n) for n in (1, 2)]
        if got != entry.msgstrs:
            stale.append(entry.msgid)
    assert not stale, f"{len(stale)} entries differ between .po and .mo, e.g. {stale[:3]}"


def test_arabic_catalog_of_third_party_strings_is_compiled() -> None:
    """locale/ar holds the third-party English msgids the Arabic admin shows (README,
    Languages): its .mo must match its .po too."""
    ar_dir = Path(settings.BASE_DIR) / "locale" / "ar" / "LC_MESSAGES"
    entries = [e for e in parse_po(ar_dir / "django.po") if e.msgid and not e.obsolete]
    assert len(entries) > 100
    with (ar_dir / "django.mo").open("rb") as handle:
        compiled = gettext.GNUTranslations(handle)
    stale = [
        e.msgid
        for e in entries
        if (compiled.gettext(e.msgid) if e.msgid_plural is None else compiled.ngettext(e.msgid, e.msgid_plural, 1))
        != e.msgstrs[0 if e.msgid_plural is None else 1]
        or (re.search(r"[A-Za-z]", e.msgstrs[-1]) and not ARABIC.search(e.msgstrs[-1]))
    ]
    assert not stale, f"{len(stale)} entries stale or not Arabic, e.g. {stale[:3]}"


# Literal strings marked in one go: {% translate "..." %} in templates, _("...") in Python.
TEMPLATE_MARKED = re.compile(r"""{%\s*(?:translate|trans)\s+(["'])(.+?)\1""")
PYTHON_MARKED = re.compile(r"""\b_\(\s*"((?:[^"\\\n]|\\.)*)"\s*[,)]""")


def test_marked_strings_are_in_the_catalog(catalog: list[Entry]) -> None:
    """A string marked after the last makemessages run would silently stay Arabic in English."""
    msgids = {entry.msgid for entry in catalog}
    base = Path(settings.BASE_DIR)
    marked: set[str] = set()
    for path in (base / "templates").rglob("*"):
        if path.suffix in {".html", ".txt"}:
            marked.update(m.group(2) for m in TEMPLATE_MARKED.finditer(path.read_text(encoding="utf-8")))
    for app in ("articles", "newsletter", "config", "sitewide"):
        for path in (base / app).rglob("*.py"):
            if "migrations" not in path.parts:
                source = path.read_text(encoding="utf-8")
                marked.update(ast.literal_eval(f'"{m.group(1)}"') for m in PYTHON_MARKED.finditer(source))
    marked = {s for s in marked if ARABIC.search(s)}
    assert len(marked) > 100
    missing = sorted(marked - msgids)
    assert not missing, "run makemessages -l en and translate: " + repr(missing)


# --- (b) pages in English ---------------------------------------------------------------------

NAV_ARCHIVE_AR = "أرشيف النشرة"
NAV_ARCHIVE_EN = "Newsletter archive"


def english_client() -> Client:
    client = Client()
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    return client


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("url", "english_text"),
    [
        ("/", "Latest news"),
        ("/newsletter/", "We will send you a confirmation email first."),
    ],
)
def test_pages_in_english_are_ltr_and_english(url: str, english_text: str) -> None:
    html = english_client().get(url).content.decode()
    assert '<html lang="en" dir="ltr">' in html
    assert english_text in html and NAV_ARCHIVE_EN in html
    assert NAV_ARCHIVE_AR not in html and "اشترك في النشرة" not in html


@pytest.mark.django_db
def test_default_stays_arabic_and_switcher_selects_english(client: Client) -> None:
    arabic = client.get("/newsletter/").content.decode()
    assert '<html lang="ar" dir="rtl">' in arabic and NAV_ARCHIVE_AR in arabic and NAV_ARCHIVE_EN not in arabic
    # The footer's switcher form posts here; Django sets the language cookie and redirects.
    response = client.post("/i18n/setlang/", {"language": "en", "next": "/newsletter/"})
    assert response.status_code == 302 and response["Location"] == "/newsletter/"
    english = client.get("/newsletter/").content.decode()
    assert '<html lang="en" dir="ltr">' in english and NAV_ARCHIVE_EN in english


@pytest.mark.django_db
def test_signup_form_error_in_english() -> None:
    response = english_client().post("/newsletter/", {"email": "not-an-address", "frequency": "daily"})
    assert response.status_code == 400
    assert "Enter a valid email address, such as name@example.com." in response.content.decode()


# --- (c) emails in English --------------------------------------------------------------------


@pytest.mark.django_db
def test_confirmation_email_follows_the_subscriber_language(
    settings, outbox, django_capture_on_commit_callbacks
) -> None:
    # Latin sender details, so any Arabic left in the English email comes from the templates.
    settings.SENDER_NAME = "Example News"
    settings.SENDER_POSTAL_ADDRESS = "1 Example Street, Baghdad"
    with django_capture_on_commit_callbacks(execute=True):
        signup.subscribe(email="reader@example.com", language="en", ip="10.0.0.1")
        signup.subscribe(email="qari@example.com", language="ar", ip="10.0.0.2")
    by_recipient = {message["To"]: message for message in outbox()}
    english, arabic = by_recipient["reader@example.com"], by_recipient["qari@example.com"]

    assert english["Subject"] == "Confirm your subscription to Example News"
    text = english.get_body(preferencelist=("plain",)).get_content()
    html = english.get_body(preferencelist=("html",)).get_content()
    assert text.startswith("Hello,") and "This link expires in" in text
    assert "Confirm subscription" in html and 'dir="ltr"' in html
    assert not ARABIC.search(english["Subject"] + text + html)

    # Same code path in Arabic: the difference is the catalog, not the templates.
    assert "أكّد اشتراكك في Example News" in arabic["Subject"]
    assert "مرحبًا" in arabic.get_body(preferencelist=("plain",)).get_content()


@pytest.mark.django_db
def test_english_digest_has_no_arabic_chrome(settings) -> None:
    settings.SENDER_NAME = "Example News"
    settings.SENDER_POSTAL_ADDRESS = "1 Example Street, Baghdad"
    settings.DIGEST_MIN_STORIES = 1
    world = Section.objects.create(name="World", slug="world")
    for i in range(3):
        article(f"Story {i}", readers=100 - i, sec=world, summary=f"Summary {i}.")
    digest = compose.compose(frequency="daily")
    assert digest.status == Digest.Status.DRAFT
    rendered = render_digest(digest, Segment(language="en"))
    assert rendered is not None
    assert '<html lang="en" dir="ltr">' in rendered.html
    assert not ARABIC.search(rendered.subject + rendered.text + rendered.html)
