"""Reading HTML as bytes, the way `etalage.middleware.skeleton` compiles pages.

HTML's tokens as compiled regular expressions (text, tags with quoted attribute values,
comments, CDATA sections, the raw text of ``script``/``style``/``textarea``/``title``...), so
that one match skips markup token by token and where it stops is known to be a tag; the
attribute values, meta facts and titles read from a tag; and `PageBytes` and `Closer`, which
find the end tag closing a start tag by byte searches for that tag's name, counting its start
and end tags as a stack of open elements would. Nothing here raises on bad input.
"""

from __future__ import annotations

import html
import re

VOID = frozenset(b"area base br col embed hr img input link meta param source track wbr".split())
RAW_TEXT = frozenset(b"script style textarea title xmp iframe noembed noframes".split())
_RAW_END = {name: re.compile(rb"</" + name + rb"(?=[\t\n\f\r />])", re.I) for name in RAW_TEXT}
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
_RAW_NAME = rb"(?i:" + b"|".join(sorted(RAW_TEXT)) + rb")[\t\n\f\r />]"


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


# One token of markup, a raw text element as one token (names that may be raw are tried last:
# they all start with one of "stxin").
_TOKENS = (
    _TEXT,
    _END,
    rb"<(?![sStTxXiInN])" + _NAME + _REST,
    rb"<(?!" + _RAW_NAME + rb")" + _NAME + _REST,
    *(_raw_text_element(name) for name in sorted(RAW_TEXT)),
    *_NOT_A_TAG,
)
SKIP = re.compile(_skipping(*_TOKENS))  # markup skipped token by token
TOKEN = re.compile(b"|".join(_TOKENS))  # one token, read exactly
_SKIP_TO_TAG = re.compile(_skipping(_TEXT, *_NOT_A_TAG))
NOT_A_TAG_ONE = re.compile(b"|".join(_NOT_A_TAG))  # a comment, CDATA, a bogus comment...
_END_TAG = re.compile(_END)
SLOT_TAG = re.compile(_tag_reading(b"data-slot") + rb">")  # a tag, its data-slot value read

# A slot's children, start tag by start tag: markup up to the next start tag skipped, then it.
_TO_START_TAG = _skipping(_TEXT, _END, *_NOT_A_TAG)
CHILD = re.compile(_TO_START_TAG + rb"(?P<tag>" + _tag_reading(b"data-item") + rb">)?")
# The same in one step up to the child's end, when the child is an element closed by the next
# end tag of its name with no tag of that name inside (the common case), and is neither void,
# self-closing nor raw text. (The name is referred to in a possessive repeat, not captured.)
_SAME_NAME = rb"(?i:(?P=name))[\t\n\f\r />]"
_OPENING = rb"(?=<(?!(?i:" + b"|".join(sorted(VOID | RAW_TEXT)) + rb")[\t\n\f\r />]))"
_CONTENT = _skipping(
    _TEXT,
    rb"</(?!" + _SAME_NAME + rb")" + _NAME + _REST,
    rb"<(?![sStTxXiInN]|" + _SAME_NAME + rb")" + _NAME + _REST,
    rb"<(?!" + _RAW_NAME + rb"|" + _SAME_NAME + rb")" + _NAME + _REST,
    *(_raw_text_element(name) for name in sorted(RAW_TEXT)),
    *_NOT_A_TAG,
)
_START_TAG = rb"(?P<tag>" + _tag_reading(b"data-item", end_tags=False) + rb"(?<!/)>)"
_END_OF_SAME_NAME = rb"</(?i:(?P=name))(?=[\t\n\f\r />])" + _REST
WHOLE_CHILD = re.compile(_TO_START_TAG + _OPENING + _START_TAG + _CONTENT + _END_OF_SAME_NAME)

_FACT_PREFIX = "etalage:"
_META_ATTRIBUTES = frozenset({b"name", b"content"})
# Counting one name's tags at a time stays linear while few names are counted; past this many
# times the page read that way (hostile pages), every tag is read once instead.
_READ_BUDGET = 4


def _text(raw: bytes) -> str:
    return html.unescape(raw.decode("utf-8", "replace"))


def wanted_value(tag: re.Match[bytes]) -> str:
    """The stripped text of the attribute a `_tag_reading` pattern read."""
    quoted, single, bare = tag.group("dq", "sq", "uq")
    raw = quoted if quoted is not None else single if single is not None else bare
    return _text(raw or b"").strip()


def meta_fact(body: bytes, attrs_start: int) -> tuple[str, str] | None:
    """The fact a meta tag whose attributes start at `attrs_start` states, if it states one:
    ``<meta name="etalage:topic" content="tents">`` states ``("topic", "tents")``."""
    attrs = _attribute_values(body, attrs_start, _META_ATTRIBUTES)
    key = _text(attrs.get(b"name", b"")).strip()
    if key[: len(_FACT_PREFIX)].lower() != _FACT_PREFIX or b"content" not in attrs:
        return None
    fact = key[len(_FACT_PREFIX) :]
    return (fact, _text(attrs[b"content"])) if fact else None


def title_text(raw: bytes) -> str:
    """The title a ``<title>`` element's raw text gives: decoded, whitespace collapsed."""
    return " ".join(_text(raw).split())


def raw_text_end(body: bytes, name: bytes, pos: int) -> tuple[int, int]:
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


class PageBytes:
    """A page's bytes, lowered to search them in any case, and how to find tags in them.

    Each search for a tag name is remembered (where it started, what it found before which
    limit), so that searching on from a later place costs nothing until that find is passed:
    reading stays linear however the page nests and repeats its tags. `searched` counts the
    bytes searched, for the closers' budget; `skipped` the bytes skipped token by token to
    targets and slot ends, for a recompile's.
    """

    def __init__(self, body: bytes) -> None:
        self.body = body
        self.lower = body.lower()
        self.size = len(body)
        self.searched = 0
        self.skipped = 0
        self._found: dict[bytes, tuple[int, int, int]] = {}

    def search_limit(self, start: int, limit: int) -> int:
        """How far `searched` may go while the tags between `start` and `limit` are read one
        name at a time; past it, every tag is read once instead (hostile pages)."""
        return self.searched + _READ_BUDGET * (limit - start + 1024)

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
        tag = SLOT_TAG.match(self.body, pos)
        if tag is not None:
            return tag, tag.end()
        other = NOT_A_TAG_ONE.match(self.body, pos)
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
            skipped = SKIP.match(body, pos, target)
            assert skipped is not None  # the pattern matches the empty string
            tag, pos = self.tag_at(skipped.end())
            if pos < 0:
                return None
            if tag is None:
                continue
            tag_name = tag.group("name").lower()
            if tag_name == name:
                return tag
            if not tag.group("end") and tag_name in RAW_TEXT:  # skipped text may hold `name`
                pos = raw_text_end(body, tag_name, pos)[1]
                if pos < 0:
                    return None


class Closer:
    """Finds the end tag closing a start tag between the token boundaries `start` and `limit`,
    as a stack of open elements per tag name would: for each name it reads only that name's
    tags, from the first start tag it is asked about, and remembers what it read. Past a
    budget of bytes skipped and searched (hostile pages) it reads every tag once instead.
    """

    def __init__(self, page: PageBytes, start: int, limit: int) -> None:
        self.page = page
        self.start = start
        self.limit = limit
        self._names: dict[bytes, _NameReading] = {}
        # How far `page.searched` may go; what is skipped comes off.
        self._budget = page.search_limit(start, limit)
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


def _close_every_tag(page: PageBytes, pos: int, limit: int) -> dict[int, tuple[int, int]]:
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
        elif name in RAW_TEXT:
            text_end, pos = raw_text_end(body, name, pos)
            if pos < 0:
                return closes
            closes[start] = (text_end, pos)
        elif name not in VOID and not close.endswith(b"/"):
            open_by_name.setdefault(name, []).append(start)


def first_close(page: PageBytes, name: bytes, pos: int, limit: int) -> tuple[int, int] | None:
    """The end tag closing an element `name` whose start tag ends at `pos`, when no other tag
    of that name comes first (the common case); None when that takes counting."""
    close = page.find_tag(b"</" + name, pos, limit)
    if close >= limit or page.find_tag(b"<" + name, pos, close) < close:
        return None
    skipped = SKIP.match(page.body, pos, close)
    page.skipped += close - pos
    if skipped is None or skipped.end() != close:
        return None  # inside a comment, a script or an attribute value
    end_tag = _END_TAG.match(page.body, close)
    return None if end_tag is None else (close, end_tag.end())
