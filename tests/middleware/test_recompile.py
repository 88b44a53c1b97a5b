"""recompile: a new version of a page built from the skeleton of the last one is
what a full compile of it gives, in every way a caller can see; or it says why it was not built."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from etalage.middleware.recompile import Fallback, recompile
from etalage.middleware.skeleton import PageSkeleton

from .test_skeleton import _HTMLISH, _PIECES, _document

HOME = (Path(__file__).resolve().parents[2] / "demo_site" / "pages" / "index.html").read_bytes()
CART_LINK = b'<a class="cart-link" href="/cart">Cart</a>'


def observed(skeleton: PageSkeleton) -> tuple[object, ...]:
    """Everything a caller sees of a skeleton but its digest."""
    everything = {name: b"#" + name.encode() for name in skeleton.slot_names}
    return (
        skeleton.source,
        skeleton.chunks,
        skeleton.slots,
        skeleton.slot_names,
        skeleton.facts,
        skeleton.warnings,
        skeleton.selectors,
        skeleton.render({}),
        skeleton.render(everything),
        skeleton.render_parts(everything),
        [slot.default_text for slot in skeleton.slots],
        [slot.reordered([item.key for item in reversed(slot.items)]) for slot in skeleton.slots],
        repr(skeleton),
    )


def recompiled_as_compiled(last: PageSkeleton, html: bytes) -> PageSkeleton | Fallback:
    """`html` recompiled from `last`: when it is, it must be what compiling it gives, and its
    digest that of the compiled one (and another than the last one's, unless it is the same
    page). Gives the recompiled skeleton or why there is none."""
    result = recompile(last, html)
    if isinstance(result, Fallback):
        return result
    compiled = PageSkeleton.compile(html, selectors=last.selectors)
    assert observed(result) == observed(compiled)
    assert result.digest == compiled.digest
    assert (result.digest == last.digest) == (html == last.source)
    return result


def home_page(token: bytes, items: int | None = None) -> bytes:
    """The demo home page as a site renders it per request: a CSRF token in its head, and how
    many items are in the cart in its header."""
    head, tail = HOME.split(b"</head>", 1)
    page = head + b'<meta name="csrf-token" content="' + token + b'">\n</head>' + tail
    if items is None:
        return page
    return page.replace(
        CART_LINK, b'<a class="cart-link" href="/cart">%d items in cart</a>' % items
    )


# -- what is recompiled --------------------------------------------------------------------------


def test_the_same_page_is_its_own_skeleton() -> None:
    skeleton = PageSkeleton.compile(home_page(b"a" * 32))
    assert recompile(skeleton, bytearray(home_page(b"a" * 32))) is skeleton


def test_a_page_with_a_new_token_and_cart_count_is_recompiled_request_after_request() -> None:
    skeleton = PageSkeleton.compile(home_page(b"0" * 32, 0))
    for n, token in enumerate([b"1f" * 16, b"e3" * 16, b"e3" * 15 + b"ff", b"0" * 32]):
        new = recompiled_as_compiled(skeleton, home_page(token, n * 7))
        assert isinstance(new, PageSkeleton), new
        assert new.slots is skeleton.slots  # the slots are the last version's own
        skeleton = new


@pytest.mark.parametrize(
    ("page", "new"),
    [
        (b"<p>3 items</p><div data-slot=a>A</div>", b"<p>12 items</p><div data-slot=a>A</div>"),
        (b"<div data-slot=a>A</div><p>3</p>", b"<div data-slot=a>A</div><p></p>"),  # text out
        (b"<div data-slot=a>A</div><p></p>", b"<div data-slot=a>A</div><p>3</p>"),  # text in
        (b"<div data-slot=a>A</div>", b"<div data-slot=a>A</div>!"),  # text after the end
        (b"<p>x</p><div data-slot=a>A</div>", b"<p>x</p>y<div data-slot=a>A</div>"),
        (b"<!-- x -- > y --><p>", b"<!-- x --> y --><p>"),  # a shorter comment, then text
        (b'<form><input name=csrf value="a1">', b'<form><input name=csrf value="b22">'),
        (b"<script>var t = 'a1';</script><b>", b"<script>var t = 'b2';</script><b>"),
        (b"<style>a{color:red}</style>", b"<style>a{color:blue}</style>"),
        (b"<!-- rendered at 10:01 --><p>", b"<!-- rendered at 10:02 --><p>"),
        (b"<title data-v=1>Shop</title>", b"<title data-v=2>Shop</title>"),
        (b"<title>Shop  </title>", b"<title>Shop\n</title>"),  # the same title text
        (
            b'<meta name="etalage:topic" content="x" data-n=1>',
            b'<meta name="etalage:topic" content="x" data-n=2>',
        ),
        (b"<P TITLE=a>x</P>", b"<P TITLE=bb>x</P>"),
        (b"\xff\xfe<p>\x00</p>", b"\xff\xfe<p>\x01\x02</p>"),
        (b"<p>1</p><p>2</p><p>3</p>", b"<p>4</p><p>5</p><p>6</p>"),  # one change per token
    ],
)
def test_changes_inside_tokens_the_compiler_does_not_read_are_recompiled(
    page: bytes, new: bytes
) -> None:
    assert isinstance(recompiled_as_compiled(PageSkeleton.compile(page), new), PageSkeleton)


def test_a_page_with_warnings_is_recompiled_while_its_lines_stay() -> None:
    page = b"<p>a\nb</p>\n<img data-slot=pic>"
    skeleton = PageSkeleton.compile(page)
    assert skeleton.warnings == ("void element <img> cannot be slot 'pic' at line 3",)
    new = recompiled_as_compiled(skeleton, page.replace(b"a\nb", b"\nabc"))
    assert isinstance(new, PageSkeleton)
    assert new.warnings == skeleton.warnings


def test_selectors_that_were_not_looked_for_do_not_stop_a_recompile() -> None:
    """A page marking every selector's slot with data-slot is not read by the selectors."""
    selectors = {"hero": ".hero"}
    skeleton = PageSkeleton.compile(b"<p>1</p><div data-slot=hero>H</div>", selectors=selectors)
    new = recompiled_as_compiled(skeleton, b"<p>2</p><div data-slot=hero>H</div>")
    assert isinstance(new, PageSkeleton)
    assert new.selectors is selectors


# -- and why not ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("page", "new", "reason"),
    [
        pytest.param(
            b"<p>x</p><div data-slot=a>3 items</div>",
            b"<p>x</p><div data-slot=a>4 items</div>",
            Fallback.IN_SLOT,
            id="a slot's default content",
        ),
        pytest.param(
            b"<div data-slot=a title=1>A</div>",
            b"<div data-slot=a title=2>A</div>",
            Fallback.IN_SLOT,
            id="a slot's start tag",
        ),
        pytest.param(
            b"<p title=a >x</p>", b"<p title=a />x</p>", Fallback.RETOKENIZED, id="self-closing"
        ),
        pytest.param(b"<p title='a'>x", b"<p title=\"a'>x", Fallback.RETOKENIZED, id="a quote"),
        pytest.param(b"<b>x</b>", b"<i>x</i>", Fallback.RETOKENIZED, id="another tag"),
        pytest.param(b"<p>x</p>", b"<p>x<!p>", Fallback.RETOKENIZED, id="a tag to a comment"),
        pytest.param(b"<p>x<b>y</b>", b"<p>x<!b>y</b>", Fallback.RETOKENIZED, id="a tag out"),
        pytest.param(b"<p title=a>", b"<p title='a<b'>", Fallback.MARKUP, id="a '<' in"),
        pytest.param(b"<p title='a<b'>", b"<p title=a>", Fallback.MARKUP, id="a '<' out"),
        pytest.param(
            b"<img data-slot=pic alt=1>",
            b"<img data-slot=pic alt=2>",
            Fallback.READ,
            id="data-slot",
        ),
        pytest.param(b"<p>data-slox</p>", b"<p>data-slot</p>", Fallback.READ, id="data-slot text"),
        pytest.param(
            b'<meta name="etalage:topic" content="tents">',
            b'<meta name="etalage:topic" content="boots">',
            Fallback.READ,
            id="a meta fact",
        ),
        pytest.param(
            b'<meta name="etalage:t" content=x>',
            b'<meta name="etalage:T" content=x>',
            Fallback.READ,
            id="a meta fact's name",
        ),
        pytest.param(
            b"<title>Cart (3)</title>", b"<title>Cart (4)</title>", Fallback.READ, id="title"
        ),
        pytest.param(
            b"<p>a</p>\n<div data-slot=x>",
            b"<p>\na</p>\n<div data-slot=x>",
            Fallback.LINES,
            id="lines a warning names",
        ),
        pytest.param(
            b"".join(b"<p>%d</p>" % n for n in range(20)),
            b"".join(b"<p>%d</p>" % (n + 1) for n in range(20)),
            Fallback.SCATTERED,
            id="changes in 20 places",
        ),
        pytest.param(
            b"<" * 5000 + b"<p>1</p>",
            b"<" * 5000 + b"<p>2</p>",
            Fallback.COSTLY,
            id="more to read than a compile reads",
        ),
    ],
)
def test_a_change_that_may_change_the_skeleton_is_left_to_a_full_compile(
    page: bytes, new: bytes, reason: Fallback
) -> None:
    assert recompile(PageSkeleton.compile(page), new) is reason


def test_a_skeleton_not_made_by_compile_is_not_recompiled() -> None:
    skeleton = PageSkeleton(b"<p>1</p>", (b"<p>1</p>",), (), {}, ())
    assert recompile(skeleton, b"<p>2</p>") is Fallback.NOT_COMPILED


def test_a_page_read_by_selectors_is_not_recompiled() -> None:
    page = b"<main><p>1</p><div class=hero>H</div></main>"
    skeleton = PageSkeleton.compile(page, selectors={"hero": ".hero"})
    assert skeleton.slot_names == frozenset({"hero"})
    assert recompile(skeleton, page.replace(b"1", b"2")) is Fallback.SELECTORS


# -- properties --------------------------------------------------------------------------------

_EDIT_BYTES = st.lists(
    st.sampled_from(
        [b"a", b"7", b" ", b"\n", b'"', b"'", b"<", b">", b"/", b"=", b"-", b"!", b"&", b"x"]
        + [b"data-slot", b"<meta", b"<title", b"etalage:", b"-->", b"</div>"]
    )
    | st.binary(max_size=3),
    max_size=4,
).map(b"".join)


@st.composite
def _edited(draw: st.DrawFn, page: bytes) -> bytes:
    """`page` with a few bytes replaced, put in or taken out somewhere."""
    start = draw(st.integers(0, len(page)))
    end = draw(st.integers(start, min(len(page), start + 6)))
    return page[:start] + draw(_EDIT_BYTES) + page[end:]


@settings(max_examples=400)
@given(st.one_of(_HTMLISH, _document().map(lambda generated: generated[0])), st.data())
def test_an_edited_page_recompiles_as_it_compiles(page: bytes, data: st.DataObject) -> None:
    """Random and hostile pages, edited again and again; each version recompiled from the last
    one's skeleton (recompiled or compiled)."""
    last = PageSkeleton.compile(page)
    for _ in range(data.draw(st.integers(1, 4), label="versions")):
        page = data.draw(_edited(page), label="version")
        result = recompiled_as_compiled(last, page)
        last = PageSkeleton.compile(page) if isinstance(result, Fallback) else result


_VALUES = st.lists(st.sampled_from([b"a", b"1", b"f", b" ", b"\n"]) | _EDIT_BYTES, max_size=3).map(
    b"".join
)


@settings(max_examples=300)
@given(
    st.lists(
        st.lists(st.one_of(_PIECES, st.binary(max_size=6)), max_size=10).map(b"".join),
        min_size=2,
        max_size=4,
    ),
    st.lists(st.lists(_VALUES, min_size=3, max_size=3), min_size=2, max_size=6),
)
def test_a_page_rendered_anew_per_request_recompiles_as_it_compiles(
    template: list[bytes], versions: list[list[bytes]]
) -> None:
    """A template whose values change on every request, in the same places: what the last
    recompile found is where the next one looks first."""
    last: PageSkeleton | None = None
    for values in versions:
        page = template[0] + b"".join(values[n % 3] + part for n, part in enumerate(template[1:]))
        result = None if last is None else recompiled_as_compiled(last, page)
        last = result if isinstance(result, PageSkeleton) else PageSkeleton.compile(page)


@settings(max_examples=100)
@given(
    st.lists(
        st.tuples(st.binary(min_size=16, max_size=16), st.integers(0, 120)),
        min_size=1,
        max_size=5,
    )
)
def test_the_home_page_rendered_per_request_is_always_recompiled(
    requests: list[tuple[bytes, int]],
) -> None:
    skeleton = PageSkeleton.compile(home_page(b"0" * 32, 0))
    for token, items in requests:
        new = recompiled_as_compiled(skeleton, home_page(token.hex().encode(), items))
        assert isinstance(new, PageSkeleton), new
        skeleton = new
