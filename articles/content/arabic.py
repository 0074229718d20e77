"""Arabic text handling: the normalised form used for tag keys and search, hashtag extraction,
and linking hashtags inside sanitised article HTML.

`normalise` is deliberately lossy (it is a matching key, never shown to readers): #أميركا and
#اميركا, or a query typed without hamza or tashkeel, must land on the same key.
"""

from __future__ import annotations

import html
import re
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass
from html.parser import HTMLParser

# Tashkeel (fathatan .. sukun), superscript alef; plus the combining hamza/madda marks that
# survive NFKC when they cannot compose with the letter before them.
_DROP = dict.fromkeys([*range(1611, 1622), 1648, 1600, 8204, 8205, 8207, 8206])
_FOLD = {
    ord("أ"): "ا",
    ord("إ"): "ا",
    ord("آ"): "ا",
    ord("ٱ"): "ا",
    ord("ى"): "ي",
    ord("ة"): "ه",
    **{0x0660 + i: str(i) for i in range(10)},  # Arabic-Indic digits
    **{0x06F0 + i: str(i) for i in range(10)},  # Eastern Arabic-Indic (Persian/Urdu) digits
}
_TABLE = {**_DROP, **_FOLD}
_SPACES = re.compile(r"\s+")


def normalise(text: str) -> str:
    """Matching key: NFKC (folds presentation forms), tashkeel/tatweel stripped, alef forms to
    bare alef, alef maqsura to yeh, teh marbuta to heh, Arabic digits to ASCII, Latin casefolded,
    whitespace collapsed."""
    text = unicodedata.normalize("NFKC", text)
    text = text.translate(_TABLE).casefold()
    return _SPACES.sub(" ", text).strip()


# A hashtag body: letters and digits of any script (\w, which includes `_` and tatweel),
# combining marks (tashkeel is not \w, so a naive \w+ would cut #ميزانيةٌ_٢٠٢٥ at the tanween),
# and ZWNJ (used inside Persian/Urdu words). No lookbehind on Arabic letters: `و#قمة` (the
# conjunction glued to the tag) is common in Arabic copy; a Latin letter, digit, `/` or `&`
# before `#` is a URL fragment or an entity, not a hashtag.
_MARKS = "\u0300-\u036f\u0610-\u061a\u064b-\u065f\u0670\u06d6-\u06dc\u06df-\u06e8\u06ea-\u06ed\u200c"
HASHTAG_RE = re.compile(rf"(?<![A-Za-z0-9/&#_])#((?:\w|[{_MARKS}])+)")


@dataclass(frozen=True)
class Hashtag:
    raw: str  # as written after '#', e.g. "الحوار_الاستراتيجي"
    name: str  # for display: underscores as spaces
    key: str  # normalised matching key


def display_name(raw: str) -> str:
    return _SPACES.sub(" ", raw.replace("_", " ").replace("\u200c", "")).strip()


def tag_key(name: str) -> str:
    """The Tag.key for a hashtag or category name (underscores and spaces are equivalent)."""
    return normalise(name.replace("_", " "))


def _clean_raw(raw: str) -> str:
    return raw.strip("_\u200c")


def _has_letter(raw: str) -> bool:
    return any(unicodedata.category(ch).startswith("L") and ch != "ـ" for ch in raw)


def extract_hashtags(text: str) -> list[Hashtag]:
    """Hashtags in plain text, first occurrence per key, in order of appearance.
    A run of digits alone (#1) is not a hashtag."""
    seen: dict[str, Hashtag] = {}
    for match in HASHTAG_RE.finditer(text):
        raw = _clean_raw(match.group(1))
        if not raw or not _has_letter(raw):
            continue
        key = tag_key(raw)
        if key and key not in seen:
            seen[key] = Hashtag(raw=raw, name=display_name(raw), key=key)
    return list(seen.values())


def html_to_text(markup: str) -> str:
    """Visible text of an HTML fragment (for search and hashtag extraction)."""
    parser = _TextCollector()
    parser.feed(markup)
    parser.close()
    return " ".join(parser.parts)


class _TextCollector(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []

    def handle_data(self, data: str) -> None:
        self.parts.append(data)


# Inside these elements a hashtag is left alone: an existing link must not get a nested link,
# and code is code.
_NO_LINK = {"a", "code", "pre", "script", "style", "textarea", "button"}
_VOID = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source", "track", "wbr"}


class _Linker(HTMLParser):
    def __init__(self, url_for: Callable[[Hashtag], str | None]) -> None:
        super().__init__(convert_charrefs=True)
        self.url_for = url_for
        self.out: list[str] = []
        self.no_link_depth = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.out.append(self.get_starttag_text() or "")
        if tag in _NO_LINK and tag not in _VOID:
            self.no_link_depth += 1

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.out.append(self.get_starttag_text() or "")

    def handle_endtag(self, tag: str) -> None:
        self.out.append(f"</{tag}>")
        if tag in _NO_LINK and self.no_link_depth:
            self.no_link_depth -= 1

    def handle_comment(self, data: str) -> None:
        self.out.append(f"<!--{data}-->")

    def handle_data(self, data: str) -> None:
        if self.no_link_depth:
            self.out.append(html.escape(data, quote=False))
            return
        position = 0
        for match in HASHTAG_RE.finditer(data):
            raw = _clean_raw(match.group(1))
            if not raw or not _has_letter(raw):
                continue
            tag = Hashtag(raw=raw, name=display_name(raw), key=tag_key(raw))
            url = self.url_for(tag)
            if url is None:
                continue
            start = match.start()
            end = match.start(1) + match.group(1).index(raw) + len(raw)
            self.out.append(html.escape(data[position:start], quote=False))
            self.out.append(
                f'<a class="hashtag" href="{html.escape(url)}" rel="tag">'
                f"{html.escape(data[start:end], quote=False)}</a>"
            )
            position = end
        self.out.append(html.escape(data[position:], quote=False))


def link_hashtags(markup: str, url_for: Callable[[Hashtag], str | None]) -> str:
    """Wrap each hashtag found in the text nodes of sanitised HTML in a link to `url_for(tag)`
    (None leaves it as text). Tags, attributes and existing links are copied untouched."""
    linker = _Linker(url_for)
    linker.feed(markup)
    linker.close()
    return "".join(linker.out)
