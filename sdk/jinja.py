"""`SlotExtension`: slots written in Jinja2 templates, ``{% slot "hero" %}default{% endslot %}``.

A slot renders as the element the middleware reads as a slot, its content the default:
``{% slot "nav" tag="nav" class="menu" %}`` gives ``<nav data-slot="nav" class="menu">``.
Inside it ``{% slotitem key tag="a" href=url %}...{% endslotitem %}`` renders a
``data-item`` child for reorder rules (items must be the slot's direct children).

Slot names and element names are literals checked when the template compiles: a bad one is a
`TemplateSyntaxError` naming the template and line. Other attribute values are expressions,
escaped at render time; ``None``, ``False`` and undefined values leave the attribute out and
``True`` writes it bare. In an option name ``_`` stands for ``-`` (``aria_label=...``).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from typing import Any

from jinja2 import Undefined, nodes
from jinja2.ext import Extension
from jinja2.parser import Parser
from markupsafe import Markup, escape

#: The slot names a rule file accepts: the same pattern as etalage.rules.schema (a layer above,
#: so not imported; tests/sdk/test_jinja_slots.py checks that the two agree).
SLOT_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_:.-]*$")
#: The elements a slot may be, and the attribute names it may carry (``etalage.django`` too).
ELEMENT_NAME = re.compile(r"^[a-z][a-z0-9-]*$")
ATTRIBUTE_NAME = re.compile(r"^[A-Za-z][A-Za-z0-9-]*$")
#: Elements without content, which cannot be slots.
VOID_ELEMENTS = frozenset(
    "area base br col embed hr img input link meta param source track wbr".split()
)


class SlotExtension(Extension):
    """The ``{% slot %}`` and ``{% slotitem %}`` tags; add it to any Jinja2 environment."""

    tags = {"slot", "slotitem"}

    def parse(self, parser: Parser) -> nodes.Node:
        token = next(parser.stream)
        lineno = token.lineno
        key = parser.parse_expression()
        if token.value == "slot":
            _check_slot_name(parser, key, lineno)
            marker = "data-slot"
        else:
            _check_item_key(parser, key, lineno)
            marker = "data-item"
        element, attributes = _options(parser, marker)
        body = parser.parse_statements((f"name:end{token.value}",), drop_needle=True)
        call = self.call_method(
            "_element", [nodes.Const(element), nodes.Const(marker), key, attributes]
        )
        return nodes.CallBlock(call, [], [], body).set_lineno(lineno)

    def _element(
        self,
        element: str,
        marker: str,
        key: Any,
        attributes: Mapping[str, Any],
        caller: Callable[[], str],
    ) -> Markup:
        """``<element marker="key" attributes...>`` around the rendered body."""
        start = f'<{element} {marker}="{escape(key)}"{render_attributes(attributes)}>'
        return Markup(f"{start}{str(caller())}</{element}>")


def _check_slot_name(parser: Parser, name: nodes.Expr, lineno: int) -> None:
    if not (isinstance(name, nodes.Const) and isinstance(name.value, str)):
        parser.fail('a slot name must be a quoted string, e.g. {% slot "hero" %}', lineno)
    if not SLOT_NAME.match(name.value):
        parser.fail(f"invalid slot name {name.value!r} (expected {SLOT_NAME.pattern})", lineno)


def _check_item_key(parser: Parser, key: nodes.Expr, lineno: int) -> None:
    """A literal key must be one the page compiler reads back unchanged (it strips spaces)."""
    if isinstance(key, nodes.Const):
        value = key.value
        if not isinstance(value, str | int) or isinstance(value, bool):
            parser.fail(f"an item key must be a string, not {value!r}", lineno)
        text = str(value)
        if not text or text != text.strip():
            parser.fail(f"invalid item key {text!r} (empty, or spaces around it)", lineno)


def _options(parser: Parser, marker: str) -> tuple[str, nodes.Dict]:
    """``tag=`` (a literal element name, ``div`` by default) and other attributes, up to ``%}``."""
    element = "div"
    pairs: list[nodes.Pair] = []
    seen: set[str] = set()
    while parser.stream.current.type != "block_end":
        parser.stream.skip_if("comma")
        name_token = parser.stream.expect("name")
        parser.stream.expect("assign")
        value = parser.parse_expression()
        lineno, option = name_token.lineno, name_token.value
        if option in seen:
            parser.fail(f"option {option!r} given twice", lineno)
        seen.add(option)
        if option == "tag":
            element = _element_name(parser, value, lineno)
            continue
        attribute = option.replace("_", "-")
        if not ATTRIBUTE_NAME.match(attribute) or attribute.lower() == marker:
            parser.fail(f"{option!r} cannot be an attribute here", lineno)
        pairs.append(nodes.Pair(nodes.Const(attribute), value, lineno=lineno))
    return element, nodes.Dict(pairs)


def _element_name(parser: Parser, value: nodes.Expr, lineno: int) -> str:
    if not (isinstance(value, nodes.Const) and isinstance(value.value, str)):
        parser.fail('tag must be a quoted element name, e.g. tag="nav"', lineno)
    element = value.value
    if not ELEMENT_NAME.match(element) or element in VOID_ELEMENTS:
        parser.fail(f"invalid tag {element!r} (an element with content, e.g. div)", lineno)
    return element


def render_attributes(attributes: Mapping[str, Any]) -> str:
    """Attributes as HTML (`` name="value"`` each, escaped): None, False and undefined values
    are left out, True is the bare name."""
    parts: list[str] = []
    for name, value in attributes.items():
        if value is None or value is False or isinstance(value, Undefined):
            continue
        parts.append(f" {name}" if value is True else f' {name}="{escape(value)}"')
    return "".join(parts)
