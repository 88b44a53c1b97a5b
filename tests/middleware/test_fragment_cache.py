"""The fragment cache serves a stored render only when everything the fragment read agrees."""

from __future__ import annotations

from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st
from jinja2 import ChainableUndefined, Environment

from etalage.middleware.fragment_cache import LONGEST_KEPT_READS, FragmentCache

ENV = Environment(autoescape=True, undefined=ChainableUndefined)
BRANCHY = ENV.from_string(
    "{% if visitor.name %}Hi {{ visitor.name }}{% else %}{{ visitor.get('search.last', '-') }}"
    "{% endif %}{% if 'cart.items' in visitor and visitor['cart.items'] > 1 %} +cart{% endif %}"
)


def renderer(template: Any, calls: list[int]):
    def render(visitor):
        calls.append(1)
        return template.render(visitor=visitor)

    return render


def test_same_read_values_are_served_from_the_cache():
    cache, calls = FragmentCache(), []
    render = renderer(BRANCHY, calls)
    first = cache.render(("t",), {"name": "Ana", "unrelated": 1}, render)
    second = cache.render(("t",), {"name": "Ana", "unrelated": 2, "search.last": "x"}, render)
    assert first == second == "Hi Ana"
    assert len(calls) == 1 and cache.hits == 1


def test_a_changed_read_value_renders_again():
    cache, calls = FragmentCache(), []
    render = renderer(BRANCHY, calls)
    assert cache.render(("t",), {"name": "Ana"}, render) == "Hi Ana"
    assert cache.render(("t",), {"name": "Bo"}, render) == "Hi Bo"
    assert cache.render(("t",), {"search.last": "tent"}, render) == "tent"
    assert cache.render(("t",), {"search.last": "tent", "cart.items": 3}, render) == "tent +cart"
    assert len(calls) == 4


def test_the_fixed_part_of_the_key_separates_templates_and_pages():
    cache, calls = FragmentCache(), []
    render = renderer(BRANCHY, calls)
    cache.render(("t", "/a"), {"name": "Ana"}, render)
    cache.render(("t", "/b"), {"name": "Ana"}, render)
    assert len(calls) == 2


def test_a_render_that_read_long_text_is_rendered_each_time_not_kept():
    cache, calls = FragmentCache(), []
    render = renderer(BRANCHY, calls)
    term = "tent " * (LONGEST_KEPT_READS // 5 + 1)  # a visitor's 2 KB search term
    for _ in range(3):
        assert cache.render(("t",), {"search.last": term}, render) == term
    assert (len(calls), cache.hits) == (3, 0)
    assert cache.render(("t",), {"search.last": "tent"}, render) == "tent"
    assert cache.render(("t",), {"search.last": "tent"}, render) == "tent"
    assert (len(calls), cache.hits) == (4, 1)


def test_a_template_that_iterates_the_visitor_is_never_cached():
    cache, calls = FragmentCache(), []
    render = renderer(ENV.from_string("{% for k in visitor %}{{ k }}{% endfor %}"), calls)
    assert cache.render(("t",), {"a": 1}, render) == "a"
    assert cache.render(("t",), {"a": 1}, render) == "a"
    assert len(calls) == 2


def test_entries_expire_and_the_cache_is_bounded():
    now = [0.0]
    cache, calls = FragmentCache(max_entries=2, max_age=10, clock=lambda: now[0]), []
    render = renderer(BRANCHY, calls)
    for name in ("a", "b", "c"):
        cache.render(("t",), {"name": name}, render)
    cache.render(("t",), {"name": "a"}, render)  # evicted: the oldest of three
    assert len(calls) == 4
    now[0] = 11
    cache.render(("t",), {"name": "a"}, render)
    assert len(calls) == 5


def test_size_zero_disables_the_cache():
    cache, calls = FragmentCache(max_entries=0), []
    render = renderer(BRANCHY, calls)
    cache.render(("t",), {"name": "Ana"}, render)
    cache.render(("t",), {"name": "Ana"}, render)
    assert len(calls) == 2


VISITORS = st.fixed_dictionaries(
    {},
    optional={
        "name": st.one_of(st.none(), st.sampled_from(["", "Ana", "<b>Bo</b>"])),
        "search.last": st.sampled_from(["tent", "'x'", ""]),
        "cart.items": st.integers(0, 3),
        "noise": st.integers(),
    },
)


@settings(max_examples=200)
@given(st.lists(VISITORS, min_size=1, max_size=12))
def test_cached_output_always_equals_a_fresh_render(visitors):
    cache = FragmentCache()
    render = renderer(BRANCHY, [])
    for visitor in visitors:
        assert cache.render(("t",), visitor, render) == BRANCHY.render(visitor=visitor)


def test_lists_are_keys_by_their_items_and_the_items_types():
    cache, calls = FragmentCache(), []
    render = renderer(ENV.from_string("{{ visitor.get('recent') }}"), calls)
    assert cache.render(("t",), {"recent": ["/a", "/b"]}, render) == "[&#39;/a&#39;, &#39;/b&#39;]"
    assert cache.render(("t",), {"recent": ["/a", "/b"]}, render) == "[&#39;/a&#39;, &#39;/b&#39;]"
    assert len(calls) == 1  # the same texts: a hit
    assert cache.render(("t",), {"recent": ["1"]}, render) == "[&#39;1&#39;]"
    assert cache.render(("t",), {"recent": [1]}, render) == "[1]"  # text or number: two renders
    assert cache.render(("t",), {"recent": [True]}, render) == "[True]"
    assert cache.render(("t",), {"recent": "['1']"}, render) == "[&#39;1&#39;]"
    assert cache.render(("t",), {"recent": []}, render) == "[]"
    assert len(calls) == 6
