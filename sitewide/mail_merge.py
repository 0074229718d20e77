"""Text and links from editors and feeds, made inert to every ESP's mail-merge syntax (the
digest's rendering applies it; the articles' and editions' admin forms refuse such text).

A digest is rendered once per segment and personalised by the ESP (or by us, for SMTP and the
outbox) through placeholders: `%recipient.preferences_url%` (Mailgun), `-preferences_url-`
(SendGrid), `{{params.preferences_url}}` (Brevo), `[[var:preferences_url]]` (Mailjet),
`{{preferences_url}}` (SparkPost, anymail's test backend) and our neutral `[[preferences_url]]`
(newsletter.email.render.merge). The substitution is textual: the ESP replaces the placeholder
wherever it stands, so a story title, summary, image URL or edition intro that held one would
carry each reader's own preferences or unsubscribe link to wherever the editor (or a feed)
pointed it; an image is fetched without a click, by image proxies and Apple Mail Privacy
Protection (issue 23). ESPs also have placeholders of their own that we never fill
(`%unsubscribe_url%`, `%recipient_email%`, `<%asm_group_unsubscribe_raw_url%>`,
`[[UNSUB_LINK_EN]]`).

So merging happens only in the slots the product writes itself (footer links, List-Unsubscribe,
the click token of a tracked link); every value an editor or a feed supplied passes through one of
these two functions before it reaches a template:
- `inert_text`: a WORD JOINER (U+2060, zero width, never shown) after each `%`, `[`, `{`, `<%`
  and inside our merge-field names, so no placeholder of any syntax can be spelled, while the
  reader sees exactly the same characters (in the HTML part, the plain-text part and the subject);
- `inert_url`: the same characters percent-encoded (`%` that does not start an escape -> `%25`,
  `{`/`}`/`[`/`]` -> `%7B`..., `_` of a merge-field name -> `%5F`), the same address to a browser.
The alternative, refusing such text, cannot cover feeds (nobody is there to correct them); the
editor's forms refuse it as well (`placeholder_error`, `reject_mail_merge`), so an editor learns
why at once. Here beside the settings because both apps use it and `articles` never imports
`newsletter`.
"""

from __future__ import annotations

import re

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

WORD_JOINER = "\u2060"
# Our merge-field names (newsletter.email.render.MERGE_FIELDS: a test keeps them listed here) and
# the ESPs' own that we never fill.
FIELD_NAMES = (
    "unsubscribe_url",
    "preferences_url",
    "click_token",
    "recipient_email",
    "recipient_name",
    "recipient_fname",
    "recipient_lname",
    "mailing_list_unsubscribe_url",
    "tag_unsubscribe_url",
    "asm_group_unsubscribe_raw_url",
    "asm_global_unsubscribe_raw_url",
    "asm_preferences_raw_url",
)
_DELIMITERS = re.compile(r"([%\[{])")
_NAMES = re.compile("|".join(re.escape(name) for name in sorted(FIELD_NAMES, key=len, reverse=True)), re.IGNORECASE)
_STRAY_PERCENT = re.compile(r"%(?![0-9A-Fa-f]{2})")
_URL_DELIMITERS = {"{": "%7B", "}": "%7D", "[": "%5B", "]": "%5D"}
# What the forms refuse: any ESP's placeholder opening, or one of the merge-field names.
_PLACEHOLDER = re.compile(r"%[A-Za-z_][A-Za-z0-9_.]*%|\[\[|\{\{|<%|" + _NAMES.pattern, re.IGNORECASE)


def _split_name(match: re.Match[str]) -> str:
    name = match.group(0)
    head, _sep, tail = name.partition("_")
    return f"{head}{WORD_JOINER}_{tail}"


def inert_text(value: str) -> str:
    """`value` as the reader sees it, with no ESP placeholder left in it (module docstring)."""
    if not value:
        return value
    text = _NAMES.sub(_split_name, value)
    return _DELIMITERS.sub(lambda m: m.group(1) + WORD_JOINER, text)


def inert_url(url: str) -> str:
    """The same address, with no ESP placeholder left in it (module docstring)."""
    if not url:
        return url
    url = _STRAY_PERCENT.sub("%25", url)
    url = _NAMES.sub(lambda m: m.group(0).replace("_", "%5F"), url)
    for char, escape in _URL_DELIMITERS.items():
        url = url.replace(char, escape)
    return url


def placeholder_error(value: str) -> str | None:
    """An Arabic message for an editor's field that holds mail-merge syntax, or None."""
    match = _PLACEHOLDER.search(value or "")
    if match is None:
        return None
    return _(
        "لا يُسمح بصيغ الدمج البريدي في هذا الحقل (وُجد «%(found)s»): تملأ النشرة روابط كل قارئ "
        "الخاصة بنفسها في تذييل الرسالة فقط."
    ) % {"found": match.group(0)}


def reject_mail_merge(value: str) -> None:
    """A form field validator: refuse mail-merge syntax with the Arabic message above."""
    message = placeholder_error(value)
    if message:
        raise ValidationError(message, code="mail_merge")
