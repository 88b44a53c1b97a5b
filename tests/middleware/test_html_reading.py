"""Reading HTML as bytes: the token grammar, tags, meta facts, titles and closing end tags.

The compiler's own tests (`test_skeleton.py`, `test_hostile_pages.py`) exercise all of this
through whole pages; these pin the pieces down one by one.
"""

from __future__ import annotations

from unittest import mock

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from etalage.middleware import html_reading
from etalage.middleware.html_reading import (
    SKIP,
    SLOT_TAG,
    TOKEN,
    Closer,
    PageBytes,
    first_close,
    meta_fact,
    raw_text_end,
    title_text,
    wanted_value,
)


def test_find_tag_wants_the_whole_name() -> None:
    page = PageBytes(b"<divider><DIV class=x><div>")
    assert page.find_tag(b"<div", 0, page.size) == 9  # not "<divider", any case
    assert page.find_tag(b"<div", 10, page.size) == 22
    assert page.find_tag(b"<div", 23, page.size) == page.size  # none: the limit


def test_every_finds_tag_names_and_plain_needles() -> None:
    page = PageBytes(b"<p data-slot=a><pre><p>")
    assert page.every(b"<p") == [0, 20]
    assert page.every(b"data-slot") == [3]


def test_skipping_stops_only_at_a_tag() -> None:
    body = b"text <!-- <b> --> <script>'<b>'</script> <b>"
    stop = SKIP.match(body, 0, body.index(b"<b>", 40))
    assert stop is not None and stop.end() == body.rindex(b"<b>")
    token = TOKEN.match(body, body.index(b"<!--"))
    assert token is not None and token.group() == b"<!-- <b> -->"


@pytest.mark.parametrize(
    ("tag", "value"),
    [
        (b'<div data-slot="hero">', "hero"),
        (b"<div data-slot='hero '>", "hero"),
        (b"<div data-slot=hero>", "hero"),
        (b"<div data-slot=&#104;ero>", "hero"),
    ],
)
def test_wanted_value_reads_any_quoting_and_entities(tag: bytes, value: str) -> None:
    match = SLOT_TAG.match(tag)
    assert match is not None
    assert wanted_value(match) == value


def test_meta_fact_reads_etalage_names_only() -> None:
    body = b'<meta name="etalage:topic" content="tents &amp; tarps">'
    assert meta_fact(body, len(b"<meta")) == ("topic", "tents & tarps")
    assert meta_fact(b'<meta name="ETALAGE:Level" content=x>', 5) == ("Level", "x")
    assert meta_fact(b'<meta name="description" content="x">', 5) is None
    assert meta_fact(b'<meta name="etalage:" content="x">', 5) is None
    assert meta_fact(b'<meta name="etalage:topic">', 5) is None


def test_title_text_is_decoded_with_whitespace_collapsed() -> None:
    assert title_text(b"  Tents\n &amp;\tTarps ") == "Tents & Tarps"
    assert title_text(b"\xff") == "\ufffd"


def test_raw_text_ends_at_its_own_end_tag() -> None:
    body = b"<script>x = '</scriptx>';</SCRIPT >after"
    assert raw_text_end(body, b"script", 8) == (body.index(b"</SCRIPT"), body.index(b"after"))
    assert raw_text_end(b"<style>never closed", b"style", 7) == (19, -1)


def test_first_close_gives_up_when_counting_is_needed() -> None:
    page = PageBytes(b"<div><div></div></div>")
    assert first_close(page, b"div", 5, page.size) is None  # another <div> first
    simple = PageBytes(b"<div>a <!-- </div> --> b</div>")
    assert first_close(simple, b"div", 5, simple.size) is None  # the first is in a comment
    plain = PageBytes(b"<div>a</div>")
    assert first_close(plain, b"div", 5, plain.size) == (6, 12)


def test_the_closer_counts_nested_tags_of_the_name() -> None:
    body = b"<ul><li><ul><li>x</li></ul></li></ul><ul>"
    page = PageBytes(body)
    closer = Closer(page, 0, len(body))
    assert closer.close(b"ul", 0, 4) == (32, 37)
    assert closer.close(b"ul", 8, 12) == (22, 27)
    assert closer.close(b"ul", 37, 41) is None  # never closed


NESTED = st.recursive(
    st.sampled_from([b"", b"x", b"<br>", b"<!-- </b> -->", b"<b/>"]),
    lambda inner: st.builds(lambda parts: b"<b>" + b"".join(parts) + b"</b>", st.lists(inner)),
    max_leaves=12,
)


@settings(max_examples=200)
@given(NESTED)
def test_the_closer_past_its_budget_closes_the_same(element: bytes) -> None:
    """Reading every tag once (a hostile page spent the budget) finds the same end tag."""
    body = b"<p>" + element + b"</p>"
    page = PageBytes(body)
    by_name = Closer(page, 0, len(body)).close(b"p", 0, 3)
    with mock.patch.object(html_reading, "_READ_BUDGET", -1):
        fresh = PageBytes(body)
        every_tag = Closer(fresh, 0, len(body)).close(b"p", 0, 3)
    assert by_name == every_tag == (len(body) - 4, len(body))
