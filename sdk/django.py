"""Slots written in Django templates: ``{% slot "hero" %}default{% endslot %}``.

The Django counterpart of `etalage.jinja.SlotExtension`, with the same markup: a slot renders
as the element the middleware reads as a slot, its content the default, and
``{% slotitem key tag="a" href=url %}...{% endslotitem %}`` a ``data-item`` child for reorder
rules. Register the tags once, in the ``TEMPLATES`` setting::

    "OPTIONS": {"libraries": {"etalage": "etalage.django"}}

then ``{% load etalage %}`` in a template (or list the module in ``"builtins"``).

Slot names and ``tag=`` are quoted literals checked when the template compiles (a bad one is a
``TemplateSyntaxError``); other attribute values are Django expressions (``href=book.url``,
``class="hero"|add:extra``) escaped at render time. A missing variable, ``None`` or ``False``
leaves the attribute out and ``True`` writes it bare; ``_`` stands for ``-`` in an option name
(``aria_label=...``).

This module imports Django, which etalage does not depend on: importing ``etalage`` never
imports it; a Django site installs Django anyway.
"""

from __future__ import annotations

import re
from typing import Any

from markupsafe import escape

try:
    from django import template
    from django.template.base import FilterExpression, Parser, Token, Variable
    from django.utils.safestring import SafeString, mark_safe
except ImportError as missing:  # pragma: no cover - depends on the environment
    raise ImportError(
        "etalage.django holds Django template tags and needs Django: pip install 'django>=4.2'"
    ) from missing

# One definition of what a slot, an element and an attribute may be called, shared with the
# Jinja2 extension so that both kinds of templates write the same markup.
from etalage.jinja import ATTRIBUTE_NAME, ELEMENT_NAME, SLOT_NAME, VOID_ELEMENTS, render_attributes

__all__ = ["register"]

#: The tag library Django loads (``"libraries": {"etalage": "etalage.django"}``).
register = template.Library()

_OPTION = re.compile(r"^([A-Za-z_][A-Za-z0-9_]*)=(.+)$", re.DOTALL)


class _ElementNode(template.Node):  # type: ignore[misc]  # django ships no type hints
    """``<element marker="key" attributes...>`` around the rendered body."""

    def __init__(
        self,
        element: str,
        marker: str,
        key: FilterExpression,
        attributes: dict[str, FilterExpression],
        nodelist: Any,
    ) -> None:
        self.element = element
        self.marker = marker
        self.key = key
        self.attributes = attributes
        self.nodelist = nodelist

    def render(self, context: Any) -> SafeString:
        key = self.key.resolve(context)
        values = {
            name: value.resolve(context, ignore_failures=True)
            for name, value in self.attributes.items()
        }
        start = f'<{self.element} {self.marker}="{escape(key)}"{render_attributes(values)}>'
        return mark_safe(f"{start}{self.nodelist.render(context)}</{self.element}>")


def _slot(parser: Parser, token: Token) -> _ElementNode:
    return _element_tag(parser, token, "data-slot")


def _slotitem(parser: Parser, token: Token) -> _ElementNode:
    return _element_tag(parser, token, "data-item")


register.tag("slot", _slot)
register.tag("slotitem", _slotitem)


def _element_tag(parser: Parser, token: Token, marker: str) -> _ElementNode:
    bits = token.split_contents()
    name = bits[0]
    if len(bits) < 2:
        example = '"hero"' if marker == "data-slot" else "book.slug"
        raise template.TemplateSyntaxError(
            f"{{% {name} %}} needs a key, e.g. {{% {name} {example} %}}"
        )
    key = _slot_name(parser, bits[1]) if marker == "data-slot" else _item_key(parser, bits[1])
    element, attributes = _options(parser, bits[2:], marker)
    nodelist = parser.parse((f"end{name}",))
    parser.delete_first_token()
    return _ElementNode(element, marker, key, attributes, nodelist)


def _literal(bit: str) -> str | None:
    """The text of a quoted literal (``"hero"`` or ``'hero'``), None for anything else."""
    if len(bit) >= 2 and bit[0] in "\"'" and bit[-1] == bit[0]:
        return bit[1:-1]
    return None


def _slot_name(parser: Parser, bit: str) -> FilterExpression:
    name = _literal(bit)
    if name is None:
        raise template.TemplateSyntaxError(
            f'a slot name must be a quoted string, e.g. {{% slot "hero" %}}, not {bit}'
        )
    if not SLOT_NAME.match(name):
        raise template.TemplateSyntaxError(
            f"invalid slot name {name!r} (expected {SLOT_NAME.pattern})"
        )
    return parser.compile_filter(bit)


def _item_key(parser: Parser, bit: str) -> FilterExpression:
    """A literal key must be one the page compiler reads back unchanged (it strips spaces)."""
    key = parser.compile_filter(bit)
    # Django keeps a quoted string as the text itself, a number as a Variable's literal.
    literal = key.var.literal if isinstance(key.var, Variable) else key.var
    if not key.filters and literal is not None:
        if not isinstance(literal, str | int) or isinstance(literal, bool):
            raise template.TemplateSyntaxError(f"an item key must be a string, not {bit}")
        text = str(literal)
        if not text or text != text.strip():
            raise template.TemplateSyntaxError(
                f"invalid item key {text!r} (empty, or spaces around it)"
            )
    return key


def _options(
    parser: Parser, bits: list[str], marker: str
) -> tuple[str, dict[str, FilterExpression]]:
    """``tag=`` (a quoted element name, ``div`` by default) and other ``name=value`` attributes."""
    element = "div"
    attributes: dict[str, FilterExpression] = {}
    seen: set[str] = set()
    for bit in bits:
        match = _OPTION.match(bit)
        if match is None:
            raise template.TemplateSyntaxError(
                f'expected name=value after the key, e.g. class="hero", not {bit}'
            )
        option, value = match.groups()
        if option in seen:
            raise template.TemplateSyntaxError(f"option {option!r} given twice")
        seen.add(option)
        if option == "tag":
            element = _element_name(value)
            continue
        attribute = option.replace("_", "-")
        if not ATTRIBUTE_NAME.match(attribute) or attribute.lower() == marker:
            raise template.TemplateSyntaxError(f"{option!r} cannot be an attribute here")
        attributes[attribute] = parser.compile_filter(value)
    return element, attributes


def _element_name(value: str) -> str:
    element = _literal(value)
    if element is None:
        raise template.TemplateSyntaxError(
            f'tag must be a quoted element name, e.g. tag="nav", not {value}'
        )
    if not ELEMENT_NAME.match(element) or element in VOID_ELEMENTS:
        raise template.TemplateSyntaxError(
            f"invalid tag {element!r} (an element with content, e.g. div)"
        )
    return element
