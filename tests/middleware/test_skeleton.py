"""PageSkeleton: slots, items, facts and warnings found in raw HTML bytes; byte-exact splicing."""

from __future__ import annotations

from unittest import mock

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from etalage.middleware import html_reading
from etalage.middleware import skeleton as skeleton_module
from etalage.middleware.skeleton import PageSkeleton, Slot, SlotItem


def only_slot(html: bytes) -> Slot:
    skeleton = PageSkeleton.compile(html)
    assert len(skeleton.slots) == 1, skeleton.warnings
    return skeleton.slots[0]


def reassembled(skeleton: PageSkeleton) -> bytes:
    parts = [skeleton.chunks[0]]
    for slot, chunk in zip(skeleton.slots, skeleton.chunks[1:], strict=True):
        parts += [slot.open_tag, slot.inner, slot.close_tag, chunk]
    return b"".join(parts)


# -- slots and their default content ----------------------------------------------------------


def test_slot_default_content_is_the_inner_html() -> None:
    page = b'<p>a</p><div class="x" data-slot="hero"><h1>Hello</h1> <b>you</b></div><p>b</p>'
    skeleton = PageSkeleton.compile(page)
    (slot,) = skeleton.slots
    assert slot.name == "hero"
    assert slot.open_tag == b'<div class="x" data-slot="hero">'
    assert slot.inner == b"<h1>Hello</h1> <b>you</b>"
    assert slot.close_tag == b"</div>"
    assert skeleton.chunks == (b"<p>a</p>", b"<p>b</p>")
    assert skeleton.slot_names == frozenset({"hero"})


@pytest.mark.parametrize(
    "open_tag",
    [
        b'<div data-slot="hero">',
        b"<div data-slot='hero'>",
        b"<div data-slot=hero>",
        b"<div DATA-SLOT=hero>",
        b"<DIV Data-Slot = 'hero' >",
        b'<div\n  id="a"\n  data-slot="hero"\n>',
        b'<div title="a > b" data-slot="hero">',
        b"<div data-slot=&#104;ero>",
    ],
)
def test_slot_attribute_accepts_every_quoting_style(open_tag: bytes) -> None:
    slot = only_slot(open_tag + b"inside</div>")
    assert (slot.name, slot.open_tag, slot.inner) == ("hero", open_tag, b"inside")


def test_data_slot_inside_another_attribute_value_is_not_a_slot() -> None:
    skeleton = PageSkeleton.compile(b'<div title="data-slot=hero">x</div>')
    assert skeleton.slots == ()


def test_default_text_decodes_utf8_and_replaces_invalid_bytes() -> None:
    slot = only_slot(b"<p data-slot=s>caf\xc3\xa9 \xff</p>")
    assert slot.default_text == "café \ufffd"


def test_closing_tag_is_found_by_counting_nested_elements_of_the_same_name() -> None:
    inner = b"<DIV><div>a</div><span>b</span></div><div/><div></Div>"
    slot = only_slot(b"<div data-slot=s>" + inner + b"</div></div><p>after</p>")
    assert slot.inner == inner


@pytest.mark.parametrize(
    ("tag", "inner"),
    [
        (b"div", b"<img src=a.png><br><input value=x><hr/><wbr><div/><div />"),
        (b"svg", b"<svg/><path d='M0 0'/><svg />"),
    ],
)
def test_void_and_self_closing_elements_do_not_count_as_nesting(tag: bytes, inner: bytes) -> None:
    page = b"<" + tag + b" data-slot=s>" + inner + b"</" + tag + b">tail</" + tag + b">"
    assert only_slot(page).inner == inner


@pytest.mark.parametrize(
    "tag",
    [b"<img data-slot=pic>", b"<br data-slot=x/>", b'<div data-slot="x"/>', b"<input data-slot=x>"],
)
def test_void_or_self_closing_element_is_not_a_slot(tag: bytes) -> None:
    page = b"<p>" + tag + b"</p>"
    skeleton = PageSkeleton.compile(page)
    assert skeleton.slots == ()
    assert len(skeleton.warnings) == 1
    assert "cannot be slot" in skeleton.warnings[0]
    assert skeleton.render({"pic": b"X", "x": b"X"}) == page


@pytest.mark.parametrize(
    "decoy",
    [
        b"<script>document.write('<div data-slot=x>no</div>')</script>",
        b"<script type=module>if (a<b) { x = '<div data-slot=\"x\">' }</script>",
        b"<style>/* <div data-slot=x>no</div> */</style>",
        b"<textarea><div data-slot=x>no</div></textarea>",
        b"<title><div data-slot=x>no</div></title>",
        b"<!-- <div data-slot=x>no</div> -->",
        b"<!-- a -- b <div data-slot=x>no</div> --!>",
        b"<!--><div data-slot=real>",
        b"<!---><div data-slot=real>",
        b"<![CDATA[ <div data-slot=x>no</div> ]]>",
        b"<?php echo '<div data-slot=x>no</div>' ?>",
    ],
)
def test_slot_markup_in_raw_text_and_comments_is_ignored(decoy: bytes) -> None:
    page = b"<body>" + decoy + b"<div data-slot=real>yes</div></body>"
    skeleton = PageSkeleton.compile(page)
    assert [slot.name for slot in skeleton.slots] == ["real"]
    assert skeleton.slots[0].inner == b"yes"
    assert skeleton.render({"x": b"X", "real": b"R"}) == page.replace(b">yes<", b">R<")


def test_script_inside_slot_does_not_close_it_early() -> None:
    inner = b"<script>var s = '</div>';</script>default"
    assert only_slot(b"<div data-slot=s>" + inner + b"</div>").inner == inner


@pytest.mark.parametrize(
    "decoy",
    [
        b"<!-- </div> -->",
        b"<script>'</div>'</script>",
        b"<textarea></div></textarea>",
        b'<a title="</div>">',
        b"<a title='x > </div>'>",
        b"<![CDATA[</div>]]>",
        b"<?x </div> ?>",
        b"</divx>",
    ],
)
def test_an_end_tag_in_a_comment_raw_text_or_attribute_does_not_close_the_slot(
    decoy: bytes,
) -> None:
    inner = b"a" + decoy + b"<div>b</div>c"
    page = b"<div data-slot=s>" + inner + b"</div>after</div>"
    assert only_slot(page).inner == inner


@pytest.mark.parametrize(
    "page",
    [
        b"<p>write data-slot=hero in your HTML</p>",
        b"<p title='<div data-slot=hero>'>x</p>",
        b"<p>x</p data-slot=hero>",
        b"<!doctype html data-slot=hero>",
    ],
)
def test_data_slot_outside_a_start_tag_is_not_a_slot(page: bytes) -> None:
    skeleton = PageSkeleton.compile(page)
    assert (skeleton.slots, skeleton.warnings) == ((), ())


@pytest.mark.parametrize(
    "tail",
    [
        b'<div data-slot="hero>x</div>',
        b"<div data-slot=hero title='a>x</div>",
        b'<ul data-slot=s><li data-item="k>x</li></ul>',
        b"<div data-slot=hero><!-- </div>",
        b"<div data-slot=hero><script></div>",
    ],
)
def test_markup_left_open_to_the_end_of_the_page_ends_the_reading(tail: bytes) -> None:
    page = b"<p data-slot=first>1</p>" + tail
    skeleton = PageSkeleton.compile(page)
    assert [slot.name for slot in skeleton.slots] == ["first"]
    assert skeleton.render({"first": b"X", "hero": b"Y", "s": b"Z"}) == page.replace(b">1<", b">X<")


def test_raw_text_element_can_be_a_slot() -> None:
    slot = only_slot(b"<head><title data-slot=title>Shop &amp; more</title></head>")
    assert slot.inner == b"Shop &amp; more"


# -- page facts ------------------------------------------------------------------------------


def test_page_facts_come_from_etalage_meta_tags_and_the_title() -> None:
    page = (
        b"<head><title>\n  Tents &amp; Boots\n</title>"
        b'<meta name="etalage:topic" content="hiking">'
        b"<meta content='Caf&eacute; &amp; co' name='etalage:brand'>"
        b"<meta name=ETALAGE:valid_until content=2026-12-24>"
        b'<meta name="description" content="not a fact">'
        b'<meta name="etalage:" content="no key">'
        b"</head>"
    )
    assert PageSkeleton.compile(page).facts == {
        "title": "Tents & Boots",
        "topic": "hiking",
        "brand": "Café & co",
        "valid_until": "2026-12-24",
    }


def test_meta_tags_inside_comments_and_scripts_are_not_facts() -> None:
    page = (
        b'<!-- <meta name="etalage:topic" content="a"> -->'
        b'<script>\'<meta name="etalage:topic" content="b">\'</script>'
        b'<p title=\'<meta name="etalage:topic" content="d">\'>'
        b'<meta name="etalage:topic" content="c">'
    )
    assert PageSkeleton.compile(page).facts == {"topic": "c"}


def test_the_title_fact_is_the_first_title_element_not_a_title_in_a_comment() -> None:
    page = b"<!-- <title>No</title> --><title>Yes</title><svg><title>Icon</title></svg>"
    assert PageSkeleton.compile(page).facts == {"title": "Yes"}


def test_first_meta_fact_wins_and_an_explicit_title_fact_beats_the_title_tag() -> None:
    page = (
        b"<title>Tag</title><meta name=etalage:title content=Meta>"
        b"<meta name=etalage:topic content=first><meta name=etalage:topic content=second>"
    )
    assert PageSkeleton.compile(page).facts == {"title": "Meta", "topic": "first"}


# -- warnings --------------------------------------------------------------------------------


def test_unclosed_slot_is_a_warning_and_its_bytes_stay_literal() -> None:
    page = b"<body>\n<p>x</p>\n<div data-slot=hero>\n<div>inner</div>\n</body>"
    skeleton = PageSkeleton.compile(page)
    assert skeleton.slots == ()
    assert skeleton.chunks == (page,)
    assert skeleton.warnings == ("unclosed slot 'hero' at line 3",)
    assert skeleton.render({"hero": b"X"}) == page


def test_slot_inside_an_unclosed_slot_element_still_counts() -> None:
    page = b"<section data-slot=outer><div data-slot=inner>d</div>"
    skeleton = PageSkeleton.compile(page)
    assert [slot.name for slot in skeleton.slots] == ["inner"]
    assert skeleton.warnings == ("unclosed slot 'outer' at line 1",)


def test_nested_slot_is_part_of_the_outer_slot_and_warned_about() -> None:
    page = b"<div data-slot=outer>a<section data-slot=inner>b</section>c</div>"
    skeleton = PageSkeleton.compile(page)
    assert [slot.name for slot in skeleton.slots] == ["outer"]
    assert skeleton.slots[0].inner == b"a<section data-slot=inner>b</section>c"
    assert skeleton.warnings == ("nested slot 'inner' inside slot 'outer' ignored at line 1",)
    assert skeleton.render({"inner": b"X"}) == page


def test_warnings_are_capped_for_hostile_pages() -> None:
    skeleton = PageSkeleton.compile(b"<div data-slot=x>" * 1000)
    assert len(skeleton.warnings) == 21
    assert skeleton.warnings[-1] == "... and 980 more skeleton warnings"


def test_unclosed_slots_of_many_names_are_all_warned_about() -> None:
    opened = b"".join(b"<x%d data-slot=s%d>" % (n, n) for n in range(300))
    page = opened + b"<p data-slot=last>L</p>"
    skeleton = PageSkeleton.compile(page)
    assert [slot.name for slot in skeleton.slots] == ["last"]
    assert skeleton.warnings[0] == "unclosed slot 's0' at line 1"
    assert skeleton.warnings[-1] == "... and 280 more skeleton warnings"


def test_empty_slot_name_is_not_a_slot() -> None:
    skeleton = PageSkeleton.compile(b'<div data-slot="  ">x</div>')
    assert skeleton.slots == ()
    assert skeleton.warnings == ("empty slot name at line 1",)


# -- rendering -------------------------------------------------------------------------------


def test_duplicate_slot_names_are_both_replaced() -> None:
    page = b"<div data-slot=promo>a</div><hr><aside data-slot=promo>b</aside>"
    skeleton = PageSkeleton.compile(page)
    assert [slot.name for slot in skeleton.slots] == ["promo", "promo"]
    assert skeleton.slot_names == frozenset({"promo"})
    assert skeleton.render({"promo": b"P"}) == (
        b"<div data-slot=promo>P</div><hr><aside data-slot=promo>P</aside>"
    )


def test_render_replaces_only_named_slots_and_keeps_other_bytes() -> None:
    page = b"\xff\r\n<div data-slot=a>A</div>\r\n<div data-slot=b>B</div>\x00"
    skeleton = PageSkeleton.compile(page)
    assert skeleton.render({"b": b"<em>new</em>", "zzz": b"?"}) == (
        b"\xff\r\n<div data-slot=a>A</div>\r\n<div data-slot=b><em>new</em></div>\x00"
    )
    assert skeleton.render({"a": b""}) == page.replace(b">A<", b"><")


@pytest.mark.parametrize(
    ("page", "other"),
    [
        (b"x<div data-slot=a>A</div>y", b"x<div data-slot=a>B</div>y"),
        (b"x<div data-slot=a>A</div>y", b"x<div data-slot=a>A</div>z"),
        (b"x<div data-slot=a>A</div>y", b"<div data-slot=a>xA</div>y"),  # bytes moved across
        (b"<p>no slot</p>", b"<p>no slot.</p>"),
    ],
)
def test_digest_is_the_same_for_the_same_page_and_differs_for_another(
    page: bytes, other: bytes
) -> None:
    digest = PageSkeleton.compile(page).digest
    assert len(digest) == 20
    assert PageSkeleton.compile(bytearray(page)).digest == digest
    assert PageSkeleton.compile(other).digest != digest


def test_digest_is_the_one_given() -> None:
    assert PageSkeleton.compile(b"x<div data-slot=a>A</div>y", b"d" * 20).digest == b"d" * 20


def test_render_parts_join_to_the_rendered_page() -> None:
    skeleton = PageSkeleton.compile(b"x<div data-slot=a>A</div>y")
    assert b"".join(skeleton.render_parts({"a": b"Z"})) == skeleton.render({"a": b"Z"})


# -- items and reordering --------------------------------------------------------------------

LIST = (
    b"<ul data-slot=cats>\n"
    b"  <li data-item=tents>T</li>\n"
    b"  <li>not an item</li>\n"
    b"  <li data-item='boots'><ul><li data-item=inner>I</li></ul></li>\n"
    b'  <li data-item="maps">M</li>\n'
    b"</ul>"
)


def test_items_are_the_direct_children_carrying_data_item() -> None:
    slot = only_slot(LIST)
    assert slot.items == (
        SlotItem("tents", b"<li data-item=tents>T</li>"),
        SlotItem("boots", b"<li data-item='boots'><ul><li data-item=inner>I</li></ul></li>"),
        SlotItem("maps", b'<li data-item="maps">M</li>'),
    )
    assert slot.item_gaps == (b"\n  ", b"\n  <li>not an item</li>\n  ", b"\n  ", b"\n")


@pytest.mark.parametrize(
    ("order", "expected"),
    [
        (["maps", "tents"], ["maps", "tents", "boots"]),
        (["boots"], ["boots", "tents", "maps"]),
        (["nope", "maps", "nope2"], ["maps", "tents", "boots"]),
        (["maps", "maps", "boots"], ["maps", "boots", "tents"]),
        (["inner"], ["tents", "boots", "maps"]),
    ],
)
def test_reordered_puts_named_items_first_and_keeps_the_rest_in_order(
    order: list[str], expected: list[str]
) -> None:
    slot = only_slot(LIST)
    html = {item.key: item.html for item in slot.items}
    out = slot.reordered(order)
    gaps = slot.item_gaps
    assert out == (
        gaps[0]
        + html[expected[0]]
        + gaps[1]
        + html[expected[1]]
        + gaps[2]
        + html[expected[2]]
        + gaps[3]
    )


@pytest.mark.parametrize("order", [[], ["tents", "boots", "maps"], ["tents"], ["unknown"]])
def test_reordered_with_unchanged_order_is_byte_identical(order: list[str]) -> None:
    slot = only_slot(LIST)
    assert slot.reordered(order) == slot.inner


def test_reordered_answers_each_order_alike_however_many_orders_came_before() -> None:
    slot = only_slot(LIST)
    orders = [["maps"], ["boots", "maps"], ["tents"]] + [[f"unknown-{n}"] for n in range(200)]
    first = [slot.reordered(order) for order in orders]
    fresh = only_slot(LIST)
    assert [slot.reordered(order) for order in reversed(orders)] == first[::-1]
    assert first == [fresh.reordered(order) for order in orders]
    assert first[0].index(b"maps") < first[0].index(b"tents")


def test_a_large_slot_keeps_few_or_no_reordered_inners() -> None:
    items = "".join(f"<li data-item=k{n}>{'x' * 2000}</li>" for n in range(40))
    slot = only_slot(f"<ul data-slot=s>{items}</ul>".encode())
    assert len(slot.inner) > skeleton_module._ARRANGED_BYTES_KEPT
    first = slot.reordered(["k3"])
    assert first.startswith(b"<li data-item=k3>") and len(first) == len(slot.inner)
    assert slot.reordered(["k3"]) == first
    assert slot._arrangements == {}


def test_reordered_without_items_is_the_inner_html() -> None:
    slot = only_slot(b"<div data-slot=s>plain <b>text</b></div>")
    assert slot.reordered(["a"]) == b"plain <b>text</b>"


def test_an_item_holding_elements_of_its_own_name_ends_at_its_own_end_tag() -> None:
    page = (
        b"<ul data-slot=s>"
        b"<li data-item=a><ul><li>1</li><li>2</li></ul></li>"
        b"<li data-item=b><!-- </li> --><b>B</b></li>"
        b'<li data-item="c"/>'
        b"<img data-item=d>"
        b"</ul>"
    )
    (slot,) = PageSkeleton.compile(page).slots
    assert [(item.key, item.html) for item in slot.items] == [
        ("a", b"<li data-item=a><ul><li>1</li><li>2</li></ul></li>"),
        ("b", b"<li data-item=b><!-- </li> --><b>B</b></li>"),
        ("c", b'<li data-item="c"/>'),
        ("d", b"<img data-item=d>"),
    ]


def test_unclosed_item_is_not_an_item() -> None:
    skeleton = PageSkeleton.compile(b"<ul data-slot=s><li data-item=a>A<li data-item=b>B</li></ul>")
    (slot,) = skeleton.slots
    assert [item.key for item in slot.items] == ["b"]
    assert skeleton.warnings == ("unclosed item 'a' in slot 's' at line 1",)


# -- properties ------------------------------------------------------------------------------

_PIECES = st.sampled_from(
    [
        b"<div data-slot=a>",
        b"<div data-slot='b'>",
        b'<section data-slot="c">',
        b"</div>",
        b"</section>",
        b"<div>",
        b"<img data-slot=a>",
        b"<br/>",
        b"<div/>",
        b"<!--",
        b"-->",
        b"<script>",
        b"</script>",
        b"<style>",
        b"</style >",
        b"<![CDATA[",
        b"]]>",
        b"<li data-item=x>",
        b"</li>",
        b"<meta name=etalage:t content=",
        b'"',
        b"'",
        b"=",
        b">",
        b"<",
        b"</",
        b"<!",
        b"<?",
        b"<title>",
        b"</title>",
        b"\r\n",
        b" ",
        b"text",
        b"\xff\xfe",
        b"&amp;",
        b"<DIV DATA-SLOT=A>",
    ]
)
_HTMLISH = st.lists(st.one_of(_PIECES, st.binary(max_size=8)), max_size=40).map(b"".join)


@settings(max_examples=400)
@given(_HTMLISH)
def test_compile_never_raises_and_render_without_replacements_is_the_input(page: bytes) -> None:
    skeleton = PageSkeleton.compile(page)
    assert skeleton.render({}) == page
    assert reassembled(skeleton) == page
    assert len(skeleton.chunks) == len(skeleton.slots) + 1
    for slot in skeleton.slots:
        assert slot.reordered([]) == slot.inner
        assert len(slot.reordered([item.key for item in reversed(slot.items)])) == len(slot.inner)


@settings(max_examples=200)
@given(_HTMLISH)
def test_render_with_replacements_keeps_every_literal_chunk(page: bytes) -> None:
    skeleton = PageSkeleton.compile(page)
    out = skeleton.render({name: b"#" for name in skeleton.slot_names})
    expected = [skeleton.chunks[0]]
    for slot, chunk in zip(skeleton.slots, skeleton.chunks[1:], strict=True):
        expected += [slot.open_tag, b"#", slot.close_tag, chunk]
    assert out == b"".join(expected)


@settings(max_examples=200)
@given(_HTMLISH)
def test_reading_every_tag_at_once_gives_the_same_skeleton(page: bytes) -> None:
    """Hostile pages make the compiler give up counting one tag name at a time."""
    with mock.patch.object(html_reading, "_READ_BUDGET", -1):
        every_tag = PageSkeleton.compile(page)
    by_name = PageSkeleton.compile(page)
    assert (every_tag.chunks, every_tag.slots, every_tag.facts, every_tag.warnings) == (
        by_name.chunks,
        by_name.slots,
        by_name.facts,
        by_name.warnings,
    )


_TEXT = st.text(alphabet="ab <>&\"'\n/=é", max_size=6).map(
    lambda text: text.replace("<", "&lt;").encode("utf-8")
)
_NOISE = st.sampled_from(
    [
        b"",
        b"<br>",
        b"<img src='a>b'>",
        b"<!-- <div data-slot=fake> -->",
        b"<script>'<div data-slot=fake></div></div>'</script>",
        b"<p>para</p>",
        b"<svg><path/></svg>",
    ]
)


@st.composite
def _inner_html(draw: st.DrawFn, tag: bytes, depth: int = 0) -> bytes:
    parts = [draw(_TEXT), draw(_NOISE)]
    if depth < 2 and draw(st.booleans()):
        parts.append(
            b"<" + tag + b" class=n>" + draw(_inner_html(tag, depth + 1)) + b"</" + tag + b">"
        )
    parts.append(draw(_TEXT))
    return b"".join(parts)


@st.composite
def _document(draw: st.DrawFn) -> tuple[bytes, list[tuple[str, bytes, bytes, bytes]]]:
    """A well-formed page: literal segments and slots (name, open tag, inner, close tag)."""
    segments: list[tuple[str, bytes, bytes, bytes]] = []
    for _ in range(draw(st.integers(0, 5))):
        literal = draw(_TEXT) + draw(_NOISE)
        segments.append(("", literal, b"", b""))
        name = draw(st.sampled_from(["hero", "promo", "cats"]))
        tag = draw(st.sampled_from([b"div", b"section", b"UL", b"span"]))
        quote = draw(st.sampled_from([b'"', b"'", b""]))
        open_tag = b"<" + tag + b" id=x data-slot=" + quote + name.encode() + quote + b">"
        segments.append((name, open_tag, draw(_inner_html(tag)), b"</" + tag.lower() + b">"))
    segments.append(("", draw(_TEXT), b"", b""))
    return b"".join(o + i + c for _, o, i, c in segments), segments


@settings(max_examples=300)
@given(_document(), st.sampled_from(["hero", "promo", "cats", "absent"]))
def test_render_replaces_exactly_the_generated_slots(
    generated: tuple[bytes, list[tuple[str, bytes, bytes, bytes]]], target: str
) -> None:
    page, segments = generated
    expected = b"".join(
        open_tag + (b"X" if name == target else inner) + close_tag
        for name, open_tag, inner, close_tag in segments
    )
    skeleton = PageSkeleton.compile(page)
    assert skeleton.warnings == ()
    assert [slot.name for slot in skeleton.slots] == [s[0] for s in segments if s[0]]
    assert skeleton.render({target: b"X"}) == expected
