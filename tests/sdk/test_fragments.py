"""Fragments: Jinja2 with autoescape, compiled once; every failure is a `FragmentError`."""

from __future__ import annotations

from pathlib import Path

import pytest
from markupsafe import Markup

from etalage.errors import FragmentError
from etalage.fragments import FragmentRenderer

HOSTILE = [
    "<script>alert(1)</script>",
    "<img src=x onerror=alert(1)>",
    '"><svg onload=alert(1)>',
    "' onmouseover='alert(1)",
    "&lt;already&gt; & more",
]


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    (tmp_path / "hero").mkdir()
    (tmp_path / "hero" / "search.html").write_text(
        '<a href="/search?q={{ visitor["search.last"] }}" title=\'{{ visitor.name }}\'>'
        "{{ visitor['search.last'] }}</a>"
    )
    (tmp_path / "default.html").write_text("<div>{{ default }}</div>")
    (tmp_path / "hello.html").write_text("Hello {{ visitor.name }}!{{ visitor.missing.deeper }}")
    (tmp_path / "rule.html").write_text(
        '<p>{{ rule.reason }} <a href="{{ why_url }}">Why?</a> {{ page.topic }}</p>'
    )
    (tmp_path / "broken.html").write_text("line one\n{% if visitor.name %}\nno end\n")
    (tmp_path / "crash.html").write_text("{{ 1 / visitor.zero }}")
    (tmp_path / "call.html").write_text("{{ visitor.nothing() }}")
    (tmp_path / "includes.html").write_text("{% include 'gone.html' %}")
    (tmp_path / "counter.html").write_text("{{ visitor.n }}")
    return tmp_path


@pytest.fixture
def renderer(folder: Path) -> FragmentRenderer:
    return FragmentRenderer(folder)


def render(renderer: FragmentRenderer, fragment: str, **visitor) -> str:
    return renderer.render(fragment, {"visitor": visitor})


@pytest.mark.parametrize("hostile", HOSTILE)
def test_visitor_data_is_escaped(renderer, hostile):
    html = render(renderer, "hero/search.html", **{"search.last": hostile, "name": hostile})
    assert "<script" not in html
    assert "<img" not in html
    assert "<svg" not in html
    assert "onmouseover='" not in html
    assert html.count("<a ") == 1 and html.count('"') == 2 and html.count("'") == 2


def test_escaping_turns_markup_into_entities(renderer):
    html = render(renderer, "hello.html", name="<b>Ada</b> & \"Bob\" 'C'")
    assert html == "Hello &lt;b&gt;Ada&lt;/b&gt; &amp; &#34;Bob&#34; &#39;C&#39;!"


def test_the_slot_default_is_kept_as_markup(renderer):
    html = renderer.render("default.html", {"default": Markup("<em>as is</em>")})
    assert html == "<div><em>as is</em></div>"


def test_a_plain_string_default_is_escaped(renderer):
    html = renderer.render("default.html", {"default": "<em>text</em>"})
    assert html == "<div>&lt;em&gt;text&lt;/em&gt;</div>"


def test_undefined_attributes_render_empty(renderer):
    assert render(renderer, "hello.html") == "Hello !"
    assert renderer.render("rule.html", {}) == '<p> <a href="">Why?</a> </p>'


def test_rule_page_and_why_url_are_available(renderer):
    html = renderer.render(
        "rule.html",
        {
            "rule": {"id": "r1", "slot": "hero", "reason": "You searched"},
            "why_url": "/_etalage/profile#rule-r1",
            "page": {"topic": "camping"},
        },
    )
    assert html == '<p>You searched <a href="/_etalage/profile#rule-r1">Why?</a> camping</p>'


def test_a_missing_fragment_is_a_fragment_error(renderer, folder):
    with pytest.raises(FragmentError, match="nope.html: fragment not found"):
        render(renderer, "nope.html")


@pytest.mark.parametrize("name", ["../outside.html", "/etc/passwd", "hero/../../x.html"])
def test_fragments_outside_the_folder_are_not_found(renderer, folder, name):
    (folder.parent / "outside.html").write_text("secret")
    with pytest.raises(FragmentError, match="not found"):
        render(renderer, name)


def test_a_runtime_error_is_a_fragment_error(renderer):
    with pytest.raises(FragmentError, match=r"crash\.html: ZeroDivisionError"):
        render(renderer, "crash.html", zero=0)


def test_calling_an_undefined_attribute_is_a_fragment_error(renderer):
    with pytest.raises(FragmentError, match=r"call\.html"):
        render(renderer, "call.html")


def test_a_syntax_error_at_render_time_is_a_fragment_error(renderer):
    with pytest.raises(FragmentError, match=r"broken\.html:\d+: "):
        render(renderer, "broken.html")


def test_a_missing_include_names_the_missing_template(renderer):
    with pytest.raises(FragmentError, match=r"includes\.html: template 'gone\.html' not found"):
        render(renderer, "includes.html")


def test_check_accepts_good_fragments(renderer):
    assert renderer.check(["hero/search.html", "default.html", "hello.html"]) == []


def test_check_reports_a_missing_fragment(renderer, folder):
    assert renderer.check(["nope.html"]) == [f"{folder / 'nope.html'}: fragment not found"]


def test_check_reports_a_syntax_error_with_file_and_line(renderer, folder):
    [problem] = renderer.check(["broken.html"])
    path, line, message = problem.split(":", 2)
    assert Path(path) == folder / "broken.html"
    assert int(line) >= 2
    assert "endif" in message


def test_check_reports_every_problem(renderer):
    assert len(renderer.check(["nope.html", "broken.html", "hello.html", "also-nope.html"])) == 3


def test_templates_are_compiled_once(renderer, folder):
    assert render(renderer, "counter.html", n=1) == "1"
    (folder / "counter.html").write_text("changed {{ visitor.n }}")
    assert render(renderer, "counter.html", n=2) == "2"


def test_a_lone_surrogate_in_visitor_data_does_not_break_the_page(renderer):
    html = render(renderer, "hello.html", name="Zo\ud800e")
    assert html.encode("utf-8").startswith(b"Hello Zo")
