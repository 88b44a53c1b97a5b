"""Recompile a new version of a page from the skeleton of its last version.

A page rendered anew per request (a CSRF token, "3 items in cart") differs from its last
version in a few tokens. `recompile` compares the two where they differ, token by token, and
when each changed token lies in a literal chunk and changes nothing the compiler reads, the
new skeleton is the old one with those chunks cut anew (`PageSkeleton.with_chunks`). Anything
less certain is left to a full compile (`PageSkeleton.compile`), and `recompile` says why
(`Fallback`). What a compile records for this is `RecompileHints`.
"""

from __future__ import annotations

import re
from bisect import bisect_left, bisect_right
from collections.abc import Sequence
from enum import Enum

from etalage.middleware.html_reading import (
    RAW_TEXT,
    SKIP,
    SLOT_TAG,
    TOKEN,
    meta_fact,
    raw_text_end,
    title_text,
)
from etalage.middleware.skeleton import ChangeHint, PageSkeleton, RecompileHints

_MAX_CHANGED_TOKENS = 16
_GALLOP = 64  # bytes compared in the first step of a search for the next difference
_TAIL_GALLOP = 8  # the same from the end of a changed token (tokens are short)
_TEXT_READING = ("text",)
_OTHER_READING = ("not a tag",)

_Reading = tuple[object, ...]  # what the compiler reads of a token (see `_reading`)


class Fallback(Enum):
    """Why `recompile` leaves a page to a full compile."""

    NOT_COMPILED = "the skeleton was not made by PageSkeleton.compile"
    SELECTORS = "selector slots were looked for in the page"
    IN_SLOT = "a change inside a slot"
    RETOKENIZED = "a change that makes the page read as other tokens"
    MARKUP = "a changed '<'"
    READ = "a change where the compiler reads (data-slot, a meta fact, the title)"
    LINES = "a change that moves the lines the warnings name"
    SCATTERED = "changes in too many places"
    COSTLY = "reading the changes would take more than compiling the page"


def recompile(last: PageSkeleton, html: bytes) -> PageSkeleton | Fallback:
    """The skeleton of `html`, a new version of the page `last` is the skeleton of, built from
    `last` when that is sure to give what `PageSkeleton.compile` would (with the selectors of
    `last`); otherwise why not.

    The versions are compared where they differ, token by token. Each changed token must
    lie in a literal chunk, be of the same kind in both (text, a tag of the same name, a
    comment...), contain no changed ``<``, and change nothing the compiler reads: no
    ``data-slot`` attribute, meta fact, title text, nor the bytes ``data-slot``, ``<meta``
    or ``<title`` in or across the change; with warnings, the same number of lines. The
    new skeleton then has the same slots, facts and warnings, and the changed chunks.
    A page in which selector slots were looked for is left to `PageSkeleton.compile`.
    """
    html = bytes(html)
    if html == last.source:
        return last
    hints = last.hints
    if hints is None:
        return Fallback.NOT_COMPILED
    if hints.selectors_ran:
        return Fallback.SELECTORS
    return _Recompiler(last, hints, html).run()


class _Recompiler:
    """One recompile: a new version of a page read against the skeleton of the last one.

    Both versions are walked in step: from the first byte where they differ (looked for first
    where the last recompile found one), back to the start of the token holding it (read from
    a token boundary of the old version: the chunk's start, a mark or the end of the token
    changed before), then that token is read in both, compared and stepped over, until the
    rest of both is the same.
    """

    def __init__(self, skeleton: PageSkeleton, hints: RecompileHints, new: bytes) -> None:
        self.skeleton = skeleton
        self.hints = hints
        self.new = new
        # Each changed token: its chunk, its start and end in the old version, the length it
        # gains, and its hint for the next recompile.
        self.changes: list[tuple[int, int, int, int, ChangeHint]] = []

    def run(self) -> PageSkeleton | Fallback:
        skeleton, hints, new = self.skeleton, self.hints, self.new
        old = skeleton.source
        starts, ends = skeleton.chunk_spans()
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
        starts, ends = old.chunk_spans()
        chunks: dict[int, bytes] = {}
        marks = list(hints.marks)
        new_starts, new_ends = starts, ends  # copied once chunks move
        shift = index = 0
        while index < len(changes):
            k, first, gain = changes[index][0], index, 0
            while index < len(changes) and changes[index][0] == k:
                gain += changes[index][3]
                index += 1
            chunks[k] = new[starts[k] + shift : ends[k] + shift + gain]
            marks[k] = _moved_marks(marks[k], starts[k], changes[first:index])
            shift += gain
            if gain:  # the chunks from here on moved
                if new_starts is starts:
                    new_starts, new_ends = list(starts), list(ends)
                new_ends[k] = ends[k] + shift
                new_starts[k + 1 :] = [start + shift for start in starts[k + 1 :]]
                new_ends[k + 1 :] = [end + shift for end in ends[k + 1 :]]
        changed = tuple([change[4] for change in changes])
        next_hints = RecompileHints(tuple(marks), changed, False, hints.budget)
        return old.with_chunks(new, chunks, (new_starts, new_ends), next_hints)


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
    changes: Sequence[tuple[int, int, int, int, ChangeHint]],
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
