"""Where the elements that CSS selectors name start in a page's bytes (selector slots).

A rule file may name slots by CSS selector (``site.slot_selectors``) for pages nobody can add
``data-slot`` to. The page is parsed once per version by Beautiful Soup's ``html.parser``
builder, which keeps each start tag's line and column, and each selector is run on that tree by
soupsieve. The page is decoded as UTF-8 with ``surrogateescape``, one character per undecodable
byte, so that a line and column map back to exactly one byte offset whatever the bytes are;
a page in another ASCII-compatible encoding still finds its tags (only its non-ASCII text reads
oddly to the selectors). What the element is, where it ends and whether the byte-level compiler
agrees that a tag starts there is `etalage.middleware.skeleton`'s business, not this module's.
"""

from __future__ import annotations

import re
import warnings
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING

import soupsieve

if TYPE_CHECKING:
    from bs4 import Tag

_NEWLINE = re.compile("\n")
_NEWLINE_BYTE = re.compile(b"\n")
_UTF16_BOMS = (b"\xff\xfe", b"\xfe\xff")


@dataclass(frozen=True)
class SelectorMatch:
    """What one slot's selector matched: how many elements, and where the first one starts.

    `offset` is the byte offset of the first element's ``<`` (None when nothing matched),
    `tag` its lower-case name and `line` its line (1-based; 0 when nothing matched).
    """

    slot: str
    selector: str
    count: int
    offset: int | None = None
    tag: str = ""
    line: int = 0


@dataclass(frozen=True)
class SelectorResolution:
    """Each selector's match, in the order the selectors were given; or, in `problem`, why the
    page could not be read at all (then `matches` is empty)."""

    matches: tuple[SelectorMatch, ...] = ()
    problem: str | None = None


def find_selector_elements(html: bytes, selectors: Mapping[str, str]) -> SelectorResolution:
    """Run each slot's CSS selector over `html`; never raises on any bytes.

    The selectors are the ones a rule file's loader has already compiled with soupsieve.
    """
    if not selectors:
        return SelectorResolution()
    if html.startswith(_UTF16_BOMS):
        return SelectorResolution(problem="the page is UTF-16; selector slots need UTF-8")
    text = html.decode("utf-8", "surrogateescape")
    if "<" not in text:  # no element at all (and nothing for the parser to warn about)
        return SelectorResolution(tuple(SelectorMatch(s, css, 0) for s, css in selectors.items()))
    # Imported on first use: 65 ms that a site without selector slots never pays.
    from bs4 import BeautifulSoup, ParserRejectedMarkup, XMLParsedAsHTMLWarning

    try:
        with warnings.catch_warnings():
            # An XML declaration before a root that is not <html>: read as HTML all the same.
            warnings.simplefilter("ignore", XMLParsedAsHTMLWarning)
            soup = BeautifulSoup(text, "html.parser")
    except ParserRejectedMarkup as exc:
        return SelectorResolution(problem=f"html.parser rejected the page ({exc})")
    except RecursionError:
        return SelectorResolution(problem="the page nests too deeply for html.parser")
    positions = _Positions(html, text)
    matches = []
    for slot, selector in selectors.items():
        try:
            found = soupsieve.select(selector, soup)
        except RecursionError:
            return SelectorResolution(problem="the page nests too deeply for the selectors")
        matches.append(_match(slot, selector, found, positions))
    return SelectorResolution(tuple(matches))


def _match(slot: str, selector: str, found: list[Tag], positions: _Positions) -> SelectorMatch:
    if not found:
        return SelectorMatch(slot, selector, 0)
    first = found[0]
    line, column = first.sourceline, first.sourcepos
    if line is None or column is None:  # an element the tree builder made up: no source
        return SelectorMatch(slot, selector, len(found), None, first.name)
    return SelectorMatch(
        slot, selector, len(found), positions.byte_offset(line, column), first.name, line
    )


class _Positions:
    """Maps html.parser's (line, column) of the decoded text to byte offsets of the page.

    html.parser counts lines by ``\\n`` alone and columns in characters from the last one, so a
    ``\\r`` is an ordinary character of its line.
    """

    def __init__(self, html: bytes, text: str) -> None:
        self.text = text
        self.line_starts = [0] + [match.end() for match in _NEWLINE.finditer(text)]
        self.byte_line_starts = [0] + [match.end() for match in _NEWLINE_BYTE.finditer(html)]

    def byte_offset(self, line: int, column: int) -> int:
        """The byte offset of `column` (characters) on `line` (1-based)."""
        start = self.line_starts[line - 1]
        # surrogateescape gives every undecodable byte back as it was: the length is exact.
        before = self.text[start : start + column].encode("utf-8", "surrogateescape")
        return self.byte_line_starts[line - 1] + len(before)
