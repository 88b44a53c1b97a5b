"""The demo shop's product drawings: one per kind, valid SVG, labelled, escaped, light."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from pathlib import Path

import jinja2
import pytest
from markupsafe import Markup

from etalage.demo import catalog, drawings
from etalage.demo.drawings import DEFAULT_COLORS, KINDS, PRODUCT_KINDS, drawing, kind_of

SVG = "{http://www.w3.org/2000/svg}"
SKUS = [p.sku for p in catalog.PRODUCTS]
#: The kinds the shop's brief asks for, besides those of the catalogue's products.
ASKED_FOR = {
    "tent", "sleeping-bag", "stove", "lantern", "headlamp", "daypack", "boots",
    "trekking-poles", "jacket", "rope", "harness", "helmet", "carabiner", "chalk-bag",
    "kayak", "paddle", "buoyancy-aid", "dry-bag",
}  # fmt: skip
MAX_BYTES = 4096


def _parse(markup: str) -> ET.Element:
    return ET.fromstring(str(markup))


def _body(markup: str) -> str:
    """The drawing without its title and kind, to compare what is drawn."""
    return re.sub(r"<title>.*?</title>| data-kind=\"[^\"]*\"", "", str(markup))


@pytest.mark.parametrize("sku", SKUS)
def test_every_catalogue_product_has_a_drawing_of_its_own_kind(sku: str) -> None:
    assert sku in PRODUCT_KINDS
    kind = kind_of(sku)
    assert kind == PRODUCT_KINDS[sku]
    assert kind not in {p.category for p in catalog.PRODUCTS} | {"gear"}
    assert f'data-kind="{kind}"' in drawing(sku, label="x")


def test_catalogue_products_are_drawn_as_different_kinds() -> None:
    kinds = [kind_of(sku) for sku in SKUS]
    assert len(set(kinds)) == len(kinds)


def test_the_kinds_asked_for_all_have_a_drawing() -> None:
    assert ASKED_FOR <= set(KINDS)
    assert set(DEFAULT_COLORS) == set(KINDS)


def test_drawings_of_different_kinds_differ() -> None:
    bodies = {_body(drawing(kind, label="same", color="#336699")) for kind in KINDS}
    assert len(bodies) == len(KINDS)


@pytest.mark.parametrize("key", [*KINDS, *SKUS])
def test_every_drawing_parses_as_svg_with_role_img_and_its_title(key: str) -> None:
    svg = _parse(drawing(key, label="Bivouac 2 Tent"))
    assert svg.tag == f"{SVG}svg"
    assert svg.get("role") == "img"
    assert svg.get("viewBox") == "0 0 100 100"
    assert (svg.get("width"), svg.get("height")) == ("100%", "100%")
    title = svg.find(f"{SVG}title")
    assert title is not None and title.text == "Bivouac 2 Tent"
    assert list(svg)[0] is title  # the accessible name comes first


@pytest.mark.parametrize("key", [*KINDS, *SKUS])
def test_drawings_are_light_and_self_contained(key: str) -> None:
    markup = str(drawing(key, label="A product name of a usual length"))
    assert len(markup.encode()) < MAX_BYTES
    assert not re.search(r"\bid=", markup)  # several drawings share a page
    assert not re.search(r"href=|url\(|<image|<script|<foreignObject|@import", markup, re.I)


def test_a_hostile_label_is_escaped() -> None:
    hostile = "</title><script>alert(\"x\")</script><title a='1'>&amp;"
    markup = drawing("cp-201", label=hostile)
    assert isinstance(markup, Markup)
    assert "<script>" not in markup
    svg = _parse(markup)
    assert svg.find(f"{SVG}script") is None
    title = svg.find(f"{SVG}title")
    assert title is not None and title.text == hostile


def test_a_drawing_in_an_autoescaped_template_is_not_escaped_again() -> None:
    env = jinja2.Environment(autoescape=True)
    env.globals["drawing"] = drawing
    page = env.from_string("{{ drawing(sku, label=name) }}").render(
        sku="wa-401", name="Lagoon <Kayak>"
    )
    assert page.startswith("<svg ") and "<title>Lagoon &lt;Kayak&gt;</title>" in page


def test_an_empty_label_makes_the_drawing_decorative() -> None:
    svg = _parse(drawing("hk-102", label=""))
    assert svg.get("aria-hidden") == "true"
    assert svg.get("role") is None
    assert svg.find(f"{SVG}title") is None


def test_a_product_is_drawn_in_its_own_colour() -> None:
    boots = catalog.product("hk-102")
    assert boots is not None
    assert f'fill="{boots.color}"' in drawing("hk-102", label="Boots")
    assert 'fill="#123456"' in drawing("hk-102", label="Boots", color="#123456")


@pytest.mark.parametrize("color", ["red", "#12345", "#1234567", '#fff" onload="x'])
def test_a_colour_not_written_rrggbb_is_refused(color: str) -> None:
    with pytest.raises(ValueError, match="#rrggbb"):
        drawing("tent", label="Tent", color=color)


@pytest.mark.parametrize(
    ("key", "kind"),
    [("water", "water"), ("camping", "camping"), ("no-such-thing", "gear"), ("", "gear")],
)
def test_categories_and_unknown_names_fall_back_to_neutral_drawings(key: str, kind: str) -> None:
    assert kind_of(key) == kind
    assert _parse(drawing(key, label="Something")).get("data-kind") == kind


def test_a_product_missing_from_the_mapping_is_drawn_by_its_name_then_its_category(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(drawings, "PRODUCT_KINDS", {})
    assert kind_of("cp-201") == "tent"
    unnamed = catalog.Product("zz-1", "Mystery Item", "climbing", 1.0, "", "", "", "#123456")
    monkeypatch.setattr(catalog, "_BY_SKU", {**catalog._BY_SKU, "zz-1": unnamed})
    assert kind_of("zz-1") == "climbing"


@pytest.mark.parametrize(
    ("name", "kind"),
    [
        ("Summit 40 Backpack", "daypack"),
        ("Polar Fleece", None),
        ("Trail Poles", "trekking-poles"),
        ("Beam 400 Headlamp", "headlamp"),
        ("Locking Carabiners (3)", "carabiner"),
        ("Blue Mattress", None),
    ],
)
def test_kind_from_name_matches_whole_words(name: str, kind: str | None) -> None:
    assert drawings.kind_from_name(name) == kind


@pytest.mark.parametrize("sku", SKUS)
def test_product_names_tell_the_kind_the_mapping_gives(sku: str) -> None:
    item = catalog.product(sku)
    assert item is not None
    assert drawings.kind_from_name(item.name) == PRODUCT_KINDS[sku]


def test_the_preview_sheet_shows_every_kind_and_product(tmp_path: Path) -> None:
    sheet = drawings.preview_sheet()
    assert sheet.count("<svg ") >= len(KINDS) + len(SKUS) - len(set(PRODUCT_KINDS.values()))
    for sku in SKUS:
        assert f"{sku} · " in sheet
