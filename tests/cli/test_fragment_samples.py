"""Fragments read for names and keys that do not exist, and rendered under StrictUndefined for
the sample visitors their rule matches."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from etalage.cli.fragment_samples import fragment_warnings, sample_visitors
from etalage.rules import load_ruleset

NOW = datetime(2026, 11, 20, 10, 0, tzinfo=UTC)

RULES = """\
version: 1
segments:
  big-cart: {cart.value: {$gt: 1000}}
rules:
  - id: banner
    slot: consent
    fragment: banner.html
    when: {consent.personalization: {$exists: false}}
  - id: search
    slot: hero
    fragment: search.html
    when: {search.last: {$exists: true}}
  - id: desk
    slot: help
    fragment: desk.html
    when: {device.type: desktop, prefs.level: expert}
  - id: big
    slot: offer
    fragment: big.html
    when: {segment.big-cart: true}
"""
FRAGMENTS = {
    "banner.html": "Welcome",
    "search.html": "{{ visitor['search.last'] }}",
    "desk.html": "{{ visitor['prefs.level'] }}",
    "big.html": "{{ visitor['cart.value'] }}",
}


def warnings_for(tmp_path: Path, globals_: dict[str, object] | None = None, **edits: str) -> list[str]:
    """`fragment_warnings` for `RULES` with `FRAGMENTS` changed by `edits` (``banner="..."``)."""
    (tmp_path / "fragments").mkdir(exist_ok=True)
    for name, text in FRAGMENTS.items():
        (tmp_path / "fragments" / name).write_text(edits.get(name.removesuffix(".html"), text))
    (tmp_path / "site.yaml").write_text(RULES)
    ruleset = load_ruleset(tmp_path / "site.yaml")
    segments = {"big-cart": {"cart.value": {"$gt": 1000}}}
    return fragment_warnings(ruleset, segments, globals_, now=NOW)


def test_the_fragments_as_written_give_no_warning(tmp_path):
    assert warnings_for(tmp_path) == []


@pytest.mark.parametrize(
    ("fragment", "text", "warning"),
    [
        ("banner", "<p>\n{{ visitr.name }}</p>", "banner.html:2: 'visitr' is undefined (did you mean 'visitor'?)"),
        ("banner", "{% if consent %}{{ visitor.nmae }}{% endif %}", "banner.html:1: visitor.nmae: unknown attribute 'nmae' (did you mean 'name'?)"),
        ("banner", "{{ visitor['serch.last'] }}", "banner.html:1: visitor['serch.last']: unknown attribute 'serch.last' (did you mean 'search.last'?)"),
        ("banner", "{{ visitor.search.last }}", "banner.html:1: visitor.search: unknown attribute 'search' (did you mean visitor['search.last']?)"),
        ("banner", "{% if false %}{{ rule.slt }}{% endif %}", "banner.html:1: rule.slt: 'rule' has only id, reason, slot"),
    ],
)  # fmt: skip
def test_names_and_keys_that_never_exist_are_named_in_every_branch(
    tmp_path, fragment, text, warning
):
    assert warnings_for(tmp_path, **{fragment: text}) == [f"{tmp_path}/fragments/{warning}"]


def test_a_value_this_visitor_lacks_is_reported_for_the_sample_that_lacks_it(tmp_path):
    # The banner's rule matches a first visit, who has no search.
    assert warnings_for(tmp_path, banner="<p>\n{{ visitor['search.last'] }}</p>") == [
        f"{tmp_path}/fragments/banner.html:2: visitor['search.last'] is undefined for this "
        "visitor: read it with visitor.get('search.last') or test it with 'is defined' "
        "(rendering for a first visit)"
    ]


def test_missing_values_read_with_get_or_tested_with_is_defined_are_fine(tmp_path):
    banner = (
        "{{ visitor.get('search.last') }}{{ visitor.get('prefs.name', 'you') }}"
        "{% if visitor['search.last'] is defined %}{{ visitor['search.last'] }}{% endif %}"
        "{% if visitor.name %}{{ visitor.name }}{% endif %}{{ page.topic }}{{ page.get('sku') }}"
        "{{ rule.id }} {{ why_url }} {{ default }}"
    )
    assert warnings_for(tmp_path, banner=banner) == []


def test_a_fragment_renders_only_for_visitors_its_rule_matches(tmp_path):
    # A first visit has no search, but the rule never shows it this fragment.
    assert warnings_for(tmp_path, search="{{ visitor['search.last'].upper() }}") == []


@pytest.mark.parametrize(
    ("fragment", "label"),
    [
        ("banner", "a first visit"),
        ("search", "a visitor with history"),
        ("desk", "a visitor with history, adjusted to the rule"),  # desktop, expert
        ("big", "a visitor with history, adjusted to the rule"),  # through the segment
    ],
)
def test_a_render_failure_names_file_line_and_the_sample_visitor(tmp_path, fragment, label):
    [warning] = warnings_for(tmp_path, **{fragment: "ok\n{{ rule.slot + 1 }}"})
    assert warning == (
        f"{tmp_path}/fragments/{fragment}.html:2: TypeError: can only concatenate str (not "
        f'"int") to str (rendering for {label})'
    )


def test_without_the_sites_globals_only_names_like_a_context_name_are_reported(tmp_path):
    banner = "{{ eur(product('x').price) }}{% for c in categories %}{{ c }}{% endfor %}{{ pgae }}"
    assert warnings_for(tmp_path, banner=banner) == [
        f"{tmp_path}/fragments/banner.html:1: 'pgae' is undefined (did you mean 'page'?)"
    ]


def test_with_the_sites_globals_every_undefined_name_is_reported(tmp_path):
    names = {"products_for": lambda topic: [], "eur": str}
    banner = "{{ products_for('x') }}\n{{ product_for('x') }}"
    assert warnings_for(tmp_path, names, banner=banner) == [
        f"{tmp_path}/fragments/banner.html:2: 'product_for' is undefined "
        "(did you mean 'products_for'?)"
    ]


def test_an_imported_template_is_read_too(tmp_path):
    (tmp_path / "fragments").mkdir()
    (tmp_path / "fragments" / "_macros.html").write_text(
        "{% macro hello() %}\n{{ visitor['serch.last'] }}{% endmacro %}"
    )
    assert warnings_for(tmp_path, banner='{% import "_macros.html" as m %}{{ m.hello() }}') == [
        f"{tmp_path}/fragments/_macros.html:2: visitor['serch.last']: unknown attribute "
        "'serch.last' (did you mean 'search.last'?)"
    ]


def test_the_samples_are_a_first_visit_and_a_consenting_visitor_with_history(tmp_path):
    (tmp_path / "site.yaml").write_text("version: 1\nrules: []\n")
    first, known = sample_visitors(load_ruleset(tmp_path / "site.yaml"), NOW)
    assert "consent.personalization" not in first.attributes
    assert "search.last" not in first.attributes
    assert known.attributes["consent.personalization"] is True
    assert known.attributes["search.last"] == "tent"
    assert known.attributes["interest.top"] == "camping"
    assert known.attributes["prefs.name"] == "Ada"
    assert known.attributes["lifecycle"] == "customer"
