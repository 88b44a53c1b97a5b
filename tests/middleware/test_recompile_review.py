"""An adversarial review of the incremental page recompile: versions of one page under one path,
chained through the skeleton cache, each what a full compile of it gives.

The bug it found: text taken out between a "<" that is text and the tag after it left that tag's
mark twice, so a later version putting a letter after the "<" (which makes "<x<meta ...>" one
tag) was read from the second copy, as if the "<" still were text: the recompiled skeleton kept
a fact, a slot or a title the page no longer has. The marks also piled up, one more every two
versions of a page alternating like that.
"""

from __future__ import annotations

import logging

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from etalage.middleware.recompile import recompile
from etalage.middleware.skeleton import PageSkeleton
from etalage.middleware.skeleton_cache import SkeletonCache

from .test_recompile import observed
from .test_skeleton import _HTMLISH, _document

META = b'<meta name="etalage:topic" content="tents">'
SLOT = b"<div data-slot=hero>Hello</div>"
TITLE = b"<title>Cart (3)</title>"


@pytest.fixture(autouse=True)
def _quiet_warnings(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.ERROR, logger="etalage")


def served(
    versions: list[bytes],
    etags: list[str | None] | None = None,
    selectors: dict[str, str] | None = None,
) -> SkeletonCache:
    """Each version through one cache under one page key: each skeleton must be what compiling
    it gives (all a caller sees, and its digest), and two versions have one digest only when
    they are the same page."""
    cache = SkeletonCache()
    digests: dict[bytes, bytes] = {}
    for n, body in enumerate(versions):
        etag = None if etags is None else etags[n % len(etags)]
        skeleton = cache.compile(body, etag, selectors, page_key="/")
        compiled = PageSkeleton.compile(body, None, selectors)
        assert observed(skeleton) == observed(compiled), (n, body)
        assert skeleton.digest == compiled.digest, (n, body)
        for other, digest in digests.items():
            assert (digest == skeleton.digest) == (other == body)
        digests[body] = skeleton.digest
    return cache


# -- the bug -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("tag", "what"),
    [(META, "a meta fact"), (SLOT, "a slot"), (TITLE, "the title")],
)
def test_a_letter_after_a_text_lt_is_read_as_a_tag_after_text_came_and_went(
    tag: bytes, what: str
) -> None:
    """Versions "<" + tag, "< " + tag, "<" + tag again (the space taken out), then "<x" + tag:
    "<x<meta ...>" is one tag, named "x<meta", and the page has no fact, slot or title any
    more (it kept them when read from the second copy of the tag's mark)."""
    cache = served([b"<" + tag, b"< " + tag, b"<" + tag, b"<x" + tag])
    assert cache.recompiled == 2, what  # the last one is left to a full compile


def test_a_page_alternating_two_versions_keeps_its_marks_once() -> None:
    """A search page showing "<b>term</b>" then "<b></b>", again and again: the tags after
    the text have one mark each, however many versions come (they piled up, one more every two
    versions, and each recompile copied them all)."""
    page = b"<html><body><div data-slot=hero>H</div><p>Results for <b>x</b></p></body></html>"
    other = page.replace(b"<b>x</b>", b"<b></b>")
    skeleton = PageSkeleton.compile(page)
    for n in range(200):
        result = recompile(skeleton, other if n % 2 == 0 else page)
        assert isinstance(result, PageSkeleton), result
        skeleton = result
    marks = skeleton.hints.marks if skeleton.hints is not None else ()
    assert all(len(chunk) == len(set(chunk)) <= 4 for chunk in marks), marks


# -- properties ----------------------------------------------------------------------------------

_FILLS = st.sampled_from(
    [b" ", b"  ", b"x", b"a b", b"1", b"!", b"/", b"?", b"-", b"=", b"'", b'"', b">", b"\n"]
)
_BEFORE = st.sampled_from([b"<", b"<", b"<", b"a", b"", b"<!-- -->", b"< "])
_TAGS = st.sampled_from(
    [META, SLOT, TITLE, b"<p>", b"</div>", b"<!-- c -->", b"<script>1</script>"]
)


@settings(max_examples=250, deadline=None)
@given(
    page=st.one_of(_HTMLISH, _document().map(lambda generated: generated[0])),
    before=_BEFORE,
    tag=_TAGS,
    fills=st.lists(_FILLS, min_size=1, max_size=3, unique=True),
    order=st.lists(st.integers(0, 3), min_size=3, max_size=12),
    at=st.integers(0),
)
def test_versions_differing_after_a_text_lt_recompile_as_they_compile(
    page: bytes, before: bytes, tag: bytes, fills: list[bytes], order: list[int], at: int
) -> None:
    """A spot right after a "<" (or not) and before a tag the compiler reads, filled with one
    of a few texts per version, in any order, back and forth."""
    at %= len(page) + 1
    variants = [page[:at] + before + fill + tag + page[at:] for fill in [b"", *fills]]
    served([variants[n % len(variants)] for n in order])


_EDIT = st.sampled_from(
    [b"", b"<", b">", b'"', b"'", b"-->", b"<!--", b"</script>", b"<title>", b"data-slot", b"\n"]
    + [b"\r\n", b"\xff", b"\x00", b"x", b" ", b"-", b"!", b"/", b"=", b"etalage:", b"</div>"]
    + [b'<meta name="etalage:topic" content="', b"data-item=k", b"<div data-slot=z>"]
)


@settings(max_examples=150, deadline=None)
@given(
    page=_document().map(lambda generated: generated[0]),
    edits=st.lists(
        st.tuples(st.integers(0), st.integers(-3, 3), st.integers(0, 3), _EDIT),
        min_size=1,
        max_size=6,
    ),
    etags=st.lists(st.sampled_from([None, '"a"', 'W/"b"']), min_size=1, max_size=3),
)
def test_edits_next_to_a_slot_chained_through_the_cache_recompile_as_they_compile(
    page: bytes,
    edits: list[tuple[int, int, int, bytes]],
    etags: list[str | None],
) -> None:
    """Versions edited next to a slot's start or end tag (or anywhere when there is none), one
    after the other, some with an upstream ETag, some back to an earlier version."""
    versions = [page]
    for anchor, offset, cut, text in edits:
        body = versions[-1] if anchor % 5 else versions[anchor % len(versions)]
        skeleton = PageSkeleton.compile(body)
        places = [0, len(body)]
        for start, end in zip(*skeleton.chunk_spans(), strict=True):
            places += [start, end]
        at = min(max(places[anchor % len(places)] + offset, 0), len(body))
        versions.append(body[:at] + text + body[at + cut :])
        if anchor % 7 == 0:
            versions.append(versions[anchor % len(versions)])
    served(versions, etags)


@settings(max_examples=60, deadline=None)
@given(
    fills=st.lists(_FILLS, min_size=1, max_size=2, unique=True),
    order=st.lists(st.integers(0, 2), min_size=3, max_size=8),
)
def test_a_page_with_selectors_all_marked_recompiles_as_it_compiles(
    fills: list[bytes], order: list[int]
) -> None:
    """Selectors whose slots the page marks with data-slot are not looked for: such a page is
    recompiled, and must still be what compiling it with those selectors gives."""
    selectors = {"hero": ".hero"}
    variants = [b"<p><" + fill + META + b"</p>" + SLOT for fill in [b"", *fills]]
    served([variants[n % len(variants)] for n in order], selectors=selectors)
