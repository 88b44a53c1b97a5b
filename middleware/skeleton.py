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
skeleton of its last version by `etalage.middleware.recompile`, from the `RecompileHints` a
compile leaves and through `PageSkeleton.with_chunks`.
"""

from __future__ import annotations

import hashlib
import re
from bisect import bisect_left, bisect_right
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import cached_property
from itertools import accumulate

from etalage.middleware.html_reading import (
    CHILD,
    NOT_A_TAG_ONE,
    RAW_TEXT,
    SKIP,
    SLOT_TAG,
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


_RECOMPILE_SLACK = 1024  # at least, bytes a recompile may skip beyond what the compile skipped

#: Where a recompile changed a token (in the new version): its first changed byte, how many
#: bytes of it after the change stayed the same, where it starts and ends, and what the
#: compiler reads of it (None: not known).
ChangeHint = tuple[int, int, int, int, "tuple[object, ...] | None"]


class RecompileHints:
    """What recompiling the next version of a page starts from (`etalage.middleware.recompile`).

    `marks` holds, per chunk, offsets in it known to be token boundaries: where the compiler
    read a tag, or a token changed by a recompile starts. `changes` holds the tokens the last
    recompile changed, in page order (see `ChangeHint`): the next version most likely changes them
    again, and they need not be looked for nor read again in this one. `budget` is how many
    bytes a recompile may skip token by token to find the changed tokens: what compiling the
    page skipped and half as much as the page again (a page with few targets is compiled
    without reading most of it; a change found once is read from its token's start after).
    """

    __slots__ = ("marks", "changes", "selectors_ran", "budget")

    def __init__(
        self,
        marks: tuple[tuple[int, ...], ...],
        changes: tuple[ChangeHint, ...],
        selectors_ran: bool,
        budget: int,
    ) -> None:
        self.marks = marks
        self.changes = changes
        self.selectors_ran = selectors_ran
        self.budget = budget


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
        "hints",
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
        #: What recompiling the next version starts from (None: not compiled, so never
        #: recompiled).
        self.hints: RecompileHints | None = None

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

    def with_chunks(
        self,
        source: bytes,
        changed: Mapping[int, bytes],
        spans: tuple[list[int], list[int]],
        hints: RecompileHints,
    ) -> PageSkeleton:
        """The skeleton of `source`, a version of this page that differs from it only inside
        the chunks `changed` (index -> the chunk's new bytes): the same slots, facts,
        warnings and selectors, chunks that start and end at `spans` (as `chunk_spans`),
        and `hints` to recompile the next version from. The digests of the chunks that did
        not change are kept."""
        chunks, pieces, stale = list(self.chunks), list(self._pieces), self._stale_chunks
        for index, chunk in changed.items():
            chunks[index] = pieces[4 * index] = chunk
            if index not in stale:
                stale += (index,)
        skeleton = PageSkeleton.__new__(PageSkeleton)
        skeleton.source = source
        skeleton.selectors = self.selectors
        skeleton.chunks = tuple(chunks)
        skeleton.slots = self.slots
        skeleton.slot_names = self.slot_names
        skeleton.facts = self.facts
        skeleton.warnings = self.warnings
        skeleton._digest = None
        skeleton._piece_digests = self._piece_digests
        skeleton._stale_chunks = stale
        skeleton._pieces = tuple(pieces)
        skeleton._slot_pieces = self._slot_pieces
        skeleton._spans = spans
        skeleton.hints = hints
        return skeleton

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

    def chunk_spans(self) -> tuple[list[int], list[int]]:
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
        for start, end in zip(*skeleton.chunk_spans(), strict=True):
            first, after = bisect_left(marks, start), bisect_right(marks, end)
            chunk_marks.append(tuple(mark - start for mark in marks[first:after]))
        budget = self.page.skipped + max(_RECOMPILE_SLACK, len(body) // 2)
        skeleton.hints = RecompileHints(tuple(chunk_marks), (), self.selectors_ran, budget)
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
