"""What a reader sees of an HTML page or email, for the tests that read it like a person: the
visible text and the user-facing attributes (title, placeholder, aria-label, alt, button labels),
outside script/style and outside the runs the page marks as left to right (dir="ltr": addresses,
URLs, codes) or isolates as a value (<bdi>). tests/test_admin_language.py looks for English
labels in it, tests/test_arabic_text.py for separators and digits that read wrong."""

from __future__ import annotations

from html.parser import HTMLParser

# <bdi> is where Django's admin isolates a value (the password hash summary's algorithm and
# digits), like a dir="ltr" run.
SKIP_TAGS = {"script", "style", "svg", "noscript", "template", "textarea", "option", "bdi"}
VOID_TAGS = {"br", "img", "input", "meta", "link", "hr", "col", "source", "wbr"}
ATTRIBUTES = ("title", "placeholder", "aria-label", "alt")
# Where a browser starts a new line: text on either side never reads as one run.
BLOCK_TAGS = {
    "address", "article", "aside", "blockquote", "body", "br", "caption", "dd", "div", "dl", "dt",
    "fieldset", "figcaption", "figure", "footer", "form", "h1", "h2", "h3", "h4", "h5", "h6",
    "head", "header", "hr", "html", "label", "legend", "li", "main", "nav", "ol", "option", "p",
    "pre", "section", "select", "table", "tbody", "td", "tfoot", "th", "thead", "title", "tr", "ul",
}  # fmt: skip


class VisibleText(HTMLParser):
    """Collect visible text and user-facing attributes, outside script/style and dir="ltr" runs.
    `skip_tags` are left out with their content (options are data for the admin's checker).
    `texts` holds each piece of text as parsed; `blocks` the text as it reads on screen: the
    pieces between two line breaks of the layout joined (a separator in one element and the
    date in the next are one run), each attribute value on its own."""

    def __init__(self, skip_tags: set[str] = SKIP_TAGS, skip_classes: frozenset[str] = frozenset()) -> None:
        super().__init__()
        self.skip_tags = skip_tags
        self.skip_classes = skip_classes
        self.stack: list[tuple[str, bool]] = []
        self.texts: list[str] = []
        self.blocks: list[str] = []
        self._line: list[str] = []

    def _break(self) -> None:
        line = "".join(self._line)
        if line.strip():
            self.blocks.append(line)
        self._line = []

    def _skipping(self) -> bool:
        return any(skip for _, skip in self.stack)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = dict(attrs)
        if tag in BLOCK_TAGS:
            self._break()
        classes = set((values.get("class") or "").split())
        skip = (
            tag in self.skip_tags
            or values.get("dir") == "ltr"
            or "hidden" in values
            or bool(classes & self.skip_classes)
        )
        if tag not in VOID_TAGS:
            self.stack.append((tag, skip))
        if not self._skipping() and not skip:
            # Django's boolean icons carry alt="True"/"False" from Python (not translatable);
            # the icon itself is the label sighted readers see.
            boolean_icon = tag == "img" and "/admin/img/icon-" in (values.get("src") or "")
            for name in ATTRIBUTES:
                if values.get(name) and not (boolean_icon and name == "alt"):
                    self.texts.append(values[name] or "")
                    self.blocks.append(values[name] or "")
            if tag == "input" and values.get("type") in {"submit", "button"} and values.get("value"):
                self.texts.append(values["value"] or "")
                self.blocks.append(values["value"] or "")

    def handle_endtag(self, tag: str) -> None:
        if tag in BLOCK_TAGS:
            self._break()
        while self.stack:
            open_tag, _ = self.stack.pop()
            if open_tag == tag:
                break

    def handle_data(self, data: str) -> None:
        if not self._skipping():
            self.texts.append(data)
            self._line.append(data)

    def close(self) -> None:
        super().close()
        self._break()


def visible_texts(
    html: str, *, skip_tags: set[str] = SKIP_TAGS, skip_classes: frozenset[str] = frozenset()
) -> list[str]:
    """The page's text as it reads on screen, one string per line of the layout; elements with
    one of `skip_classes` are left out with their content."""
    parser = VisibleText(skip_tags, skip_classes)
    parser.feed(html)
    parser.close()
    return parser.blocks
