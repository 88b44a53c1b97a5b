"""`etalage.jinja.SlotExtension`: slots written in Jinja2 templates, read by the middleware."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from jinja2 import DictLoader, Environment, TemplateSyntaxError
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route
from starlette.templating import Jinja2Templates
from starlette.testclient import TestClient

from etalage.errors import RuleFileError
from etalage.jinja import SlotExtension
from etalage.middleware import EtalageMiddleware
from etalage.middleware.skeleton import PageSkeleton
from etalage.rules.loader import parse_ruleset
from tests.middleware.site_fixture import DESKTOP, IPHONE, write_site

KEYS = ["jinja-secret"]

PAGE = """\
<!doctype html>
<html><body>
{% slot "hero" %}<h1>{{ title }}</h1>{% endslot %}
{% slot "categories" tag="nav" class="menu" %}
  {%- for topic in topics %}{% slotitem topic tag="a" href="/c/" ~ topic %}{{ topic|title }}{% endslotitem %}{% endfor -%}
{% endslot %}
</body></html>
"""


def render(source: str, autoescape: bool = True, **context: object) -> str:
    env = Environment(extensions=["etalage.jinja.SlotExtension"], autoescape=autoescape)
    return env.from_string(source).render(**context)


def test_slot_renders_a_div_with_its_default_content() -> None:
    html = render('{% slot "hero" %}<h1>Autumn gear</h1>{% endslot %}')
    assert html == '<div data-slot="hero"><h1>Autumn gear</h1></div>'


def test_default_content_is_autoescaped() -> None:
    html = render('{% slot "hero" %}<h1>{{ title }}</h1>{% endslot %}', title="<script>")
    assert html == '<div data-slot="hero"><h1>&lt;script&gt;</h1></div>'


def test_without_autoescape_the_default_content_is_left_as_written() -> None:
    html = render('{% slot "hero" %}<h1>{{ title }}</h1>{% endslot %}', False, title="<b>A</b>")
    assert html == '<div data-slot="hero"><h1><b>A</b></h1></div>'


@pytest.mark.parametrize(
    ("options", "start_tag"),
    [
        ('tag="nav"', '<nav data-slot="s">'),
        ('tag="section" class="hero big"', '<section data-slot="s" class="hero big">'),
        ("class=css", '<div data-slot="s" class="a&#34; onclick=&#34;x">'),
        ('aria_label="Offers", hidden=True', '<div data-slot="s" aria-label="Offers" hidden>'),
        ("hidden=False, title=none, lang=missing", '<div data-slot="s">'),
    ],
    ids=["element", "class", "escaped-value", "underscore-and-bare", "left-out"],
)
def test_slot_options_set_the_element_and_its_attributes(options: str, start_tag: str) -> None:
    html = render(f'{{% slot "s" {options} %}}x{{% endslot %}}', css='a" onclick="x')
    assert html.startswith(start_tag + "x</")


def test_items_render_as_data_item_children() -> None:
    html = render(PAGE, title="Autumn", topics=["camping", "hiking"])
    assert (
        '<nav data-slot="categories" class="menu">'
        '<a data-item="camping" href="/c/camping">Camping</a>'
        '<a data-item="hiking" href="/c/hiking">Hiking</a></nav>'
    ) in html


def test_the_page_compiler_reads_the_rendered_slots_and_items() -> None:
    html = render(PAGE, title="Autumn & co", topics=["camping", "hiking"])
    skeleton = PageSkeleton.compile(html.encode())
    assert skeleton.warnings == ()
    hero, categories = skeleton.slots
    assert (hero.name, hero.default_text) == ("hero", "<h1>Autumn &amp; co</h1>")
    assert categories.name == "categories"
    assert [item.key for item in categories.items] == ["camping", "hiking"]
    assert categories.reordered(["hiking"]).startswith(b'<a data-item="hiking"')


def test_an_item_key_is_escaped() -> None:
    html = render('{% slot "s" %}{% slotitem key %}x{% endslotitem %}{% endslot %}', key='a"b')
    assert html == '<div data-slot="s"><div data-item="a&#34;b">x</div></div>'
    (slot,) = PageSkeleton.compile(html.encode()).slots
    assert [item.key for item in slot.items] == ['a"b']


@pytest.mark.parametrize(
    ("tag", "message"),
    [
        ("{% slot hero %}", "a slot name must be a quoted string"),
        ('{% slot "my hero" %}', "invalid slot name 'my hero'"),
        ('{% slot "hero" tag="img" %}', "invalid tag 'img'"),
        ('{% slot "hero" tag="<div" %}', "invalid tag '<div'"),
        ('{% slot "hero" tag=element %}', "tag must be a quoted element name"),
        ('{% slot "hero" data_slot="x" %}', "'data_slot' cannot be an attribute here"),
        ('{% slot "hero" class="a" class="b" %}', "option 'class' given twice"),
        ('{% slotitem " hiking" %}', "invalid item key ' hiking'"),
        ("{% slotitem none %}", "an item key must be a string"),
    ],
    ids=[
        "unquoted-name",
        "bad-name",
        "void-tag",
        "bad-tag",
        "tag-not-literal",
        "reserved",
        "twice",
        "item-spaces",
        "item-none",
    ],
)
def test_a_bad_slot_fails_at_compile_time_naming_template_and_line(tag: str, message: str) -> None:
    end = "{% endslot %}" if tag.startswith("{% slot ") else "{% endslotitem %}"
    source = f"<html>\n<body>\n{tag}x{end}\n</body>"
    env = Environment(loader=DictLoader({"page.html": source}), extensions=[SlotExtension])
    with pytest.raises(TemplateSyntaxError) as raised:
        env.get_template("page.html")
    assert (raised.value.name, raised.value.lineno) == ("page.html", 3)
    assert message in raised.value.message


@pytest.mark.parametrize(
    "name", ["hero", "Hero2", "shop:hero", "a.b-c_d", "9lives", "my hero", "-hero", "_x", "é"]
)
def test_slot_names_are_those_a_rule_file_accepts(name: str) -> None:
    rules = "version: 1\nrules:\n  - {id: r, slot: %s, reorder: {by: interest}}\n"
    try:
        parse_ruleset(rules % json.dumps(name))
        rule_file_accepts = True
    except RuleFileError:
        rule_file_accepts = False
    try:
        render(f"{{% slot {json.dumps(name)} %}}{{% endslot %}}")
        template_accepts = True
    except TemplateSyntaxError:
        template_accepts = False
    assert template_accepts == rule_file_accepts


# -- Starlette / FastAPI Jinja2Templates ------------------------------------------------------


def templated_app(folder: Path) -> Starlette:
    """A Starlette app rendering `PAGE` through `Jinja2Templates` with the extension added."""
    folder.mkdir(exist_ok=True)
    (folder / "page.html").write_text(PAGE)
    templates = Jinja2Templates(directory=folder)
    templates.env.add_extension(SlotExtension)

    def home(request: Request) -> Response:
        context = {"title": "Autumn gear", "topics": ["camping", "hiking"]}
        return templates.TemplateResponse(request, "page.html", context)

    return Starlette(routes=[Route("/", home)])


def test_jinja2_templates_render_slots(tmp_path: Path) -> None:
    response = TestClient(templated_app(tmp_path)).get("/")
    assert '<div data-slot="hero"><h1>Autumn gear</h1></div>' in response.text
    assert '<a data-item="hiking" href="/c/hiking">Hiking</a>' in response.text


@pytest.mark.parametrize(
    ("user_agent", "hero"),
    [(IPHONE, "<p class=mobile>Compact hero</p>"), (DESKTOP, "<h1>Autumn gear</h1>")],
    ids=["phone-gets-the-fragment", "desktop-gets-the-default"],
)
def test_middleware_fills_a_template_slot(tmp_path: Path, user_agent: str, hero: str) -> None:
    rules = write_site(tmp_path)
    app = EtalageMiddleware(templated_app(tmp_path / "templates"), rules=rules, secret_keys=KEYS)
    response = TestClient(app, headers={"User-Agent": user_agent}).get("/")
    assert response.status_code == 200
    assert f'<div data-slot="hero">{hero}</div>' in response.text
