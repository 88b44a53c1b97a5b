"""`FragmentCache`: reuse a rendered fragment when everything it read is unchanged.

A fragment is a pure function of what it reads from its context (fragments get no clock).
While a fragment renders, its `visitor` mapping records each key the template looked up,
present or not; the output is stored under the values of exactly those keys. A later visitor
whose values agree on those keys would take the same branches and get the same bytes, so the
stored output is served without rendering. A template that iterates the whole mapping is
never cached. Entries also expire after `max_age` seconds, which bounds the staleness of any
fragment global that consults the real time.
"""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Callable, Iterator, Mapping
from typing import Any, TypeVar

Rendered = TypeVar("Rendered")


class _Missing:
    def __repr__(self) -> str:
        return "<missing>"


MISSING = _Missing()


class ReadTracker(dict[str, Any]):
    """A dict that notes the keys a template reads (and whether it looked at all of them)."""

    def __init__(self, data: Mapping[str, Any]) -> None:
        super().__init__(data)
        self._etalage_reads: dict[str, Any] = {}
        self._etalage_opaque = False

    def __getitem__(self, key: str) -> Any:
        value = dict.get(self, key, MISSING)
        self._etalage_reads[key] = value
        if value is MISSING:
            raise KeyError(key)
        return value

    def get(self, key: str, default: Any = None) -> Any:
        value = dict.get(self, key, MISSING)
        self._etalage_reads[key] = value
        return default if value is MISSING else value

    def __contains__(self, key: object) -> bool:
        if not isinstance(key, str):
            return False
        value = dict.get(self, key, MISSING)
        self._etalage_reads[key] = value
        return value is not MISSING

    def __iter__(self) -> Iterator[str]:
        self._etalage_opaque = True
        return super().__iter__()

    def __len__(self) -> int:
        self._etalage_opaque = True
        return super().__len__()

    def keys(self) -> Any:
        self._etalage_opaque = True
        return super().keys()

    def values(self) -> Any:
        self._etalage_opaque = True
        return super().values()

    def items(self) -> Any:
        self._etalage_opaque = True
        return super().items()


class FragmentCache:
    """Bounded cache of rendered fragments keyed by the visitor values they read.

    Per fixed part (template, rule, page...) it keeps the shapes seen (the sorted keys a render
    read) and per shape the renders by the values read; when full, the oldest render goes. A
    render that read more than `LONGEST_KEPT_READS` characters of text is not kept, so the
    cache stays within a few KB per entry whatever visitors send.
    """

    def __init__(
        self,
        max_entries: int = 4096,
        *,
        max_age: float = 60.0,
        max_shapes: int = 16,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.max_entries = max_entries
        self.max_age = max_age
        self.max_shapes = max_shapes
        self._clock = clock
        self._shapes: dict[tuple[Any, ...], list[tuple[tuple[str, ...], _Renders]]] = {}
        self._order: deque[tuple[_Renders, tuple[Any, ...]]] = deque()
        self.hits = 0
        self.misses = 0

    def clear(self) -> None:
        """Forget every rendered fragment (the fragments changed)."""
        self._shapes.clear()
        self._order.clear()

    def render(
        self,
        fixed: tuple[Any, ...],
        visitor: Mapping[str, Any],
        render: Callable[[Mapping[str, Any]], Rendered],
    ) -> Rendered:
        """The fragment for `visitor`; `fixed` identifies everything else in its context
        (template, rule, page facts, slot default) and `render(visitor)` renders it (into
        whatever it returns: the text, or the bytes and their digest).
        """
        if self.max_entries <= 0:
            return render(visitor)
        now = self._clock()
        shapes = self._shapes.get(fixed)
        if shapes is not None:
            get = visitor.get
            for known_shape, stored in shapes:
                entry = stored.get(tuple([_part(get(key, MISSING)) for key in known_shape]))
                if entry is not None and now - entry[1] < self.max_age:
                    self.hits += 1
                    rendered: Rendered = entry[0]
                    return rendered
        self.misses += 1
        tracker = ReadTracker(visitor)
        html = render(tracker)
        if tracker._etalage_opaque:
            return html
        reads = tracker._etalage_reads
        shape = tuple(sorted(reads))
        if shapes is None:
            shapes = self._shapes[fixed] = []
        renders: _Renders | None = next((kept for known, kept in shapes if known == shape), None)
        if renders is None:
            if len(shapes) >= self.max_shapes:
                return html
            renders = {}
            shapes.append((shape, renders))
        key = tuple([_part(reads[k]) for k in shape])
        if _text_length(key) > LONGEST_KEPT_READS:
            return html  # long values (a 4 KB search term) are rendered each time, not kept
        if key not in renders:
            self._order.append((renders, key))
        renders[key] = (html, now)
        while len(self._order) > self.max_entries:
            oldest, old_key = self._order.popleft()
            oldest.pop(old_key, None)
        return html


#: A shape's renders: the values read (`_part` of each) -> (the render, when it was made).
_Renders = dict[tuple[Any, ...], tuple[Any, float]]


def _part(value: Any) -> Any:
    """A read value as part of a cache key: text as it is, a list of texts as a tuple of them
    after `list`, anything else by its `repr` in a tuple (so that ``1``, ``1.0`` and ``True``
    differ, as they render, and any list is a key)."""
    kind = type(value)
    if kind is str:
        return value
    if kind is list and (not value or set(map(type, value)) == _ONLY_TEXT):
        return (list, tuple(value))  # `repr` of a list of 20 paths costs 10 times as much
    return (repr(value),)


_ONLY_TEXT = {str}

#: The most characters the values a render read may hold together for it to be kept: what
#: visitors send is in them, and an entry keeps them (and usually the render shows them).
LONGEST_KEPT_READS = 2048


def _text_length(key: tuple[Any, ...]) -> int:
    """The characters of the text in a cache key made by `_part`."""
    length = 0
    for part in key:
        if type(part) is str:
            length += len(part)
        elif part[0] is list:
            length += sum(map(len, part[1]))
        else:
            length += len(part[0])
    return length
