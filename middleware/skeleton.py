"""Compile an HTML page once into literal byte chunks and slots; splice fragments per request.

The compiler is a small scanner over bytes, not a DOM parser: it finds tags (skipping
comments, CDATA sections and the raw text of ``script``/``style``/``textarea``/``title``...),
pairs start and end tags per tag name, and keeps every byte outside a replaced slot exactly as
it came (invalid UTF-8, CRLF and all). It never raises on bad input; oddities become warnings.
"""

from __future__ import annotations

import hashlib
import html
import re
from bisect import bisect_left
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import cached_property

_TAG_NAME = re.compile(rb"[A-Za-z][^\t\n\f\r />]*")
_SKIP = re.compile(rb"[\t\n\f\r /]*")
_ATTR = re.compile(
    rb"(?P<name>[^\t\n\f\r />][^\t\n\f\r />=]*)"
    rb"(?:[\t\n\f\r ]*=[\t\n\f\r ]*(?P<value>\"[^\"]*\"?|'[^']*'?|[^\t\n\f\r >]*))?"
)
_COMMENT_END = re.compile(rb"--!?>")
_NEWLINE = re.compile(rb"\n")

_LETTERS = frozenset(b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz")
_GT, _SLASH, _BANG, _QUESTION = 0x3E, 0x2F, 0x21, 0x3F

_VOID = frozenset(b"area base br col embed hr img input link meta param source track wbr".split())
_RAW_TEXT = frozenset(b"script style textarea title xmp iframe noembed noframes".split())
_RAW_END = {name: re.compile(rb"</" + name + rb"(?=[\t\n\f\r />])", re.I) for name in _RAW_TEXT}
_WANTED = frozenset({b"data-slot", b"data-item", b"name", b"content"})

_FACT_PREFIX = "etalage:"
_MAX_WARNINGS = 20
_MAX_NAME_IN_WARNING = 60


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
    ) -> None:
        self.source = source
        self.digest = hashlib.blake2b(source, digest_size=20).digest()
        self.chunks = chunks
        self.slots = slots
        self.slot_names = frozenset(slot.name for slot in slots)
        self.facts = facts
        self.warnings = warnings
        pieces: list[bytes] = [chunks[0]]
        slot_pieces: list[tuple[int, str]] = []
        for slot, chunk in zip(slots, chunks[1:], strict=True):
            pieces[-1] += slot.open_tag
            slot_pieces.append((len(pieces), slot.name))
            pieces.append(slot.inner)
            pieces.append(slot.close_tag + chunk)
        self._pieces = tuple(pieces)
        self._slot_pieces = tuple(slot_pieces)

    @classmethod
    def compile(cls, html: bytes) -> PageSkeleton:
        """Compile `html` into a skeleton; never raises, whatever the bytes."""
        return _Compiler(bytes(html)).run()

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


class _Tag:
    """One start or end tag found by the scanner."""

    __slots__ = ("name", "start", "end", "is_end", "opens", "self_closing", "slot", "item", "match")

    def __init__(self, name: bytes, start: int, end: int, is_end: bool) -> None:
        self.name = name
        self.start = start
        self.end = end
        self.is_end = is_end
        self.opens = False
        self.self_closing = False
        self.slot: str | None = None
        self.item: str | None = None
        self.match = -1


def _text(raw: bytes) -> str:
    return html.unescape(raw.decode("utf-8", "replace"))


def _unquote(value: bytes) -> bytes:
    if value[:1] in (b'"', b"'"):
        return value[1:-1]
    return value


def _parse_attributes(body: bytes, pos: int) -> tuple[int, dict[bytes, bytes], bool] | None:
    """Read attributes up to the tag's ``>``: (end, wanted attributes, self-closing) or None at EOF."""
    attrs: dict[bytes, bytes] = {}
    size = len(body)
    while True:
        skipped = _SKIP.match(body, pos)
        start = skipped.end() if skipped else pos
        if start >= size:
            return None
        if body[start] == _GT:
            self_closing = start > pos and body[start - 1] == _SLASH
            return start + 1, attrs, self_closing
        attr = _ATTR.match(body, start)
        if attr is None:  # unreachable: any byte but whitespace, '/' and '>' starts a name
            return None
        key = attr.group("name").lower()
        if key in _WANTED and key not in attrs:
            value = attr.group("value")
            attrs[key] = _unquote(value) if value is not None else b""
        pos = attr.end()


class _Compiler:
    """One compilation: scan tags, pair them, pick slots, cut chunks."""

    def __init__(self, body: bytes) -> None:
        self.body = body
        self.tags: list[_Tag] = []
        self.facts: dict[str, str] = {}
        self.title: str | None = None
        self.warnings: list[str] = []
        self.dropped_warnings = 0
        self._newlines: list[int] | None = None

    def run(self) -> PageSkeleton:
        self._scan()
        self._pair()
        if self.title is not None:
            self.facts.setdefault("title", self.title)
        return self._build()

    # -- scanning ---------------------------------------------------------------------------

    def _scan(self) -> None:
        body, size, pos = self.body, len(self.body), 0
        while pos < size:
            lt = body.find(b"<", pos)
            if lt < 0 or lt + 1 >= size:
                return
            following = body[lt + 1]
            if following in _LETTERS:
                next_pos = self._start_tag(lt)
            elif following == _SLASH:
                next_pos = self._end_tag(lt)
            elif following == _BANG:
                next_pos = self._markup_declaration(lt)
            elif following == _QUESTION:
                next_pos = self._until(b">", lt + 2)
            else:
                next_pos = lt + 1
            if next_pos < 0:
                return
            pos = next_pos

    def _until(self, marker: bytes, pos: int) -> int:
        found = self.body.find(marker, pos)
        return -1 if found < 0 else found + len(marker)

    def _markup_declaration(self, lt: int) -> int:
        body = self.body
        if body.startswith(b"<!--", lt):
            if body.startswith(b">", lt + 4):
                return lt + 5
            if body.startswith(b"->", lt + 4):
                return lt + 6
            end = _COMMENT_END.search(body, lt + 4)
            return -1 if end is None else end.end()
        if body.startswith(b"<![CDATA[", lt):
            return self._until(b"]]>", lt + 9)
        return self._until(b">", lt + 2)

    def _end_tag(self, lt: int) -> int:
        body = self.body
        if lt + 2 >= len(body):
            return -1
        if body[lt + 2] == _GT:
            return lt + 3
        if body[lt + 2] not in _LETTERS:
            return self._until(b">", lt + 2)
        name = _TAG_NAME.match(body, lt + 2)
        if name is None:
            return -1
        parsed = _parse_attributes(body, name.end())
        if parsed is None:
            return -1
        end = parsed[0]
        self.tags.append(_Tag(name.group().lower(), lt, end, is_end=True))
        return end

    def _start_tag(self, lt: int) -> int:
        body = self.body
        name_match = _TAG_NAME.match(body, lt + 1)
        if name_match is None:
            return lt + 1
        parsed = _parse_attributes(body, name_match.end())
        if parsed is None:
            return -1
        end, attrs, self_closing = parsed
        name = name_match.group().lower()
        tag = _Tag(name, lt, end, is_end=False)
        raw_text = name in _RAW_TEXT
        tag.self_closing = self_closing and not raw_text
        tag.opens = name not in _VOID and not tag.self_closing
        if b"data-slot" in attrs:
            tag.slot = _text(attrs[b"data-slot"]).strip()
        if b"data-item" in attrs:
            tag.item = _text(attrs[b"data-item"]).strip()
        self.tags.append(tag)
        if name == b"meta":
            self._meta_fact(attrs)
        if not raw_text:
            return end
        close = _RAW_END[name].search(body, end)
        if name == b"title" and self.title is None:
            text = body[end : close.start() if close else len(body)]
            self.title = " ".join(_text(text).split())
        if close is None:
            return -1
        return self._end_tag(close.start())

    def _meta_fact(self, attrs: dict[bytes, bytes]) -> None:
        key = _text(attrs.get(b"name", b"")).strip()
        if key[: len(_FACT_PREFIX)].lower() != _FACT_PREFIX or b"content" not in attrs:
            return
        fact = key[len(_FACT_PREFIX) :]
        if fact:
            self.facts.setdefault(fact, _text(attrs[b"content"]))

    # -- pairing and slots ------------------------------------------------------------------

    def _pair(self) -> None:
        """Match every end tag to the innermost open start tag of the same name."""
        open_by_name: dict[bytes, list[int]] = {}
        for index, tag in enumerate(self.tags):
            if tag.is_end:
                stack = open_by_name.get(tag.name)
                if stack:
                    self.tags[stack.pop()].match = index
            elif tag.opens:
                open_by_name.setdefault(tag.name, []).append(index)

    def _build(self) -> PageSkeleton:
        body, tags = self.body, self.tags
        chunks: list[bytes] = []
        slots: list[Slot] = []
        previous_end = 0
        outer_end, outer_name = -1, ""
        for index, tag in enumerate(tags):
            if tag.is_end or tag.slot is None:
                continue
            name = tag.slot
            if tag.start < outer_end:
                self._warn(
                    f"nested slot {_show(name)} inside slot {_show(outer_name)} ignored", tag
                )
            elif not tag.opens:
                kind = "void" if tag.name in _VOID else "self-closing"
                element = tag.name.decode("latin-1")
                self._warn(f"{kind} element <{element}> cannot be slot {_show(name)}", tag)
            elif tag.match < 0:
                self._warn(f"unclosed slot {_show(name)}", tag)
            elif not name:
                self._warn("empty slot name", tag)
            else:
                close = tags[tag.match]
                chunks.append(body[previous_end : tag.start])
                slots.append(self._slot(index, tag, close))
                previous_end = outer_end = close.end
                outer_name = name
        chunks.append(body[previous_end:])
        warnings = self.warnings
        if self.dropped_warnings:
            warnings.append(f"... and {self.dropped_warnings} more skeleton warnings")
        return PageSkeleton(body, tuple(chunks), tuple(slots), self.facts, tuple(warnings))

    def _slot(self, index: int, tag: _Tag, close: _Tag) -> Slot:
        body, tags = self.body, self.tags
        inner_start, inner_end = tag.end, close.start
        items: list[SlotItem] = []
        gaps: list[bytes] = []
        gap_start = inner_start
        position, stop = index + 1, tag.match
        while position < stop:
            child = tags[position]
            if child.is_end:
                position += 1
                continue
            if child.opens and not (position < child.match < stop):
                if child.item is not None:
                    self._warn(
                        f"unclosed item {_show(child.item)} in slot {_show(tag.slot)}", child
                    )
                position += 1
                continue
            if child.opens:
                child_end, position = tags[child.match].end, child.match + 1
            else:
                child_end, position = child.end, position + 1
            if child.item is not None:
                gaps.append(body[gap_start : child.start])
                items.append(SlotItem(child.item, body[child.start : child_end]))
                gap_start = child_end
        if items:
            gaps.append(body[gap_start:inner_end])
        return Slot(
            name=tag.slot or "",
            open_tag=body[tag.start : tag.end],
            inner=body[inner_start:inner_end],
            close_tag=body[close.start : close.end],
            items=tuple(items),
            item_gaps=tuple(gaps),
        )

    def _warn(self, message: str, tag: _Tag) -> None:
        if len(self.warnings) >= _MAX_WARNINGS:
            self.dropped_warnings += 1
            return
        self.warnings.append(f"{message} at line {self._line(tag.start)}")

    def _line(self, offset: int) -> int:
        if self._newlines is None:
            self._newlines = [match.start() for match in _NEWLINE.finditer(self.body)]
        return bisect_left(self._newlines, offset) + 1


def _show(name: str | None) -> str:
    name = name or ""
    if len(name) > _MAX_NAME_IN_WARNING:
        name = name[:_MAX_NAME_IN_WARNING] + "..."
    return repr(name)
