"""Selector slots: CSS selectors found by html.parser + soupsieve, mapped to byte offsets
(middleware/selector_slots.py), and compiled into the same slots a ``data-slot`` element gives
(middleware/skeleton.py), byte-exact outside the slot whatever the page."""

from __future__ import annotations

from unittest import mock

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from etalage.middleware import html_reading
from etalage.middleware.selector_slots import SelectorMatch, find_selector_elements
from etalage.middleware.skeleton import PageSkeleton

# -- the resolver: byte offsets of the elements found --------------------------------------


def first_offset(page: bytes, selector: str) -> int | None:
    (match,) = find_selector_elements(page, {"s": selector}).matches
    return match.offset


@pytest.mark.parametrize(
    ("page", "selector", "expected"),
    [
        ("<p>héllo — ünïcödé 😀</p><div id=x>".encode(), "#x", "<div id=x>"),
        (b"<p>\r\n\r\n  <b>x</b>\r\n<div id=x>", "#x", "<div id=x>"),
        ("\ufeff<!doctype html>\r\n<é>\r\n<div id=x>".encode(), "#x", "<div id=x>"),
        (b'<p title="a > b">\xff\xfe\xc3</p>\n<div id=x>', "#x", "<div id=x>"),
        (b"<div class=a><div class=a><div class=b>", "div.a > div.a", "<div class=a><div class=b>"),
        (b"<div\r\n  class='hero'\r\n>", ".hero", "<div\r\n  class='hero'\r\n>"),
        (b"\xe9t\xe9\n<P ID=x>", "#x", "<P ID=x>"),
        (b"<!-- <div id=x> --><script>'<div id=x>'</script><div id=x>", "#x", "<div id=x>"),
    ],
    ids=["multibyte", "crlf", "bom", "gt-in-attribute", "nested-same", "multiline-tag", "latin-1", "comment-script"],
)  # fmt: skip
def test_the_offset_is_the_byte_where_the_start_tag_begins(page, selector, expected):
    offset = first_offset(page, selector)
    assert offset is not None
    assert page[offset:].startswith(expected.encode() if isinstance(expected, str) else expected)
    assert page[offset:] == page[page.rindex(expected.encode()) :]


def test_a_selector_reports_how_many_elements_it_matches_and_the_first():
    page = b"<ul>\n<li class=x>1</li>\n<li class=x>2</li>\n</ul>"
    result = find_selector_elements(page, {"list": "li.x", "none": ".nope"})
    assert result.problem is None
    assert result.matches == (
        SelectorMatch("list", "li.x", 2, page.index(b"<li"), "li", 2),
        SelectorMatch("none", ".nope", 0),
    )


@pytest.mark.parametrize("page", [b"", b"just text", b"\x00\xff"])
def test_a_page_without_markup_matches_nothing(page):
    assert find_selector_elements(page, {"s": "div"}).matches == (SelectorMatch("s", "div", 0),)


def test_a_utf16_page_is_a_problem_not_a_guess():
    page = "<div id=x>".encode("utf-16")
    result = find_selector_elements(page, {"s": "#x"})
    assert (result.matches, result.problem) == ((), "the page is UTF-16; selector slots need UTF-8")


def test_an_xml_declaration_is_read_as_html_without_a_warning():
    page = b'<?xml version="1.0"?><svg><g id=x></g></svg>'
    assert first_offset(page, "#x") == page.index(b"<g")


# -- compiled: the same slot a data-slot element gives -------------------------------------


def compile_with(page: bytes, **selectors: str) -> PageSkeleton:
    return PageSkeleton.compile(page, selectors=selectors)


def test_a_selector_slot_is_the_slot_a_data_slot_attribute_would_make():
    inner = b'\r\n  <a data-item="b">B</a> <div><a>x</a></div> <a data-item="a">A</a>\r\n'
    page = "<p>é</p>\r\n<nav class=top>".encode() + inner + b"</nav><footer></footer>"
    (slot,) = compile_with(page, nav="nav.top").slots
    (marked,) = PageSkeleton.compile(page.replace(b"class=top", b"data-slot=nav")).slots
    assert (slot.name, slot.inner, slot.close_tag, slot.items) == (
        marked.name,
        marked.inner,
        marked.close_tag,
        marked.items,
    )
    assert slot.open_tag == b"<nav class=top>"
    assert (
        slot.reordered(["a"])
        == b'\r\n  <a data-item="a">A</a> <div><a>x</a></div> <a data-item="b">B</a>\r\n'
    )


def test_a_selector_slot_is_closed_by_its_own_end_tag_among_nested_same_tags():
    page = b"<div><div class=hero><div>a</div><div><div>b</div></div></div><div>after</div></div>"
    skeleton = compile_with(page, hero=".hero")
    assert (
        skeleton.render({"hero": b"NEW"}) == b"<div><div class=hero>NEW</div><div>after</div></div>"
    )


def test_a_data_slot_of_the_same_name_wins_over_the_selector():
    page = b'<div class=hero>by selector</div><div data-slot="hero">by attribute</div>'
    skeleton = compile_with(page, hero=".hero")
    assert [slot.inner for slot in skeleton.slots] == [b"by attribute"]
    assert skeleton.warnings == ()


def test_selector_and_data_slots_are_cut_in_page_order():
    page = b"<main><div data-slot=b>B</div><div class=a>A</div><div data-slot=c>C</div></main>"
    skeleton = compile_with(page, a=".a")
    assert [slot.name for slot in skeleton.slots] == ["b", "a", "c"]
    assert skeleton.render({"a": b"1", "b": b"2", "c": b"3"}) == (
        b"<main><div data-slot=b>2</div><div class=a>1</div><div data-slot=c>3</div></main>"
    )


def test_several_matches_use_the_first_with_one_warning():
    page = b"<ul>\n<li class=x>1</li>\n<li class=x>2</li></ul>"
    skeleton = compile_with(page, item="li.x")
    assert skeleton.render({"item": b"N"}) == b"<ul>\n<li class=x>N</li>\n<li class=x>2</li></ul>"
    assert skeleton.warnings == (
        "selector 'li.x' of slot 'item' matches 2 elements; the first (line 2) is the slot",
    )


def test_a_selector_matching_nothing_leaves_the_page_as_it_is():
    page = b"<div>x</div>"
    skeleton = compile_with(page, hero=".hero")
    assert (skeleton.slots, skeleton.warnings, skeleton.render({"hero": b"N"})) == ((), (), page)


@pytest.mark.parametrize(
    ("page", "warning"),
    [
        (b"<p>\n<img class=hero src=a.png>", "void element <img> cannot be slot 'hero' at line 2"),
        (b"<div class='hero'/>text", "self-closing element <div> cannot be slot 'hero' at line 1"),
        (b"<main><div class=hero>never closed</main>", "unclosed slot 'hero' at line 1"),
        (
            b"<title>\n<div class=hero>x</div></title>",
            "selector '.hero' of slot 'hero' left out: what it matches is not a tag when the page "
            "is read byte by byte (text inside a comment, a script, a title or an attribute value?) at line 2",
        ),
        (
            b"<textarea><div class=hero>x</div></textarea>",
            "selector '.hero' of slot 'hero' left out: what it matches is not a tag when the page "
            "is read byte by byte (text inside a comment, a script, a title or an attribute value?) at line 1",
        ),
    ],
    ids=["void", "self-closing", "unclosed", "inside-title", "inside-textarea"],
)  # fmt: skip
def test_an_element_that_cannot_be_a_slot_leaves_the_page_unchanged_and_says_why(page, warning):
    skeleton = compile_with(page, hero=".hero")
    assert skeleton.slots == ()
    assert skeleton.warnings == (warning,)
    assert skeleton.render({"hero": b"N"}) == page


def test_a_raw_text_element_can_be_a_selector_slot():
    page = b"<textarea class=note>a <b>c</b></textarea>"
    assert (
        compile_with(page, note=".note").render({"note": b"N"})
        == b"<textarea class=note>N</textarea>"
    )


def test_a_selector_slot_inside_another_slot_is_ignored_with_a_warning():
    page = b"<div data-slot=outer><p class=inner>x</p></div>"
    skeleton = compile_with(page, inner=".inner")
    assert [slot.name for slot in skeleton.slots] == ["outer"]
    assert skeleton.warnings == ("nested slot 'inner' inside slot 'outer' ignored at line 1",)


def test_the_skeleton_keeps_the_selectors_it_was_compiled_with():
    selectors = {"hero": ".hero"}
    assert PageSkeleton.compile(b"<p>", selectors=selectors).selectors is selectors
    assert PageSkeleton.compile(b"<p>", selectors={}).selectors is None


# -- whatever the page: bytes outside the slot unchanged, never an exception --------------

PIECES = [
    b"<div class=hero>", b"</div>", b"<section>", b"</section>", b"<div>", b"<p>", b"</p>",
    b"<DIV CLASS=hero>", b"<div class='hero' title='a>b'>", b'<p title="<div class=hero>">',
    b"<!-- <div class=hero> -->", b"<!--", b"-->", b"<![CDATA[<div class=hero>]]>",
    b"<script>'<div class=hero></div>'</script>", b"<script>", b"</script>",
    b"<style>.hero{}</style>", b"<title><div class=hero></title>", b"<textarea>", b"</textarea>",
    b"<img class=hero>", b"<div class='hero'/>", b'<div data-slot="hero">', b"<li data-item=a>",
    b"<", b"</", b"<!", b"<?php ?>", b'<?xml version="1.0"?>', b"<svg>", b"<br/>",
    b"\r\n", b"\n", "é—😀".encode(), b"\xff\xfe", b"\xc3", b"\xef\xbb\xbf", b"&amp;", b"text",
]  # fmt: skip
SELECTORS = {"hero": ".hero", "sec": "section", "deep": "div div", "first": "p:first-of-type"}
MARK = b"\x00REPLACED\x00"


HOSTILE = st.lists(st.one_of(st.sampled_from(PIECES), st.binary(max_size=8)), max_size=30)


@st.composite
def pages(draw: st.DrawFn) -> bytes:
    """Hostile markup, half the time around an element the "target" selector matches."""
    page = b"".join(draw(HOSTILE))
    if draw(st.booleans()):
        inner, after = b"".join(draw(HOSTILE)), b"".join(draw(HOSTILE))
        page += b"<section class=target>" + inner + b"</section>" + after
    return page.replace(b"\x00", b"")


@settings(max_examples=400, deadline=None)
@given(pages(), st.sampled_from([*SELECTORS, "target"]))
def test_splicing_a_selector_slot_keeps_every_other_byte(page, name):
    skeleton = PageSkeleton.compile(page, selectors={**SELECTORS, "target": ".target"})
    assert skeleton.render({}) == page
    named = [slot for slot in skeleton.slots if slot.name == name]  # a page may repeat a name
    out = skeleton.render({name: MARK})
    pieces = out.split(MARK)
    assert len(pieces) == len(named) + 1
    rebuilt = pieces[0]
    for slot, after in zip(named, pieces[1:], strict=True):
        assert rebuilt.endswith(slot.open_tag) and after.startswith(slot.close_tag)
        assert slot.open_tag[:1] == b"<" and slot.open_tag[-1:] == b">"
        rebuilt += slot.inner + after
    assert rebuilt == page


@settings(max_examples=200, deadline=None)
@given(pages())
def test_reading_every_tag_at_once_closes_selector_slots_the_same(page):
    """Hostile pages make the compiler give up counting one tag name at a time."""
    selectors = {**SELECTORS, "target": ".target"}
    with mock.patch.object(html_reading, "_READ_BUDGET", -1):
        every_tag = PageSkeleton.compile(page, selectors=selectors)
    by_name = PageSkeleton.compile(page, selectors=selectors)
    assert (every_tag.chunks, every_tag.slots, every_tag.warnings) == (
        by_name.chunks,
        by_name.slots,
        by_name.warnings,
    )
