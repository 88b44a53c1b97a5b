"""`etalage.django`: the ``{% slot %}`` tags in Django templates write the Jinja2 extension's markup."""

from __future__ import annotations

import pytest
from django.template import Context, Engine, TemplateSyntaxError
from jinja2 import Environment

ENGINE = Engine(libraries={"etalage": "etalage.django"})
JINJA = Environment(extensions=["etalage.jinja.SlotExtension"], autoescape=True)
TRICKY = """Tom & "Jerry" <'x'>"""


def django(source: str, **context: object) -> str:
    return ENGINE.from_string("{% load etalage %}" + source).render(Context(context))


def jinja(source: str, **context: object) -> str:
    return JINJA.from_string(source).render(**context)


@pytest.mark.parametrize(
    ("django_source", "jinja_source"),
    [
        ('{% slot "hero" %}<h1>Hi</h1>{% endslot %}', '{% slot "hero" %}<h1>Hi</h1>{% endslot %}'),
        (
            '{% slot "consent" tag="section" %}{% endslot %}',
            '{% slot "consent" tag="section" %}{% endslot %}',
        ),
        (
            '{% slot "nav" tag="nav" class="menu" aria_label="Topics" %}{% for t in topics %}'
            '{% slotitem t tag="a" href=t title=label %}x{% endslotitem %}{% endfor %}{% endslot %}',
            '{% slot "nav" tag="nav" class="menu" aria_label="Topics" %}{% for t in topics %}'
            '{% slotitem t tag="a" href=t title=label %}x{% endslotitem %}{% endfor %}{% endslot %}',
        ),
        (
            '{% slot "x" data_label=label hidden=yes draft=no gone=none %}{% endslot %}',
            '{% slot "x" data_label=label hidden=yes draft=no gone=none %}{% endslot %}',
        ),
        ('{% slot "x" title=missing %}{% endslot %}', '{% slot "x" title=missing %}{% endslot %}'),
        ("{% slotitem 7 %}{% endslotitem %}", "{% slotitem 7 %}{% endslotitem %}"),
    ],
    ids=["plain", "empty-section", "items", "attribute-values", "missing-variable", "number-key"],
)
def test_a_django_slot_is_the_same_markup_as_the_jinja_one(django_source, jinja_source):
    context = {"topics": ["sea", "bird's"], "label": TRICKY, "yes": True, "no": False, "none": None}
    assert django(django_source, **context) == jinja(jinja_source, **context)


def test_the_attributes_and_keys_from_a_visitor_are_escaped():
    html = django("{% slotitem key href=url %}{% endslotitem %}", key='"><b>', url="/?a=1&b=<2>")
    assert html == '<div data-item="&#34;&gt;&lt;b&gt;" href="/?a=1&amp;b=&lt;2&gt;"></div>'


def test_the_default_content_is_rendered_with_the_templates_own_escaping():
    html = django('{% slot "hero" tag="section" %}<h1>{{ title }}</h1>{% endslot %}', title="<b>")
    assert html == '<section data-slot="hero"><h1>&lt;b&gt;</h1></section>'


@pytest.mark.parametrize(
    ("source", "message"),
    [
        ("{% slot %}{% endslot %}", "needs a key"),
        ("{% slot hero %}{% endslot %}", "a slot name must be a quoted string"),
        ('{% slot "bad name" %}{% endslot %}', "invalid slot name 'bad name'"),
        ('{% slot "x" tag=nav %}{% endslot %}', "tag must be a quoted element name"),
        ('{% slot "x" tag="img" %}{% endslot %}', "invalid tag 'img'"),
        ('{% slot "x" class="a" class="b" %}{% endslot %}', "option 'class' given twice"),
        ('{% slot "x" data_slot="y" %}{% endslot %}', "'data_slot' cannot be an attribute here"),
        ('{% slot "x" menu %}{% endslot %}', "expected name=value after the key"),
        ('{% slotitem " sea " %}{% endslotitem %}', "invalid item key ' sea '"),
        ("{% slotitem 1.5 %}{% endslotitem %}", "an item key must be a string"),
        ('{% slot "x" %}never closed', "endslot"),
    ],
    ids=[
        "no-key",
        "unquoted-name",
        "bad-name",
        "unquoted-tag",
        "void-tag",
        "twice",
        "marker",
        "no-value",
        "spaced-key",
        "float-key",
        "unclosed",
    ],
)
def test_a_bad_tag_fails_when_the_template_compiles(source, message):
    with pytest.raises(TemplateSyntaxError, match=message):
        ENGINE.from_string("{% load etalage %}" + source)
