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
input; oddities become warnings. The reading itself (the token grammar, tags, closing end
tags) is `etalage.middleware.html_reading`.

Selector slots (a rule file's ``site.slot_selectors``) are found by a real parser and selector
engine (`etalage.middleware.selector_slots`), only for names no ``data-slot`` element on the
page has (data-slot wins). The start tag each selector found must be a start tag to the byte
reader too (not text inside a comment, a script, a title or an attribute value); from there
it is a slot like any other: closed by its matching end tag, its items read, cut into chunks.

A page rendered anew per request (a CSRF token, "3 items in cart") is recompiled from the
skeleton of its last version (`PageSkeleton.recompile`): the two are compared where they differ,
token by token, and when each changed token lies in a literal chunk and changes nothing the
compiler reads, the new skeleton is the old one with those chunks cut anew. Anything less
certain is left to a full compile.
"""

from __future__ import annotations

import hashlib
import re
from bisect import bisect_left, bisect_right
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from enum import Enum
from functools import cached_property
from itertools import accumulate

from etalage.middleware.html_reading import (
    CHILD,
    NOT_A_TAG_ONE,
    RAW_TEXT,
    SKIP,
    SLOT_TAG,
    TOKEN,
    VOID,
    WHOLE_CHILD,
    Closer,
    PageBytes,
    first_close,
    meta_fact,
    raw_text_end,
    title_text,
    wanted_value,
)
from etalage.middleware.selector_slots import SelectorMatch, find_selector_elements

_FACT_HINT = re.compile(rb"&|(?i:etalage:)")  # a meta tag with neither states no fact
_NEWLINE = re.compile(rb"\n")

_MAX_WARNINGS = 20
_MAX_NAME_IN_WARNING = 60
# Reordered inners kept per slot: at most this many, and this many bytes of them (a slot's
# memory stays bounded however many orders visitors bring).
_ARRANGEMENTS_KEPT = 64
_ARRANGED_BYTES_KEPT = 64 * 1024


def page_digest(html: bytes) -> bytes:
    """The BLAKE2b-160 digest of a page's bytes (`SkeletonCache.content_key` keys pages by it)."""
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
        key = tuple(order)
        known = self._arrangements
        html = known.get(key)
        if html is None:  # visitors share a few orders (their top interests): made once each
            html = self._arranged(key)
            kept = min(_ARRANGEMENTS_KEPT, _ARRANGED_BYTES_KEPT // len(self.inner))
            if len(known) >= kept:
                known.clear()
            if kept:
                known[key] = html
        return html

    @cached_property
    def _arrangements(self) -> dict[tuple[str, ...], bytes]:
        return {}

    def _arranged(self, order: Sequence[str]) -> bytes:
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


class Fallback(Enum):
    """Why `PageSkeleton.recompile` leaves a page to a full compile."""

    NOT_COMPILED = "the skeleton was not made by PageSkeleton.compile"
    SELECTORS = "selector slots were looked for in the page"
    IN_SLOT = "a change inside a slot"
    RETOKENIZED = "a change that makes the page read as other tokens"
    MARKUP = "a changed '<'"
    READ = "a change where the compiler reads (data-slot, a meta fact, the title)"
    LINES = "a change that moves the lines the warnings name"
    SCATTERED = "changes in too many places"
    COSTLY = "reading the changes would take more than compiling the page"


class PageSkeleton:
    """A page compiled once: literal chunks around slots, page facts and compile warnings.

    ``chunks[0] + slot0 + chunks[1] + ... + chunks[-1]`` (each slot as open tag, inner,
    close tag) is the original page, byte for byte.
    """

    __slots__ = (
        "source",
        "chunks",
        "slots",
        "slot_names",
        "selectors",
        "facts",
        "warnings",
        "_digest",
        "_piece_digests",
        "_stale_chunks",
        "_pieces",
        "_slot_pieces",
        "_spans",
        "_hints",
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
        self.selectors = selectors
        self.chunks = chunks
        self.slots = slots
        self.slot_names = frozenset(slot.name for slot in slots)
        self.facts = facts
        self.warnings = warnings
        self._digest = digest
        # The digest of each chunk and slot in page order, 20 bytes each (None: not made yet),
        # but for those of the stale chunks (changed by a recompile).
        self._piece_digests: bytes | None = None
        self._stale_chunks: tuple[int, ...] = ()
        pieces: list[bytes] = [chunks[0]]
        slot_pieces: list[tuple[int, str]] = []
        for slot, chunk in zip(slots, chunks[1:], strict=True):
            slot_pieces.append((len(pieces) + 1, slot.name))
            pieces += (slot.open_tag, slot.inner, slot.close_tag, chunk)
        self._pieces = tuple(pieces)
        self._slot_pieces = tuple(slot_pieces)
        self._spans: tuple[list[int], list[int]] | None = None
        self._hints: _Hints | None = None  # None: not compiled, so never recompiled

    @classmethod
    def compile(
        cls,
        html: bytes,
        digest: bytes | None = None,
        selectors: Mapping[str, str] | None = None,
    ) -> PageSkeleton:
        """Compile `html` into a skeleton; never raises, whatever the bytes.

        `digest`, when given, is the skeleton's `digest` instead of the one it would make.
        `selectors` maps slot names to CSS selectors (a rule file's ``site.slot_selectors``):
        the first element each one matches is a slot too, unless the page has a ``data-slot``
        element of that name. The skeleton keeps them as `selectors` (None when empty).
        """
        return _Compiler(bytes(html)).run(digest, selectors or None)

    def recompile(self, html: bytes) -> PageSkeleton | Fallback:
        """The skeleton of `html`, a new version of this page, built from this one when that is
        sure to give what `compile` would (with this skeleton's selectors); otherwise why not.

        The versions are compared where they differ, token by token. Each changed token must
        lie in a literal chunk, be of the same kind in both (text, a tag of the same name, a
        comment...), contain no changed ``<``, and change nothing the compiler reads: no
        ``data-slot`` attribute, meta fact, title text, nor the bytes ``data-slot``, ``<meta``
        or ``<title`` in or across the change; with warnings, the same number of lines. The
        new skeleton then has the same slots, facts and warnings, and the changed chunks.
        A page in which selector slots were looked for is left to `compile`.
        """
        html = bytes(html)
        if html == self.source:
            return self
        hints = self._hints
        if hints is None:
            return Fallback.NOT_COMPILED
        if hints.selectors_ran:
            return Fallback.SELECTORS
        return _Recompiler(self, hints, html).run()

    @property
    def digest(self) -> bytes:
        """A BLAKE2b-160 digest of the page, made of one digest per chunk and per slot (a
        recompiled page keeps those of the chunks that did not change): equal pages compiled
        with equal selectors have equal digests, different pages different ones, barring a
        hash collision. Made on first use, unless the skeleton was given one.
        """
        digest = self._digest
        if digest is None:
            chunks, parts = self.chunks, self._piece_digests
            if parts is None:
                pieces = [_digest_of(chunks[0])]
                for slot, chunk in zip(self.slots, chunks[1:], strict=True):
                    pieces.append(_digest_of(slot.open_tag, slot.inner, slot.close_tag))
                    pieces.append(_digest_of(chunk))
                parts = b"".join(pieces)
            elif self._stale_chunks:
                fresh = bytearray(parts)
                for index in self._stale_chunks:
                    fresh[40 * index : 40 * index + 20] = _digest_of(chunks[index])
                parts = bytes(fresh)
            self._piece_digests, self._stale_chunks = parts, ()
            digest = self._digest = _digest_of(parts)
        return digest

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

    def _chunk_spans(self) -> tuple[list[int], list[int]]:
        """Where each chunk starts in `source`, and where each one ends."""
        spans = self._spans
        if spans is None:
            offsets = list(accumulate(map(len, self._pieces), initial=0))
            spans = self._spans = (offsets[0::4], offsets[1::4])
        return spans

    def __repr__(self) -> str:
        return f"PageSkeleton(slots={sorted(self.slot_names)!r}, facts={self.facts!r})"


_BLAKE2B_160 = hashlib.blake2b(digest_size=20)  # copied: cheaper than making one each time


def _digest_of(*parts: bytes) -> bytes:
    """The BLAKE2b-160 digest of `parts` one after the other."""
    digest = _BLAKE2B_160.copy()
    for part in parts:
        digest.update(part)
    return digest.digest()


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


class _Compiler:
    """One compilation: read the page, close its slots, read their items, cut chunks."""

    def __init__(self, body: bytes) -> None:
        self.body = body
        self.page = PageBytes(body)
        self.facts: dict[str, str] = {}
        self.title: str | None = None
        self.warnings: list[str] = []
        self.dropped_warnings = 0
        self.marks: list[int] = []  # where the reading stopped at a tag: token boundaries
        self.selectors_ran = False
        self._closer: Closer | None = None
        self._newlines: list[int] | None = None

    def run(self, digest: bytes | None, selectors: Mapping[str, str] | None) -> PageSkeleton:
        slot_tags = self._read_page()
        if self.title is not None:
            self.facts.setdefault("title", self.title)
        if selectors:
            marked = {tag.slot for tag in slot_tags}
            wanted = {slot: css for slot, css in selectors.items() if slot not in marked}
            if wanted:
                self.selectors_ran = True
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
        skipped = SKIP.match(body, boundary, start)
        if skipped is None or skipped.end() != start:
            return None
        tag = SLOT_TAG.match(body, start)
        if tag is None or tag.group("end"):
            return None
        name = tag.group("name").lower()
        if name.decode("utf-8", "surrogateescape").lower() != match.tag:
            return None
        raw = name in RAW_TEXT
        opens = name not in VOID and (raw or not tag.group("close").endswith(b"/"))
        slot_tag = _SlotTag(name, start, tag.end(), opens, match.slot)
        if raw:
            text_end, after = raw_text_end(body, name, tag.end())
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
        skip, read_tag = SKIP.match, SLOT_TAG.match
        slot_tags: list[_SlotTag] = []
        marks = self.marks
        pending: _SlotTag | None = None
        depth = pos = index = skipped_bytes = 0
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
            skipped_bytes += stop - pos
            tag = read_tag(body, stop)
            if tag is None:
                if stop == target and body[stop] != 0x3C:  # "data-slot" in text
                    pos = stop + 1
                    continue
                other = NOT_A_TAG_ONE.match(body, stop)
                if other is None:  # markup left open up to the end of the page
                    break
                pos = other.end()
                continue
            marks.append(stop)
            pos = tag.end()
            end, name, wanted, close = tag.group("end", "name", "wanted", "close")
            name = name.lower()
            if end:
                if pending is not None and name == pending.name:
                    depth -= 1
                    if depth == 0:
                        pending.close, pending.paired, pending = (stop, pos), True, None
                continue
            raw = name in RAW_TEXT
            opens = name not in VOID and (raw or not close.endswith(b"/"))
            slot_tag = None
            if wanted is not None:
                slot_tag = _SlotTag(name, stop, pos, opens, wanted_value(tag))
                slot_tag.paired = raw
                slot_tags.append(slot_tag)
            if pending is not None and name == pending.name and opens:
                depth += 1
            if raw:
                text_end, after = raw_text_end(body, name, pos)
                if name == b"title" and self.title is None:
                    self.title = title_text(body[pos:text_end])
                if after < 0:
                    break
                if slot_tag is not None:
                    slot_tag.close = (text_end, after)
                pos = after
            elif name == b"meta":
                if _FACT_HINT.search(body, stop, pos) is not None:
                    fact = meta_fact(body, tag.end("name"))
                    if fact is not None:
                        self.facts.setdefault(*fact)
            elif slot_tag is not None and opens and pending is None:
                close_tag = first_close(page, name, pos, targets[bisect_left(targets, pos)])
                if close_tag is not None:  # nothing else to read in the slot: on after it
                    slot_tag.close, slot_tag.paired = close_tag, True
                    pos = close_tag[1]
                else:
                    pending, depth = slot_tag, 1
                    start_needle, end_needle = b"<" + name, b"</" + name
                    next_open = next_close = -1
        if pending is not None:
            pending.paired = True
        page.skipped += skipped_bytes
        return slot_tags

    def _close(self, tag: _SlotTag) -> tuple[int, int] | None:
        if tag.paired:
            return tag.close
        if self._closer is None:
            self._closer = Closer(self.page, 0, self.page.size)
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
                kind = "void" if tag.name in VOID else "self-closing"
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
        skeleton = PageSkeleton(
            body, tuple(chunks), tuple(slots), self.facts, tuple(warnings), digest, selectors
        )
        marks, chunk_marks = self.marks, []
        for start, end in zip(*skeleton._chunk_spans(), strict=True):
            first, after = bisect_left(marks, start), bisect_right(marks, end)
            chunk_marks.append(tuple(mark - start for mark in marks[first:after]))
        budget = self.page.skipped + max(_RECOMPILE_SLACK, len(body) // 2)
        skeleton._hints = _Hints(tuple(chunk_marks), (), self.selectors_ran, budget)
        return skeleton

    def _slot(self, tag: _SlotTag, close: tuple[int, int]) -> Slot:
        body, (close_start, close_end) = self.body, close
        open_tag, inner = body[tag.start : tag.end], body[tag.end : close_start]
        close_tag = body[close_start:close_end]
        if tag.name in RAW_TEXT or self.page.lower.find(b"data-item", tag.end, close_start) < 0:
            return Slot(tag.slot, open_tag, inner, close_tag)
        items, gaps = self._items(tag, close_start)
        return Slot(tag.slot, open_tag, inner, close_tag, items, gaps)

    def _items(self, slot: _SlotTag, limit: int) -> tuple[tuple[SlotItem, ...], tuple[bytes, ...]]:
        """The children of a slot carrying data-item, and the bytes around them.

        A child is a start tag right inside the slot or after the end of a closed child; a
        child that is not closed inside the slot is no item, its content is read as the slot's.
        """
        page, body = self.page, self.body
        closer: Closer | None = None
        whole = True  # children are read whole until one is not a plain closed element
        searches = page.search_limit(slot.end, limit)  # then the closer
        items: list[SlotItem] = []
        gaps: list[bytes] = []
        gap_start = pos = slot.end
        while True:
            child = WHOLE_CHILD.match(body, pos, limit) if whole else None
            if child is not None:
                start, pos = child.start("tag"), child.end()
            else:
                whole = False
                child = CHILD.match(body, pos, limit)
                assert child is not None  # the pattern matches the empty string
                start = child.start("tag")
                if start < 0:  # the slot's end (a closed slot holds whole tokens only)
                    break
                pos = child.end()
                name = child.group("name").lower()
                raw = name in RAW_TEXT
                if name not in VOID and (raw or not child.group("close").endswith(b"/")):
                    if raw:
                        text_end, after = raw_text_end(body, name, pos)
                        close = None if after < 0 else (text_end, after)
                    else:
                        close = None
                        if page.searched < searches:
                            close = first_close(page, name, pos, limit)
                        if close is None:
                            if closer is None:
                                closer = Closer(page, slot.end, limit)
                            close = closer.close(name, start, pos)
                    if close is None:
                        if child.group("wanted") is not None:
                            key, where = _show(wanted_value(child)), f"in slot {_show(slot.slot)}"
                            self._warn(f"unclosed item {key} {where}", start)
                        if raw:
                            break
                        continue
                    pos = close[1]
            if child.group("wanted") is not None:
                gaps.append(body[gap_start:start])
                items.append(SlotItem(wanted_value(child), body[start:pos]))
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


def _show(name: str | None) -> str:
    name = name or ""
    if len(name) > _MAX_NAME_IN_WARNING:
        name = name[:_MAX_NAME_IN_WARNING] + "..."
    return repr(name)


# -- recompiling a new version of a page ---------------------------------------------------------

_MAX_CHANGED_TOKENS = 16
_RECOMPILE_SLACK = 1024  # at least, bytes a recompile may skip beyond what the compile skipped
_GALLOP = 64  # bytes compared in the first step of a search for the next difference
_TAIL_GALLOP = 8  # the same from the end of a changed token (tokens are short)
_TEXT_READING = ("text",)
_OTHER_READING = ("not a tag",)


_Reading = tuple[object, ...]  # what the compiler reads of a token (see `_reading`)
# Where a recompile changed a token (in the new version): its first changed byte, how many
# bytes of it after the change stayed the same, where it starts and ends, how it is read.
_Hint = tuple[int, int, int, int, _Reading | None]


class _Hints:
    """What recompiling the next version of a page starts from.

    `marks` holds, per chunk, offsets in it known to be token boundaries: where the compiler
    read a tag, or a token changed by a recompile starts. `changes` holds the tokens the last
    recompile changed, in page order (see `_Hint`): the next version most likely changes them
    again, and they need not be looked for nor read again in this one. `budget` is how many
    bytes a recompile may skip token by token to find the changed tokens: what compiling the
    page skipped and half as much as the page again (a page with few targets is compiled
    without reading most of it; a change found once is read from its token's start after).
    """

    __slots__ = ("marks", "changes", "selectors_ran", "budget")

    def __init__(
        self,
        marks: tuple[tuple[int, ...], ...],
        changes: tuple[_Hint, ...],
        selectors_ran: bool,
        budget: int,
    ) -> None:
        self.marks = marks
        self.changes = changes
        self.selectors_ran = selectors_ran
        self.budget = budget


class _Recompiler:
    """One recompile: a new version of a page read against the skeleton of the last one.

    Both versions are walked in step: from the first byte where they differ (looked for first
    where the last recompile found one), back to the start of the token holding it (read from
    a token boundary of the old version: the chunk's start, a mark or the end of the token
    changed before), then that token is read in both, compared and stepped over, until the
    rest of both is the same.
    """

    def __init__(self, skeleton: PageSkeleton, hints: _Hints, new: bytes) -> None:
        self.skeleton = skeleton
        self.hints = hints
        self.new = new
        # Each changed token: its chunk, its start and end in the old version, the length it
        # gains, and its hint for the next recompile.
        self.changes: list[tuple[int, int, int, int, _Hint]] = []

    def run(self) -> PageSkeleton | Fallback:
        skeleton, hints, new = self.skeleton, self.hints, self.new
        old = skeleton.source
        starts, ends = skeleton._chunk_spans()
        lines = bool(skeleton.warnings)
        old_size, new_size = len(old), len(new)
        known, seen, budget = hints.changes, 0, hints.budget
        x = y = 0  # old[x:] and new[y:] are read alike, token by token, from here
        for _ in range(_MAX_CHANGED_TOKENS):
            if (x or y) and old_size - x == new_size - y and new.endswith(memoryview(old)[x:]):
                return self._skeleton()
            while seen < len(known) and known[seen][0] < x:
                seen += 1
            hint = known[seen] if seen < len(known) else None
            d = x + _common_length(old, x, new, y, -1 if hint is None else hint[0])
            e = d + y - x
            k = bisect_right(starts, d) - 1
            if d > ends[k]:
                return Fallback.IN_SLOT
            old_reading: _Reading | Fallback | None = None
            if hint is not None and x <= hint[2] <= d < hint[3] and _from_mark(old, hint[2], d):
                t, old_end, old_reading, same_hint = hint[2], hint[3], hint[4], hint[1]
                found = True  # the token changed last time, and how it reads
            else:
                at = _token_at(old, d, max(x, starts[k]), starts[k], hints.marks[k], budget)
                if at is None:
                    return Fallback.COSTLY
                t, before, cost = at
                found, same_hint, budget = before is not None, -1, budget - cost
                old_end = t if before is None else before.end()
            u = t + y - x
            after = TOKEN.match(new, u)
            new_end = u if after is None else after.end()
            if found and old_end <= d:  # a token that only looked at the changed byte
                if new_end - u != old_end - t:
                    return Fallback.RETOKENIZED
                x, y = old_end, new_end
                continue
            if found and old_reading is None:
                old_reading = _reading(old, t, old_end)
            new_reading = None if after is None else _reading(new, u, new_end)
            if isinstance(old_reading, tuple) and old_reading == new_reading:
                if old_end > ends[k]:
                    return Fallback.IN_SLOT
                same = _common_tail(old, d, old_end, new, e, new_end, same_hint)
                problem = _changed(old, d, old_end - same, new, e, new_end - same, lines)
            elif t == d and new_reading == _TEXT_READING:  # text put in before the old token
                old_end, same = t, 0
                problem = _changed(old, d, d, new, e, new_end, lines)
            elif t == d and old_reading == _TEXT_READING:  # text taken out
                if old_end > ends[k]:
                    return Fallback.IN_SLOT
                new_end, same = u, 0
                problem = _changed(old, d, old_end, new, e, e, lines)
            elif isinstance(old_reading, Fallback):
                return old_reading
            elif isinstance(new_reading, Fallback):
                return new_reading
            elif old_reading is not None and new_reading is not None:
                # the same tag stating another meta fact or title, or another token
                same_tag = old_reading[0] == "tag" and old_reading[:-1] == new_reading[:-1]
                return Fallback.READ if same_tag else Fallback.RETOKENIZED
            else:
                return Fallback.RETOKENIZED
            if problem is not None:
                return problem
            gain = new_end - u - (old_end - t)
            reading = new_reading if isinstance(new_reading, tuple) else None
            self.changes.append((k, t, old_end, gain, (e, same, u, new_end, reading)))
            x, y = old_end, new_end
        return Fallback.SCATTERED

    def _skeleton(self) -> PageSkeleton:
        """The new version's skeleton: the old one with the changed chunks cut anew."""
        old, hints, new, changes = self.skeleton, self.hints, self.new, self.changes
        starts, ends = old._chunk_spans()
        chunks, pieces, marks = list(old.chunks), list(old._pieces), list(hints.marks)
        new_starts, new_ends = starts, ends  # copied once chunks move
        stale = old._stale_chunks
        shift = index = 0
        while index < len(changes):
            k, first, gain = changes[index][0], index, 0
            while index < len(changes) and changes[index][0] == k:
                gain += changes[index][3]
                index += 1
            chunks[k] = pieces[4 * k] = new[starts[k] + shift : ends[k] + shift + gain]
            marks[k] = _moved_marks(marks[k], starts[k], changes[first:index])
            if k not in stale:
                stale += (k,)
            shift += gain
            if gain:  # the chunks from here on moved
                if new_starts is starts:
                    new_starts, new_ends = list(starts), list(ends)
                new_ends[k] = ends[k] + shift
                new_starts[k + 1 :] = [start + shift for start in starts[k + 1 :]]
                new_ends[k + 1 :] = [end + shift for end in ends[k + 1 :]]
        skeleton = PageSkeleton.__new__(PageSkeleton)
        skeleton.source = new
        skeleton.selectors = old.selectors
        skeleton.chunks = tuple(chunks)
        skeleton.slots = old.slots
        skeleton.slot_names = old.slot_names
        skeleton.facts = old.facts
        skeleton.warnings = old.warnings
        skeleton._digest = None
        skeleton._piece_digests = old._piece_digests
        skeleton._stale_chunks = stale
        skeleton._pieces = tuple(pieces)
        skeleton._slot_pieces = old._slot_pieces
        skeleton._spans = (new_starts, new_ends)
        changed = tuple([change[4] for change in changes])
        skeleton._hints = _Hints(tuple(marks), changed, False, hints.budget)
        return skeleton


def _from_mark(old: bytes, mark: int, d: int) -> bool:
    """Whether the mark `mark` is a token boundary to read byte `d` from: not when it is `d`
    itself and the byte before it a "<", which would have been text because of byte `d`."""
    return mark < d or old[d - 1 : d] != b"<"


def _token_at(
    old: bytes, d: int, begin: int, chunk_start: int, marks: Sequence[int], budget: int
) -> tuple[int, re.Match[bytes] | None, int] | None:
    """Where the token of `old` holding byte `d` starts (`d` itself between tokens), the token
    there and how many bytes were skipped to it, read from `begin` (a boundary) or the chunk's
    last mark before `d` if later (and `_from_mark`); None if that is more than `budget`."""
    index = bisect_right(marks, d - chunk_start) - 1
    if index >= 0 and not _from_mark(old, marks[index] + chunk_start, d):
        index = bisect_left(marks, d - chunk_start) - 1  # before every mark at `d`
    if index >= 0 and marks[index] + chunk_start > begin:
        begin = marks[index] + chunk_start
    token = TOKEN.match(old, begin)
    if token is not None and token.end() > d:
        return begin, token, 0
    if d - begin > budget:
        return None
    skipped = SKIP.match(old, begin, d)
    assert skipped is not None  # the pattern matches the empty string
    return skipped.end(), TOKEN.match(old, skipped.end()), d - begin


def _moved_marks(
    marks: tuple[int, ...],
    chunk_start: int,
    changes: Sequence[tuple[int, int, int, int, _Hint]],
) -> tuple[int, ...]:
    """A chunk's marks where they are after its `changes`: those inside a changed token gone,
    the start of each changed token (a boundary in both versions) added, each place once.

    (Text taken out leaves the token after it where the text started: that mark is kept once,
    or marks would pile up version after version, and `_token_at` would step back from one
    copy of a mark it may not read from onto another.)"""
    moved: list[int] = []
    shift = kept = 0
    for _, start, end, gain, _ in changes:
        start, end = start - chunk_start, end - chunk_start
        before = bisect_left(marks, start, kept)
        moved += [mark + shift for mark in marks[kept:before]] if shift else marks[kept:before]
        if not moved or moved[-1] != start + shift:  # text taken out just before
            moved.append(start + shift)
        kept = bisect_left(marks, end, before) if end > start else before
        shift += gain
        while kept < len(marks) and marks[kept] + shift == moved[-1]:  # text taken out
            kept += 1
    moved += [mark + shift for mark in marks[kept:]] if shift else marks[kept:]
    return tuple(moved)


def _reading(body: bytes, start: int, end: int) -> _Reading | Fallback:
    """What the compiler reads of the token ``body[start:end]``: its kind and, for a tag, its
    name, whether it is an end tag or closes itself, and the meta fact or title it states.
    A tag with a ``data-slot`` attribute is read for what it is (a slot, a warning): `READ`."""
    if body[start] != 0x3C:  # "<"
        return _TEXT_READING
    tag = SLOT_TAG.match(body, start)
    if tag is None:
        return _OTHER_READING  # a comment, a CDATA section, a "<" that is text
    end_tag, name, wanted, close = tag.group("end", "name", "wanted", "close")
    if wanted is not None:
        return Fallback.READ
    name = name.lower()
    stated: object = None
    if not end_tag and name in RAW_TEXT:
        if name == b"title":
            stated = title_text(body[tag.end() : raw_text_end(body, name, tag.end())[0]])
    elif tag.end() != end:
        return Fallback.RETOKENIZED
    elif name == b"meta" and not end_tag:
        segment = body[start:end]  # as _FACT_HINT finds: a meta tag with neither states no fact
        if b"&" in segment or b"etalage:" in segment.lower():
            stated = meta_fact(body, tag.end("name"))
    return ("tag", end_tag, name, close.endswith(b"/"), stated)


def _changed(
    old: bytes, start: int, end: int, new: bytes, new_start: int, new_end: int, lines: bool
) -> Fallback | None:
    """Why ``old[start:end]`` may not become ``new[new_start:new_end]`` inside a token of the
    same reading, if it may not: a ``<`` in either, a byte the compiler searches for in or
    across either, or (with `lines`: warnings name lines) another number of lines."""
    if old.find(b"<", start, end) >= 0 or new.find(b"<", new_start, new_end) >= 0:
        return Fallback.MARKUP
    if _near_target(old, start, end) or _near_target(new, new_start, new_end):
        return Fallback.READ
    if lines and old.count(b"\n", start, end) != new.count(b"\n", new_start, new_end):
        return Fallback.LINES
    return None


def _near_target(body: bytes, start: int, end: int) -> bool:
    """Whether ``data-slot``, ``<meta`` or ``<title`` (any case; the last two with the byte
    after them, which tells whether they are a tag's name) overlaps ``body[start:end]``
    (which holds no "<") or, when that is empty, spans position `start`."""
    before = body.find(b"<", max(0, start - 6), start)  # where "<meta" or "<title" may start
    while before >= 0:
        head = body[before : before + 6].lower()
        if (head[:5] == b"<meta" and before + 6 > start) or (
            head == b"<title" and before + 7 > start
        ):
            return True
        before = body.find(b"<", before + 1, start)
    if body.find(b"-", max(0, start - 4), end + 4) < 0:  # the "-" of "data-slot"
        return False
    low = max(0, start - 8)
    window = body[low : end + 8].lower()
    found = window.find(b"data-slot")
    while found >= 0:
        if low + found < max(end, start + 1) and low + found + 9 > start:
            return True
        found = window.find(b"data-slot", found + 1)
    return False


def _common_length(a: bytes, i: int, b: bytes, j: int, hint: int = -1) -> int:
    """How many bytes ``a[i:]`` and ``b[j:]`` have in common at their start: compared a block
    at a time (a block doubling while they match), then halving the block that differs. A
    `hint` (a place in `a` where they may differ) is tried first."""
    size = min(len(a) - i, len(b) - j)
    view = memoryview(a)
    done = 0
    if i <= hint < i + size:
        if not b.startswith(view[i:hint], j):
            size = hint - i  # they differ before the hint
        elif a[hint] != b[j + hint - i]:
            return hint - i
        else:
            done = hint - i + 1
    step = _GALLOP
    while done < size:
        step = min(step, size - done)
        if b.startswith(view[i + done : i + done + step], j + done):
            done += step
            step *= 2
            continue
        low, high = done, done + step - 1  # the common length is in low..high
        while low < high:
            middle = (low + high + 1) // 2
            if b.startswith(view[i + low : i + middle], j + low):
                low = middle
            else:
                high = middle - 1
        return low
    return size


def _common_tail(a: bytes, i: int, a_end: int, b: bytes, j: int, b_end: int, hint: int) -> int:
    """How many bytes ``a[i:a_end]`` and ``b[j:b_end]`` have in common at their end, found as
    `_common_length` finds them; `hint` (a length they may have in common) is tried first."""
    size = min(a_end - i, b_end - j)
    view = memoryview(a)
    done = 0
    if 0 <= hint < size:
        if not b.endswith(view[a_end - hint : a_end], j, b_end):
            size = hint
        elif a[a_end - hint - 1] != b[b_end - hint - 1]:
            return hint
        else:
            done = hint + 1
    step = _TAIL_GALLOP
    while done < size:
        step = min(step, size - done)
        if b.endswith(view[a_end - done - step : a_end - done], j, b_end - done):
            done += step
            step *= 2
            continue
        low, high = done, done + step - 1
        while low < high:
            middle = (low + high + 1) // 2
            if b.endswith(view[a_end - middle : a_end - low], j, b_end - low):
                low = middle
            else:
                high = middle - 1
        return low
    return size
