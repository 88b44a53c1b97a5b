"""Compile an HTML page once into literal byte chunks and slots; splice fragments per request.

The compiler reads bytes, not a DOM, and leaves the reading to C. Byte searches find where
something may matter: ``data-slot``, ``<meta`` and ``<title``, and inside a slot the start and
end tags of the slot's own name, counted to find the end tag that closes it. One compiled
regular expression skips the markup up to there token by token, as HTML is tokenized (quoted
attribute values, comments, CDATA sections, the raw text of ``script``/``style``/``textarea``/
``title``...), so that where it stops is known to be a tag and not text inside a comment, a
script or an attribute value; only those tags are read attribute by attribute. A slot's
direct children are read only when it has ``data-item`` children. Every byte outside a
replaced slot stays exactly as it came (invalid UTF-8, CRLF and all). It never raises on bad
input; oddities become warnings.

Selector slots (a rule file's ``site.slot_selectors``) are found by a real parser and selector
engine (`etalage.middleware.selector_slots`), only for names no ``data-slot`` element on the
page has (data-slot wins). The start tag each selector found must be a start tag to the byte
reader too (not text inside a comment, a script, a title or an attribute value); from there
it is a slot like any other: closed by its matching end tag, its items read, cut into chunks.
"""

from __future__ import annotations

import hashlib
import html
import re
from bisect import bisect_left
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import cached_property

from etalage.middleware.selector_slots import SelectorMatch, find_selector_elements

_VOID = frozenset(b"area base br col embed hr img input link meta param source track wbr".split())
_RAW_TEXT = frozenset(b"script style textarea title xmp iframe noembed noframes".split())
_RAW_END = {name: re.compile(rb"</" + name + rb"(?=[\t\n\f\r />])", re.I) for name in _RAW_TEXT}
_NAME_ENDS = frozenset(b"\t\n\f\r />")

# How HTML is tokenized, in pieces of regular expressions. The quantifiers are possessive: a
# piece reads markup the one way a tag-by-tag reader does and never backtracks into another
# reading, so a tag or a quoted value left open up to the end of the input does not match.
# (No capturing group sits inside a possessive repeat: CPython 3.11 mishandles that.)
_SEP = rb"[\t\n\f\r /]"
_NAME = rb"[A-Za-z][^\t\n\f\r />]*+"
_ATTR = (
    rb"[^\t\n\f\r />][^\t\n\f\r />=]*+"
    rb"(?:[\t\n\f\r ]*+=[\t\n\f\r ]*+(?:\"[^\"]*+\"?|'[^']*+'?|[^\t\n\f\r >]*+))?+"
)
_ATTRS = rb"(?:" + _SEP + rb"*+" + _ATTR + rb")*+"
_REST = _ATTRS + _SEP + rb"*+>"  # a tag after its name
_TEXT = rb"[^<]++"
_END = rb"</" + _NAME + _REST
_NOT_A_TAG = (
    rb"<!--(?:>|->|(?:[^-]++|-(?!-!?>))*+--!?>)",  # a comment
    rb"<!\[CDATA\[(?:[^\]]++|\](?!\]>))*+\]\]>",
    rb"<!(?!--|\[CDATA\[)[^>]*+>|<\?[^>]*+>|</(?:[^A-Za-z>][^>]*+)?>",  # bogus comments
    rb"<(?=[^A-Za-z/!?])",  # a "<" that is text
)
_RAW_NAME = rb"(?i:" + b"|".join(sorted(_RAW_TEXT)) + rb")[\t\n\f\r />]"


def _raw_text_element(name: bytes) -> bytes:
    """A whole raw text element (``<script>...</script>``): its text is not markup."""
    this = rb"(?i:" + name + rb")"
    text = rb"(?:[^<]++|<(?!/" + this + rb"[\t\n\f\r />]))*+"
    return rb"<" + this + rb"(?=[\t\n\f\r />])" + _REST + text + rb"</" + this + _REST


def _skipping(*pieces: bytes) -> bytes:
    """As many of `pieces` as follow each other, maybe none."""
    return rb"(?:" + b"|".join(pieces) + rb")*+"


def _tag_reading(attribute: bytes, end_tags: bool = True) -> bytes:
    """A tag up to its ``>``: ``end`` (``/`` for an end tag, with `end_tags`), ``name``, its
    first `attribute` if any (``wanted``, its value in ``dq``, ``sq`` or ``uq`` as it is
    quoted) and the slashes and spaces before the ``>`` (``close``). The capturing groups may
    not be possessive: lookaheads leave each one reading only, so backtracking finds no other.
    """
    unquoted = rb"(?![\"'])(?P<uq>[^\t\n\f\r >]*+)"
    quoted = rb"(?=\")\"(?P<dq>[^\"]*+)\"?+|(?=')'(?P<sq>[^']*+)'?+|" + unquoted
    equals = rb"[\t\n\f\r ]*+="
    value = rb"(?:" + equals + rb"[\t\n\f\r ]*+(?:" + quoted + rb")|(?!" + equals + rb"))"
    named = rb"(?i:" + attribute + rb")(?=[\t\n\f\r />=])"
    others = rb"(?:" + _SEP + rb"*+(?!" + named + rb")" + _ATTR + rb")*+"
    wanted = rb"(?:" + _SEP + rb"*+(?P<wanted>" + named + rb")" + value
    wanted += rb"|(?!" + _SEP + rb"*+" + named + rb"))"
    end = rb"(?P<end>/?+)" if end_tags else b""
    name = rb"<" + end + rb"(?P<name>" + _NAME + rb")"
    return name + others + wanted + _ATTRS + rb"(?P<close>" + _SEP + rb"*+)"


# Markup skipped token by token, a raw text element as one token (names that may be raw are
# tried last: they all start with one of "stxin").
_SKIP = re.compile(
    _skipping(
        _TEXT,
        _END,
        rb"<(?![sStTxXiInN])" + _NAME + _REST,
        rb"<(?!" + _RAW_NAME + rb")" + _NAME + _REST,
        *(_raw_text_element(name) for name in sorted(_RAW_TEXT)),
        *_NOT_A_TAG,
    )
)
_SKIP_TO_TAG = re.compile(_skipping(_TEXT, *_NOT_A_TAG))
_NOT_A_TAG_ONE = re.compile(b"|".join(_NOT_A_TAG))
_END_TAG = re.compile(_END)
_SLOT_TAG = re.compile(_tag_reading(b"data-slot") + rb">")

# A slot's children, start tag by start tag: markup up to the next start tag skipped, then it.
_TO_START_TAG = _skipping(_TEXT, _END, *_NOT_A_TAG)
_CHILD = re.compile(_TO_START_TAG + rb"(?P<tag>" + _tag_reading(b"data-item") + rb">)?")
# The same in one step up to the child's end, when the child is an element closed by the next
# end tag of its name with no tag of that name inside (the common case), and is neither void,
# self-closing nor raw text. (The name is referred to in a possessive repeat, not captured.)
_SAME_NAME = rb"(?i:(?P=name))[\t\n\f\r />]"
_OPENING = rb"(?=<(?!(?i:" + b"|".join(sorted(_VOID | _RAW_TEXT)) + rb")[\t\n\f\r />]))"
_CONTENT = _skipping(
    _TEXT,
    rb"</(?!" + _SAME_NAME + rb")" + _NAME + _REST,
    rb"<(?![sStTxXiInN]|" + _SAME_NAME + rb")" + _NAME + _REST,
    rb"<(?!" + _RAW_NAME + rb"|" + _SAME_NAME + rb")" + _NAME + _REST,
    *(_raw_text_element(name) for name in sorted(_RAW_TEXT)),
    *_NOT_A_TAG,
)
_START_TAG = rb"(?P<tag>" + _tag_reading(b"data-item", end_tags=False) + rb"(?<!/)>)"
_END_OF_SAME_NAME = rb"</(?i:(?P=name))(?=[\t\n\f\r />])" + _REST
_WHOLE_CHILD = re.compile(_TO_START_TAG + _OPENING + _START_TAG + _CONTENT + _END_OF_SAME_NAME)
_FACT_HINT = re.compile(rb"&|(?i:etalage:)")  # a meta tag with neither states no fact
_NEWLINE = re.compile(rb"\n")

_FACT_PREFIX = "etalage:"
_META_ATTRIBUTES = frozenset({b"name", b"content"})
_MAX_WARNINGS = 20
_MAX_NAME_IN_WARNING = 60
# Counting one name's tags at a time stays linear while few names are counted; past this many
# times the page read that way (hostile pages), every tag is read once instead.
_READ_BUDGET = 4


def page_digest(html: bytes) -> bytes:
    """The BLAKE2b-160 digest of a page's bytes, as `PageSkeleton.digest` holds it."""
    return hashlib.blake2b(html, digest_size=20).digest()


@dataclass(frozen=True)
class SlotItem:
    """A direct child element of a slot carrying ``data-item="key"`` (its outer HTML)."""

    key: str
    html: bytes


@dataclass(frozen=True)
class Slot:
    """An element carrying ``data-slot``: its tags, its default inner HTML and its items.

    `item_gaps` holds the bytes around the items (``len(items) + 1`` pieces, or empty when
    there are no items), so that ``gap0 + item0 + gap1 + ... + gapN == inner``.
    """

    name: str
    open_tag: bytes
    inner: bytes
    close_tag: bytes
    items: tuple[SlotItem, ...] = ()
    item_gaps: tuple[bytes, ...] = ()

    @cached_property
    def default_text(self) -> str:
        """The default inner HTML decoded as UTF-8 (undecodable bytes replaced), for templates."""
        return self.inner.decode("utf-8", "replace")

    def reordered(self, order: Sequence[str]) -> bytes:
        """The inner HTML with items keyed in `order` first (in that order), the rest after.

        Items not named keep their relative order, unknown keys are ignored and the bytes
        between items stay where they were; an unchanged order gives back `inner` exactly.
        """
        if not self.items or len(self.item_gaps) != len(self.items) + 1:
            return self.inner
        rank: dict[str, int] = {}
        for key in order:
            rank.setdefault(key, len(rank))
        unranked = len(rank)
        arranged = sorted(self.items, key=lambda item: rank.get(item.key, unranked))
        parts = [self.item_gaps[0]]
        for item, gap in zip(arranged, self.item_gaps[1:], strict=True):
            parts.append(item.html)
            parts.append(gap)
        return b"".join(parts)


class PageSkeleton:
    """A page compiled once: literal chunks around slots, page facts and compile warnings.

    ``chunks[0] + slot0 + chunks[1] + ... + chunks[-1]`` (each slot as open tag, inner,
    close tag) is the original page, byte for byte.
    """

    __slots__ = (
        "source",
        "digest",
        "chunks",
        "slots",
        "slot_names",
        "selectors",
        "facts",
        "warnings",
        "_pieces",
        "_slot_pieces",
    )

    def __init__(
        self,
        source: bytes,
        chunks: tuple[bytes, ...],
        slots: tuple[Slot, ...],
        facts: dict[str, str],
        warnings: tuple[str, ...],
        digest: bytes | None = None,
        selectors: Mapping[str, str] | None = None,
    ) -> None:
        self.source = source
        self.digest = page_digest(source) if digest is None else digest
        self.selectors = selectors
        self.chunks = chunks
        self.slots = slots
        self.slot_names = frozenset(slot.name for slot in slots)
        self.facts = facts
        self.warnings = warnings
        pieces: list[bytes] = [chunks[0]]
        slot_pieces: list[tuple[int, str]] = []
        for slot, chunk in zip(slots, chunks[1:], strict=True):
            slot_pieces.append((len(pieces) + 1, slot.name))
            pieces += (slot.open_tag, slot.inner, slot.close_tag, chunk)
        self._pieces = tuple(pieces)
        self._slot_pieces = tuple(slot_pieces)

    @classmethod
    def compile(
        cls,
        html: bytes,
        digest: bytes | None = None,
        selectors: Mapping[str, str] | None = None,
    ) -> PageSkeleton:
        """Compile `html` into a skeleton; never raises, whatever the bytes.

        `digest` is the page's `page_digest`, when the caller has computed it already.
        `selectors` maps slot names to CSS selectors (a rule file's ``site.slot_selectors``):
        the first element each one matches is a slot too, unless the page has a ``data-slot``
        element of that name. The skeleton keeps them as `selectors` (None when empty).
        """
        return _Compiler(bytes(html)).run(digest, selectors or None)

    def render_parts(self, replacements: Mapping[str, bytes]) -> list[bytes]:
        """The page as a list of byte pieces, each named slot's inner HTML replaced."""
        parts = list(self._pieces)
        for index, name in self._slot_pieces:
            replacement = replacements.get(name)
            if replacement is not None:
                parts[index] = replacement
        return parts

    def render(self, replacements: Mapping[str, bytes]) -> bytes:
        """The page with each named slot's inner HTML replaced; other bytes untouched."""
        if not replacements or replacements.keys().isdisjoint(self.slot_names):
            return self.source
        return b"".join(self.render_parts(replacements))

    def __repr__(self) -> str:
        return f"PageSkeleton(slots={sorted(self.slot_names)!r}, facts={self.facts!r})"


class _SlotTag:
    """A start tag carrying ``data-slot``, and the end tag closing it once that is known."""

    __slots__ = ("name", "start", "end", "opens", "slot", "close", "paired")

    def __init__(self, name: bytes, start: int, end: int, opens: bool, slot: str) -> None:
        self.name = name
        self.start = start
        self.end = end
        self.opens = opens
        self.slot = slot
        self.close: tuple[int, int] | None = None
        self.paired = False  # whether `close` is known (None then means: never closed)


def _text(raw: bytes) -> str:
    return html.unescape(raw.decode("utf-8", "replace"))


def _wanted_value(tag: re.Match[bytes]) -> str:
    """The stripped text of the attribute a `_tag_reading` pattern read."""
    quoted, single, bare = tag.group("dq", "sq", "uq")
    raw = quoted if quoted is not None else single if single is not None else bare
    return _text(raw or b"").strip()


def _raw_text_end(body: bytes, name: bytes, pos: int) -> tuple[int, int]:
    """Where the raw text from `pos` ends and where its end tag ends (-1: never closed)."""
    close = _RAW_END[name].search(body, pos)
    if close is None:
        return len(body), -1
    end_tag = _END_TAG.match(body, close.start())
    return close.start(), -1 if end_tag is None else end_tag.end()


_ATTR_VALUE = re.compile(
    _SEP + rb"*+(?:(?P<name>[^\t\n\f\r />][^\t\n\f\r />=]*+)"
    rb"(?:[\t\n\f\r ]*+=[\t\n\f\r ]*+(?P<value>\"[^\"]*+\"|'[^']*+'|[^\t\n\f\r >]*+))?|>)"
)


def _attribute_values(body: bytes, pos: int, wanted: frozenset[bytes]) -> dict[bytes, bytes]:
    """The first value of each `wanted` attribute of the whole tag whose attributes start at
    `pos` (quotes removed; an attribute without a value has the empty value)."""
    values: dict[bytes, bytes] = {}
    for attr in _ATTR_VALUE.finditer(body, pos):
        key = attr.group("name")
        if key is None:  # the tag's ">"
            break
        key = key.lower()
        if key in wanted and key not in values:
            value = attr.group("value") or b""
            values[key] = value[1:-1] if value[:1] in (b'"', b"'") else value
    return values


class _Page:
    """A page's bytes, lowered to search them in any case, and how to find tags in them.

    Each search for a tag name is remembered (where it started, what it found before which
    limit), so that searching on from a later place costs nothing until that find is passed:
    reading stays linear however the page nests and repeats its tags. `searched` counts the
    bytes searched, for the closers' budget.
    """

    def __init__(self, body: bytes) -> None:
        self.body = body
        self.lower = body.lower()
        self.size = len(body)
        self.searched = 0
        self._found: dict[bytes, tuple[int, int, int]] = {}

    def find_tag(self, needle: bytes, pos: int, limit: int) -> int:
        """The first `needle` ("<name" or "</name", lower case) at or after `pos` and before
        `limit` that a tag name's end follows; `limit` when there is none."""
        known = self._found.get(needle)
        if known is not None:  # the first one in start..end was found (found == end: none)
            start, found, end = known
            if start <= pos <= found and (found < end or limit <= end):
                return min(found, limit)
        lower, after, size = self.lower, len(needle), self.size
        found = lower.find(needle, pos, limit)
        while found >= 0 and found + after < size and lower[found + after] not in _NAME_ENDS:
            found = lower.find(needle, found + 1, limit)
        found = limit if found < 0 else found
        self.searched += found - pos
        self._found[needle] = (pos, found, limit)
        return found

    def every(self, needle: bytes) -> list[int]:
        """Where `needle` (lower case) is, each place; for "<name", where a tag name ends."""
        lower, found, size = self.lower, [], self.size
        pos = lower.find(needle)
        if needle[0] != 0x3C:  # "<"
            while pos >= 0:
                found.append(pos)
                pos = lower.find(needle, pos + 1)
            return found
        after = len(needle)
        while pos >= 0:
            if pos + after >= size or lower[pos + after] in _NAME_ENDS:
                found.append(pos)
            pos = lower.find(needle, pos + 1)
        return found

    def tag_at(self, pos: int) -> tuple[re.Match[bytes] | None, int]:
        """The token at `pos` (a "<" where the skipping stopped), read exactly: the tag if it
        is one, and where the token ends (-1: it stays open up to the end of the page)."""
        tag = _SLOT_TAG.match(self.body, pos)
        if tag is not None:
            return tag, tag.end()
        other = _NOT_A_TAG_ONE.match(self.body, pos)
        return None, -1 if other is None else other.end()

    def next_named(self, name: bytes, pos: int, limit: int) -> re.Match[bytes] | None:
        """The next start or end tag `name` from the token boundary `pos` and before `limit`;
        None if there is none (or markup before it stays open up to the end)."""
        body = self.body
        start_needle, end_needle = b"<" + name, b"</" + name
        next_start = next_end = -1
        while True:
            if next_start < pos:
                next_start = self.find_tag(start_needle, pos, limit)
            if next_end < pos:
                next_end = self.find_tag(end_needle, pos, limit)
            target = min(next_start, next_end)
            if target >= limit:
                return None
            skipped = _SKIP.match(body, pos, target)
            assert skipped is not None  # the pattern matches the empty string
            tag, pos = self.tag_at(skipped.end())
            if pos < 0:
                return None
            if tag is None:
                continue
            tag_name = tag.group("name").lower()
            if tag_name == name:
                return tag
            if not tag.group("end") and tag_name in _RAW_TEXT:  # skipped text may hold `name`
                pos = _raw_text_end(body, tag_name, pos)[1]
                if pos < 0:
                    return None


class _Closer:
    """Finds the end tag closing a start tag between the token boundaries `start` and `limit`,
    as a stack of open elements per tag name would: for each name it reads only that name's
    tags, from the first start tag it is asked about, and remembers what it read. Past a
    budget of bytes skipped and searched (hostile pages) it reads every tag once instead.
    """

    def __init__(self, page: _Page, start: int, limit: int) -> None:
        self.page = page
        self.start = start
        self.limit = limit
        self._names: dict[bytes, _NameReading] = {}
        # How far `page.searched` may go; what is skipped comes off.
        self._budget = page.searched + _READ_BUDGET * (limit - start + 1024)
        self._every_tag: dict[int, tuple[int, int]] | None = None

    def close(self, name: bytes, start: int, end: int) -> tuple[int, int] | None:
        """(start, end) of the end tag closing the tag `name` at `start`..`end`, or None."""
        if self._every_tag is None:
            reading = self._names.get(name)
            if reading is None:
                reading = self._names[name] = _NameReading()
            close = self._read(reading, name, start, end)
            if self._every_tag is None:
                return close
        return self._every_tag.get(start)

    def _read(
        self, reading: _NameReading, name: bytes, start: int, end: int
    ) -> tuple[int, int] | None:
        closes = reading.closes
        if start >= reading.pos:  # not read yet: nothing open before it can close it
            reading.open = [start]
            reading.pos = end
        while start not in closes and reading.pos <= self.limit:
            if self._budget < self.page.searched:
                self._every_tag = _close_every_tag(self.page, self.start, self.limit)
                return None
            before = reading.pos
            tag = self.page.next_named(name, before, self.limit)
            if tag is None:  # the rest stays open
                reading.pos = self.limit + 1
                break
            reading.pos = tag.end()
            self._budget -= reading.pos - before
            if tag.group("end"):
                if reading.open:
                    closes[reading.open.pop()] = (tag.start(), reading.pos)
            elif not tag.group("close").endswith(b"/"):
                reading.open.append(tag.start())
        return closes.get(start)


class _NameReading:
    """How far one name's tags were read, the ones still open and the closes found."""

    __slots__ = ("pos", "open", "closes")

    def __init__(self) -> None:
        self.pos = 0
        self.open: list[int] = []
        self.closes: dict[int, tuple[int, int]] = {}


def _close_every_tag(page: _Page, pos: int, limit: int) -> dict[int, tuple[int, int]]:
    """Start offset -> (start, end) of its closing end tag, for every element closed between
    the token boundaries `pos` and `limit`, reading every tag."""
    body = page.body
    closes: dict[int, tuple[int, int]] = {}
    open_by_name: dict[bytes, list[int]] = {}
    while True:
        skipped = _SKIP_TO_TAG.match(body, pos, limit)
        assert skipped is not None  # the pattern matches the empty string
        start = skipped.end()
        if start >= limit:
            return closes
        tag, pos = page.tag_at(start)
        if pos < 0:
            return closes
        if tag is None:
            continue
        end, name, close = tag.group("end", "name", "close")
        name = name.lower()
        if end:
            stack = open_by_name.get(name)
            if stack:
                closes[stack.pop()] = (start, pos)
        elif name in _RAW_TEXT:
            text_end, pos = _raw_text_end(body, name, pos)
            if pos < 0:
                return closes
            closes[start] = (text_end, pos)
        elif name not in _VOID and not close.endswith(b"/"):
            open_by_name.setdefault(name, []).append(start)


class _Compiler:
    """One compilation: read the page, close its slots, read their items, cut chunks."""

    def __init__(self, body: bytes) -> None:
        self.body = body
        self.page = _Page(body)
        self.facts: dict[str, str] = {}
        self.title: str | None = None
        self.warnings: list[str] = []
        self.dropped_warnings = 0
        self._closer: _Closer | None = None
        self._newlines: list[int] | None = None

    def run(self, digest: bytes | None, selectors: Mapping[str, str] | None) -> PageSkeleton:
        slot_tags = self._read_page()
        if self.title is not None:
            self.facts.setdefault("title", self.title)
        if selectors:
            marked = {tag.slot for tag in slot_tags}
            wanted = {slot: css for slot, css in selectors.items() if slot not in marked}
            if wanted:
                slot_tags += self._selector_tags(wanted)
                slot_tags.sort(key=lambda tag: tag.start)
        return self._build(slot_tags, digest, selectors)

    def _selector_tags(self, selectors: Mapping[str, str]) -> list[_SlotTag]:
        """The start tags the selectors found first, each checked to be a start tag here too."""
        resolution = find_selector_elements(self.body, selectors)
        if resolution.problem is not None:
            self._warn(f"selector slots left out: {resolution.problem}", None)
            return []
        found = [match for match in resolution.matches if match.count]
        found.sort(key=lambda match: -1 if match.offset is None else match.offset)
        tags: list[_SlotTag] = []
        boundary = 0  # a token boundary at or before every offset still to check
        for match in found:
            where = f"selector {_show(match.selector)} of slot {_show(match.slot)}"
            if match.count > 1:
                first = "" if match.offset is None else f" (line {self._line(match.offset)})"
                self._warn(
                    f"{where} matches {match.count} elements; the first{first} is the slot", None
                )
            tag = None if match.offset is None else self._start_tag_at(match, boundary)
            if tag is None:
                self._warn(
                    f"{where} left out: what it matches is not a tag when the page is read "
                    "byte by byte (text inside a comment, a script, a title or an attribute value?)",
                    match.offset,
                )
                continue
            boundary = tag.start
            tags.append(tag)
        return tags

    def _start_tag_at(self, match: SelectorMatch, boundary: int) -> _SlotTag | None:
        """The selector's element as a slot tag, if the bytes at its offset are a start tag of
        that name when the page is read token by token from `boundary`."""
        body, start = self.body, match.offset
        assert start is not None
        skipped = _SKIP.match(body, boundary, start)
        if skipped is None or skipped.end() != start:
            return None
        tag = _SLOT_TAG.match(body, start)
        if tag is None or tag.group("end"):
            return None
        name = tag.group("name").lower()
        if name.decode("utf-8", "surrogateescape").lower() != match.tag:
            return None
        raw = name in _RAW_TEXT
        opens = name not in _VOID and (raw or not tag.group("close").endswith(b"/"))
        slot_tag = _SlotTag(name, start, tag.end(), opens, match.slot)
        if raw:
            text_end, after = _raw_text_end(body, name, tag.end())
            slot_tag.close, slot_tag.paired = (None if after < 0 else (text_end, after)), True
        return slot_tag

    def _read_page(self) -> list[_SlotTag]:
        """The start tags carrying data-slot, in page order, with the end tag closing each one
        where it was found on the way; meta facts and the title as they come.

        Targets are where something may matter: "data-slot", "<meta", "<title" and, while a
        slot is open, the tags of its name. The markup up to the next target is skipped token
        by token, and the token the skipping stops at (the target's, or one holding it) is
        read exactly. A slot with nothing else to read inside is closed at once; otherwise the
        tags of its name are counted until one closes it.
        """
        page, body, size = self.page, self.body, self.page.size
        targets = page.every(b"data-slot") + page.every(b"<meta") + page.every(b"<title")
        targets.sort()
        targets.append(size)
        skip, read_tag = _SKIP.match, _SLOT_TAG.match
        slot_tags: list[_SlotTag] = []
        pending: _SlotTag | None = None
        depth = pos = index = 0
        next_open = next_close = size
        start_needle = end_needle = b""
        while True:
            target = targets[index]
            while target < pos:
                index += 1
                target = targets[index]
            if pending is not None:  # its name's next tags, the first start tag before an end tag
                if next_close < pos:
                    next_close = page.find_tag(end_needle, pos, size)
                    next_open = -1
                if next_open < pos:
                    next_open = page.find_tag(start_needle, pos, next_close)
                if next_open < target:
                    target = next_open
            if target >= size:
                break
            skipped = skip(body, pos, target)
            assert skipped is not None  # the pattern matches the empty string
            stop = skipped.end()
            tag = read_tag(body, stop)
            if tag is None:
                if stop == target and body[stop] != 0x3C:  # "data-slot" in text
                    pos = stop + 1
                    continue
                other = _NOT_A_TAG_ONE.match(body, stop)
                if other is None:  # markup left open up to the end of the page
                    break
                pos = other.end()
                continue
            pos = tag.end()
            end, name, wanted, close = tag.group("end", "name", "wanted", "close")
            name = name.lower()
            if end:
                if pending is not None and name == pending.name:
                    depth -= 1
                    if depth == 0:
                        pending.close, pending.paired, pending = (stop, pos), True, None
                continue
            raw = name in _RAW_TEXT
            opens = name not in _VOID and (raw or not close.endswith(b"/"))
            slot_tag = None
            if wanted is not None:
                slot_tag = _SlotTag(name, stop, pos, opens, _wanted_value(tag))
                slot_tag.paired = raw
                slot_tags.append(slot_tag)
            if pending is not None and name == pending.name and opens:
                depth += 1
            if raw:
                text_end, after = _raw_text_end(body, name, pos)
                if name == b"title" and self.title is None:
                    self.title = " ".join(_text(body[pos:text_end]).split())
                if after < 0:
                    break
                if slot_tag is not None:
                    slot_tag.close = (text_end, after)
                pos = after
            elif name == b"meta":
                if _FACT_HINT.search(body, stop, pos) is not None:
                    self._meta_fact(tag.end("name"))
            elif slot_tag is not None and opens and pending is None:
                close_tag = _first_close(page, name, pos, targets[bisect_left(targets, pos)])
                if close_tag is not None:  # nothing else to read in the slot: on after it
                    slot_tag.close, slot_tag.paired = close_tag, True
                    pos = close_tag[1]
                else:
                    pending, depth = slot_tag, 1
                    start_needle, end_needle = b"<" + name, b"</" + name
                    next_open = next_close = -1
        if pending is not None:
            pending.paired = True
        return slot_tags

    def _meta_fact(self, attrs_start: int) -> None:
        attrs = _attribute_values(self.body, attrs_start, _META_ATTRIBUTES)
        key = _text(attrs.get(b"name", b"")).strip()
        if key[: len(_FACT_PREFIX)].lower() != _FACT_PREFIX or b"content" not in attrs:
            return
        fact = key[len(_FACT_PREFIX) :]
        if fact:
            self.facts.setdefault(fact, _text(attrs[b"content"]))

    def _close(self, tag: _SlotTag) -> tuple[int, int] | None:
        if tag.paired:
            return tag.close
        if self._closer is None:
            self._closer = _Closer(self.page, 0, self.page.size)
        return self._closer.close(tag.name, tag.start, tag.end)

    def _build(
        self,
        slot_tags: list[_SlotTag],
        digest: bytes | None,
        selectors: Mapping[str, str] | None,
    ) -> PageSkeleton:
        body = self.body
        chunks: list[bytes] = []
        slots: list[Slot] = []
        previous_end = 0
        outer_end, outer_name = -1, ""
        for tag in slot_tags:
            name = tag.slot
            if tag.start < outer_end:
                nested = f"nested slot {_show(name)} inside slot {_show(outer_name)} ignored"
                self._warn(nested, tag.start)
                continue
            if not tag.opens:
                kind = "void" if tag.name in _VOID else "self-closing"
                element = tag.name.decode("latin-1")
                self._warn(f"{kind} element <{element}> cannot be slot {_show(name)}", tag.start)
                continue
            close = self._close(tag)
            if close is None:
                self._warn(f"unclosed slot {_show(name)}", tag.start)
            elif not name:
                self._warn("empty slot name", tag.start)
            else:
                chunks.append(body[previous_end : tag.start])
                slots.append(self._slot(tag, close))
                previous_end = outer_end = close[1]
                outer_name = name
        chunks.append(body[previous_end:])
        warnings = self.warnings
        if self.dropped_warnings:
            warnings.append(f"... and {self.dropped_warnings} more skeleton warnings")
        return PageSkeleton(
            body, tuple(chunks), tuple(slots), self.facts, tuple(warnings), digest, selectors
        )

    def _slot(self, tag: _SlotTag, close: tuple[int, int]) -> Slot:
        body, (close_start, close_end) = self.body, close
        open_tag, inner = body[tag.start : tag.end], body[tag.end : close_start]
        close_tag = body[close_start:close_end]
        if tag.name in _RAW_TEXT or self.page.lower.find(b"data-item", tag.end, close_start) < 0:
            return Slot(tag.slot, open_tag, inner, close_tag)
        items, gaps = self._items(tag, close_start)
        return Slot(tag.slot, open_tag, inner, close_tag, items, gaps)

    def _items(self, slot: _SlotTag, limit: int) -> tuple[tuple[SlotItem, ...], tuple[bytes, ...]]:
        """The children of a slot carrying data-item, and the bytes around them.

        A child is a start tag right inside the slot or after the end of a closed child; a
        child that is not closed inside the slot is no item, its content is read as the slot's.
        """
        page, body = self.page, self.body
        closer: _Closer | None = None
        whole = True  # children are read whole until one is not a plain closed element
        searches = page.searched + _READ_BUDGET * (limit - slot.end + 1024)  # then the closer
        items: list[SlotItem] = []
        gaps: list[bytes] = []
        gap_start = pos = slot.end
        while True:
            child = _WHOLE_CHILD.match(body, pos, limit) if whole else None
            if child is not None:
                start, pos = child.start("tag"), child.end()
            else:
                whole = False
                child = _CHILD.match(body, pos, limit)
                assert child is not None  # the pattern matches the empty string
                start = child.start("tag")
                if start < 0:  # the slot's end (a closed slot holds whole tokens only)
                    break
                pos = child.end()
                name = child.group("name").lower()
                raw = name in _RAW_TEXT
                if name not in _VOID and (raw or not child.group("close").endswith(b"/")):
                    if raw:
                        text_end, after = _raw_text_end(body, name, pos)
                        close = None if after < 0 else (text_end, after)
                    else:
                        close = None
                        if page.searched < searches:
                            close = _first_close(page, name, pos, limit)
                        if close is None:
                            if closer is None:
                                closer = _Closer(page, slot.end, limit)
                            close = closer.close(name, start, pos)
                    if close is None:
                        if child.group("wanted") is not None:
                            key, where = _show(_wanted_value(child)), f"in slot {_show(slot.slot)}"
                            self._warn(f"unclosed item {key} {where}", start)
                        if raw:
                            break
                        continue
                    pos = close[1]
            if child.group("wanted") is not None:
                gaps.append(body[gap_start:start])
                items.append(SlotItem(_wanted_value(child), body[start:pos]))
                gap_start = pos
        if items:
            gaps.append(body[gap_start:limit])
        return tuple(items), tuple(gaps)

    def _warn(self, message: str, offset: int | None) -> None:
        if len(self.warnings) >= _MAX_WARNINGS:
            self.dropped_warnings += 1
            return
        where = "" if offset is None else f" at line {self._line(offset)}"
        self.warnings.append(message + where)

    def _line(self, offset: int) -> int:
        if self._newlines is None:
            self._newlines = [match.start() for match in _NEWLINE.finditer(self.body)]
        return bisect_left(self._newlines, offset) + 1


def _first_close(page: _Page, name: bytes, pos: int, limit: int) -> tuple[int, int] | None:
    """The end tag closing an element `name` whose start tag ends at `pos`, when no other tag
    of that name comes first (the common case); None when that takes counting."""
    close = page.find_tag(b"</" + name, pos, limit)
    if close >= limit or page.find_tag(b"<" + name, pos, close) < close:
        return None
    skipped = _SKIP.match(page.body, pos, close)
    if skipped is None or skipped.end() != close:
        return None  # inside a comment, a script or an attribute value
    end_tag = _END_TAG.match(page.body, close)
    return None if end_tag is None else (close, end_tag.end())


def _show(name: str | None) -> str:
    name = name or ""
    if len(name) > _MAX_NAME_IN_WARNING:
        name = name[:_MAX_NAME_IN_WARNING] + "..."
    return repr(name)
