"""Flat inline-SVG drawings of the demo shop's products, one per kind of product.

``drawing("cp-201", label="Bivouac 2 Tent")`` gives the tent in the product's own colour;
``drawing("lantern", label="A lantern")`` gives a kind in its default colour, and a category slug
(``"water"``) gives that department's neutral drawing. Every drawing is drawn for this shop on a
100 × 100 grid with four colours derived from one base colour (plus a neutral ink), carries no
``id`` (so any number can share a page) and sizes itself to its box (width and height 100 %).

Run ``python -m etalage.demo.drawings SHEET.html`` to write a preview sheet of every drawing.
"""

from __future__ import annotations

import re
import sys
from collections.abc import Mapping
from functools import lru_cache
from pathlib import Path
from types import MappingProxyType

from markupsafe import Markup, escape

from etalage.demo import catalog

_INK = "#2a2f2d"
_METAL = "#a7b0b8"
_GLOW = "#ffd45c"

# Each body is drawn on a 0..100 grid, in front of the shared backdrop disc. Placeholders:
# {c} base colour, {d} its dark shade, {l} its light tint, {k} the neutral ink, {m} metal grey,
# {g} a warm glow (flames, light).
_BODIES: dict[str, str] = {
    "tent": (
        '<path d="M4 80H96" stroke="{d}" stroke-width="3" stroke-linecap="round"/>'
        '<path d="M22 50 8 80M78 50l14 30" stroke="{k}" stroke-width="1.5"/>'
        '<path d="M12 80C18 44 34 24 50 22c16 2 32 22 38 58z" fill="{c}"/>'
        '<path d="M12 80C20 48 36 28 50 22M88 80C80 48 64 28 50 22" fill="none" '
        'stroke="{d}" stroke-width="2.5"/>'
        '<path d="M50 26C45 42 40 60 35 80h30C60 60 55 42 50 26z" fill="{d}"/>'
        '<path d="M50 44 41 80h18z" fill="{k}"/>'
        '<path d="M50 26 61 80h4z" fill="{l}"/>'
    ),
    "sleeping-bag": (
        '<g transform="rotate(-28 50 52)">'
        '<path d="M50 8c16 0 24 12 22 28l-5 50c-1 6-33 6-34 0l-5-50C26 20 34 8 50 8z" '
        'fill="{c}"/>'
        '<ellipse cx="50" cy="24" rx="13" ry="10" fill="{d}"/>'
        '<ellipse cx="50" cy="26" rx="8" ry="6" fill="{k}"/>'
        '<path d="M29 44q21 5 42 0M30 56q20 5 40 0M31 68q19 5 38 0M32 80q18 4 36 0" '
        'fill="none" stroke="{d}" stroke-width="2"/>'
        '<path d="M64 34 58 88" stroke="{l}" stroke-width="2" stroke-dasharray="3 2"/>'
        '<circle cx="64" cy="36" r="2.5" fill="{l}"/></g>'
    ),
    "stove": (
        '<path d="M50 6c9 10 11 18 7 26H43c-4-8-2-16 7-26z" fill="{g}"/>'
        '<path d="M50 16c4 6 5 11 3 16h-6c-2-5-1-10 3-16z" fill="#5aa9e6"/>'
        '<path d="M28 32h16M56 32h16M36 32l8 8M64 32l-8 8" stroke="{m}" stroke-width="4" '
        'stroke-linecap="round"/>'
        '<rect x="39" y="36" width="22" height="8" rx="2" fill="{m}"/>'
        '<rect x="45" y="44" width="10" height="10" fill="{k}"/>'
        '<path d="M55 48h10l4 6" fill="none" stroke="{k}" stroke-width="2.5" '
        'stroke-linecap="round"/>'
        '<path d="M27 62q0-9 23-10 23 1 23 10v22q0 6-6 6H33q-6 0-6-6z" fill="{c}"/>'
        '<rect x="27" y="66" width="46" height="12" fill="{l}"/>'
        '<path d="M33 62q17-5 34 0" fill="none" stroke="{d}" stroke-width="2"/>'
    ),
    "sleeping-mat": (
        '<g transform="rotate(-24 50 54)">'
        '<rect x="28" y="36" width="44" height="56" rx="7" fill="{c}"/>'
        '<path d="M37 42v44M46 42v44M55 42v44M64 42v44" stroke="{d}" stroke-width="2.5" '
        'stroke-linecap="round"/>'
        '<rect x="25" y="18" width="50" height="20" rx="10" fill="{d}"/>'
        '<circle cx="35" cy="28" r="9" fill="{c}"/>'
        '<path d="M35 28a3 3 0 1 1 3 3 6 6 0 0 1-9-3 8 8 0 0 1 8-7" fill="none" '
        'stroke="{d}" stroke-width="1.8"/>'
        '<circle cx="64" cy="85" r="3.5" fill="{l}"/></g>'
    ),
    "daypack": (
        '<rect x="18" y="30" width="10" height="46" rx="5" fill="{d}"/>'
        '<rect x="72" y="30" width="10" height="46" rx="5" fill="{d}"/>'
        '<path d="M44 18a6 6 0 0 1 12 0" fill="none" stroke="{d}" stroke-width="3"/>'
        '<rect x="25" y="20" width="50" height="70" rx="14" fill="{c}"/>'
        '<path d="M25 38c0-12 10-18 25-18s25 6 25 18z" fill="{d}"/>'
        '<rect x="33" y="52" width="34" height="30" rx="7" fill="{d}"/>'
        '<path d="M37 60h26" stroke="{l}" stroke-width="2" stroke-linecap="round"/>'
        '<path d="M25 48h8M67 48h8M25 70h8M67 70h8" stroke="{k}" stroke-width="2.5"/>'
        '<rect x="46" y="36" width="8" height="9" rx="2" fill="{k}"/>'
    ),
    "boots": (
        '<path d="M24 20h24l4 24c12 2 26 6 32 12 5 5 5 12 3 16H18V28c0-5 2-8 6-8z" '
        'fill="{c}"/>'
        '<rect x="20" y="16" width="30" height="9" rx="4.5" fill="{d}"/>'
        '<path d="M64 48c10 2 18 6 21 10 3 4 3 9 2 14H64c0-10 2-18 0-24z" fill="{d}"/>'
        '<path d="M40 12h8l2 9H40z" fill="{d}"/>'
        '<path d="M36 27l10 1M37 34l10 1M38 41l11 1" stroke="{l}" stroke-width="2.5" '
        'stroke-linecap="round"/>'
        '<path d="M18 72h69v4H18z" fill="{l}"/>'
        '<path d="M17 76h71c0 5-3 10-8 10H23c-5 0-7-4-6-10z" fill="{k}"/>'
        '<path d="M24 86v3h8v-3M40 86v3h8v-3M56 86v3h8v-3M72 86v3h8v-3" fill="{k}"/>'
        '<path d="M18 50c6 4 14 4 20 0" fill="none" stroke="{d}" stroke-width="2"/>'
    ),
    "trekking-poles": (
        '<g stroke-linecap="round">'
        '<path d="M30 18 72 92M70 18 28 92" stroke="{c}" stroke-width="4"/>'
        '<path d="M49 51.5 54 60M51 51.5 46 60" stroke="{d}" stroke-width="5"/>'
        '<path d="M24 8l8 14M76 8l-8 14" stroke="{k}" stroke-width="8"/>'
        '<path d="M24 8c-10 2-12 14-4 18M76 8c10 2 12 14 4 18" fill="none" stroke="{l}" '
        'stroke-width="2.5"/>'
        '<path d="M66 84l10-6M34 84l-10-6" stroke="{k}" stroke-width="3"/>'
        '<path d="M72 92l2 4M28 92l-2 4" stroke="{m}" stroke-width="2.5"/></g>'
    ),
    "jacket": (
        '<path d="M36 18c0-14 28-14 28 0l-6 6H42z" fill="{d}"/>'
        '<path d="M36 18 24 24c-8 4-12 12-13 22L7 80h12l5-30v38h52V50l5 30h12l-4-34'
        'c-1-10-5-18-13-22l-12-6c-4 8-24 8-28 0z" fill="{c}"/>'
        '<path d="M7 76h12M81 76h12" stroke="{d}" stroke-width="5"/>'
        '<path d="M24 84h52" stroke="{d}" stroke-width="5"/>'
        '<path d="M50 24v62" stroke="{k}" stroke-width="2.5"/>'
        '<path d="M32 38l10-4M68 38l-10-4" stroke="{l}" stroke-width="2.5" '
        'stroke-linecap="round"/>'
        '<path d="M42 20c4 5 12 5 16 0" fill="none" stroke="{k}" stroke-width="2"/>'
    ),
    "harness": (
        '<ellipse cx="50" cy="34" rx="34" ry="12" fill="none" stroke="{c}" stroke-width="9"/>'
        '<path d="M22 44q-6 6-4 12M78 44q6 6 4 12" stroke="{d}" stroke-width="3" '
        'fill="none"/>'
        '<path d="M26 44q0 10 8 10M74 44q0 10-8 10" stroke="{l}" stroke-width="3" '
        'fill="none"/>'
        '<ellipse cx="32" cy="68" rx="15" ry="9" fill="none" stroke="{c}" stroke-width="7" '
        'transform="rotate(12 32 68)"/>'
        '<ellipse cx="68" cy="68" rx="15" ry="9" fill="none" stroke="{c}" stroke-width="7" '
        'transform="rotate(-12 68 68)"/>'
        '<rect x="44" y="44" width="12" height="22" rx="6" fill="none" stroke="{d}" '
        'stroke-width="4"/>'
        '<rect x="42" y="40" width="16" height="9" rx="2" fill="{m}"/>'
        '<path d="M46 47h8" stroke="{k}" stroke-width="2"/>'
    ),
    "rope": (
        '<g fill="none" stroke-linecap="round">'
        '<path d="M40 70c-4 10-2 18 6 22M58 70c4 10 8 16 2 22" stroke="{c}" stroke-width="6"/>'
        '<ellipse cx="48" cy="44" rx="30" ry="28" stroke="{d}" stroke-width="6"/>'
        '<ellipse cx="52" cy="44" rx="27" ry="26" stroke="{c}" stroke-width="6"/>'
        '<ellipse cx="50" cy="46" rx="22" ry="21" stroke="{c}" stroke-width="6"/>'
        '<ellipse cx="52" cy="44" rx="27" ry="26" stroke="{l}" stroke-width="2" '
        'stroke-dasharray="2 5"/>'
        '<ellipse cx="50" cy="46" rx="22" ry="21" stroke="{l}" stroke-width="2" '
        'stroke-dasharray="2 5"/></g>'
        '<rect x="36" y="58" width="28" height="14" rx="5" fill="{d}"/>'
        '<path d="M42 58v14M50 58v14M58 58v14" stroke="{c}" stroke-width="2"/>'
    ),
    "climbing-shoes": (
        '<path d="M21 37c-8-6-4-14 4-8" fill="none" stroke="{d}" stroke-width="3"/>'
        '<path d="M20 64c-8-6-8-22 2-28l18-2c16 4 32 14 44 26 6 6 4 12-2 12-12-4-26-10-38-10'
        '-10 0-18 4-24 2z" fill="{c}"/>'
        '<g fill="none" stroke="{k}" stroke-linecap="round">'
        '<path d="M16 56c2 8 6 9 14 8 14-2 30-4 42 2 6 3 10 6 14 4" stroke-width="6"/>'
        '<path d="M72 50c8 6 14 12 14 20" stroke-width="5"/>'
        '<path d="M21 38c-7 6-7 14-5 20" stroke-width="4"/></g>'
        '<ellipse cx="31" cy="35" rx="10" ry="2.5" fill="{d}"/>'
        '<path d="M42 35l10 3-2 22-10 1zM57 41l10 5-5 15-9-1z" fill="{l}"/>'
        '<path d="M41 48l10-1M55 50l9 1" stroke="{d}" stroke-width="1.5"/>'
    ),
    "helmet": (
        '<path d="M16 66c0-26 16-44 36-44s34 18 34 40v4z" fill="{c}"/>'
        '<path d="M14 62h74l2 8H14z" fill="{d}"/>'
        '<path d="M40 30q6-3 12-3v12q-6 0-11 2zM58 28q10 2 16 10l-9 6q-3-4-7-5z" '
        'fill="{d}"/>'
        '<path d="M26 44q4-8 10-11l3 10q-4 3-6 7z" fill="{d}"/>'
        '<path d="M26 70q10 16 24 18 10-2 20-18" fill="none" stroke="{k}" stroke-width="2.5"/>'
        '<rect x="46" y="84" width="8" height="6" rx="1.5" fill="{k}"/>'
        '<rect x="76" y="54" width="8" height="6" rx="1.5" fill="{l}"/>'
    ),
    "kayak": (
        '<path d="M6 80c8-5 14-5 22 0s14 5 22 0 14-5 22 0 14 5 22 0" fill="none" '
        'stroke="{l}" stroke-width="3" stroke-linecap="round"/>'
        '<g transform="rotate(-14 50 56)">'
        '<path d="M4 58c20-20 72-22 92-4-16 18-72 22-92 4z" fill="{c}"/>'
        '<path d="M16 57c18-12 56-13 70-3-12 10-54 13-70 3z" fill="{l}"/>'
        '<path d="M30 52h12v9H30zM58 50h12v9H58z" fill="{d}"/>'
        '<path d="M24 53c1-4 4-6 6-6v6M52 51c1-4 4-6 6-6v6" fill="{d}"/>'
        '<path d="M4 58c20 10 72 8 92-4" fill="none" stroke="{d}" stroke-width="3"/></g>'
    ),
    "paddle": (
        '<g transform="rotate(-40 50 50)" stroke-linecap="round">'
        '<path d="M50 16v68" stroke="{k}" stroke-width="4"/>'
        '<path d="M50 2c-8 0-10 6-9 12l2 10h14l2-10c1-6-1-12-9-12z" fill="{c}"/>'
        '<path d="M50 98c-8 0-10-6-9-12l2-10h14l2 10c1 6-1 12-9 12z" fill="{c}"/>'
        '<path d="M50 6v16M50 78v16" stroke="{d}" stroke-width="2"/>'
        '<path d="M50 30v6M50 64v6" stroke="{l}" stroke-width="6"/></g>'
    ),
    "dry-bag": (
        '<path d="M26 31C26 12 74 12 74 31" fill="none" stroke="{d}" stroke-width="4"/>'
        '<rect x="42" y="10" width="16" height="8" rx="2" fill="{k}"/>'
        '<path d="M30 40h40v44q0 6-6 6H36q-6 0-6-6z" fill="{c}"/>'
        '<rect x="26" y="26" width="48" height="16" rx="6" fill="{d}"/>'
        '<path d="M30 31h40M30 36h40" stroke="{c}" stroke-width="1.5"/>'
        '<path d="M38 46v38" stroke="{l}" stroke-width="4" stroke-linecap="round"/>'
        '<path d="M30 80h40" stroke="{d}" stroke-width="2"/>'
        '<circle cx="72" cy="62" r="4" fill="none" stroke="{k}" stroke-width="2"/>'
    ),
    "buoyancy-aid": (
        '<path d="M30 12h10l10 26 10-26h10c0 16 6 26 14 30v44q0 4-4 4H20q-4 0-4-4V42'
        'c8-4 14-14 14-30z" fill="{c}"/>'
        '<path d="M50 38v52" stroke="{k}" stroke-width="2.5"/>'
        '<path d="M16 56h68M16 72h68" stroke="{d}" stroke-width="3"/>'
        '<rect x="16" y="76" width="68" height="5" fill="{k}"/>'
        '<rect x="28" y="78" width="8" height="7" rx="1.5" fill="{m}"/>'
        '<rect x="64" y="78" width="8" height="7" rx="1.5" fill="{m}"/>'
        '<rect x="56" y="44" width="18" height="10" rx="3" fill="{d}"/>'
        '<path d="M32 16h6M62 16h6" stroke="{l}" stroke-width="4"/>'
    ),
    "water-shoes": (
        '<path d="M12 60c0-12 8-18 18-16 10 2 18 6 30 6 14 0 26 4 28 12 2 6-2 10-8 10H20'
        'c-5 0-8-5-8-12z" fill="{c}"/>'
        '<path d="M10 70h80c0 5-3 8-8 8H18c-5 0-8-3-8-8z" fill="{l}"/>'
        '<path d="M24 78v-4M36 78v-4M48 78v-4M60 78v-4M72 78v-4" stroke="{d}" '
        'stroke-width="1.5"/>'
        '<ellipse cx="32" cy="47" rx="12" ry="4" fill="{k}"/>'
        '<path d="M14 52c-4-4-4-10 0-12" fill="none" stroke="{d}" stroke-width="3"/>'
        '<circle cx="44" cy="62" r="2.5" fill="{d}"/><circle cx="54" cy="62" r="2.5" '
        'fill="{d}"/><circle cx="64" cy="62" r="2.5" fill="{d}"/>'
        '<path d="M42 50c6 4 14 4 22 2" fill="none" stroke="{k}" stroke-width="2"/>'
        '<rect x="62" y="49" width="5" height="7" rx="1.5" fill="{k}"/>'
    ),
    "lantern": (
        '<circle cx="50" cy="56" r="30" fill="{g}" opacity=".35"/>'
        '<path d="M38 16a12 10 0 0 1 24 0" fill="none" stroke="{k}" stroke-width="3"/>'
        '<path d="M32 28h36l-4-10H36z" fill="{c}"/>'
        '<rect x="36" y="28" width="28" height="44" rx="6" fill="{g}"/>'
        '<path d="M42 28v44M58 28v44" stroke="{d}" stroke-width="3"/>'
        '<path d="M48 42h4v16h-4z" fill="#fff7d6"/>'
        '<path d="M30 72h40v8q0 6-6 6H36q-6 0-6-6z" fill="{c}"/>'
        '<rect x="44" y="76" width="12" height="4" rx="2" fill="{l}"/>'
    ),
    "headlamp": (
        '<path d="M62 40 96 24v40z" fill="{g}" opacity=".45"/>'
        '<ellipse cx="40" cy="50" rx="30" ry="20" fill="none" stroke="{c}" stroke-width="7"/>'
        '<path d="M24 36c6 10 26 10 32 0" fill="none" stroke="{d}" stroke-width="4"/>'
        '<rect x="48" y="52" width="20" height="18" rx="5" fill="{k}"/>'
        '<circle cx="62" cy="61" r="6" fill="{g}"/>'
        '<rect x="51" y="55" width="5" height="3" rx="1" fill="{l}"/>'
    ),
    "carabiner": (
        '<path d="M38 14h16c12 0 20 10 18 22l-6 40c-2 8-8 12-16 12h-6c-10 0-16-8-14-18'
        'l2-40c0-10 2-16 6-16z" fill="none" stroke="{c}" stroke-width="8"/>'
        '<path d="M33 34l-2 30" stroke="{m}" stroke-width="6" stroke-linecap="round"/>'
        '<path d="M34 30h4M30 66h4" stroke="{k}" stroke-width="3"/>'
        '<path d="M58 22c6 2 8 8 7 14" fill="none" stroke="{l}" stroke-width="2.5" '
        'stroke-linecap="round"/>'
    ),
    "chalk-bag": (
        '<path d="M30 34h40l4 46c0 8-8 12-24 12s-24-4-24-12z" fill="{c}"/>'
        '<rect x="72" y="46" width="8" height="16" rx="2" fill="{d}"/>'
        '<rect x="74" y="26" width="4" height="24" rx="1" fill="{k}"/>'
        '<rect x="72" y="20" width="8" height="8" rx="1.5" fill="#f4f1ea"/>'
        '<ellipse cx="50" cy="34" rx="22" ry="7" fill="{d}"/>'
        '<ellipse cx="50" cy="34" rx="17" ry="4.5" fill="#f4f1ea"/>'
        '<circle cx="44" cy="27" r="3" fill="#f4f1ea"/><circle cx="52" cy="23" r="2" '
        'fill="#f4f1ea"/><circle cx="57" cy="28" r="2.5" fill="#f4f1ea"/>'
        '<path d="M44 41c-3 6-1 12 2 16" fill="none" stroke="{k}" stroke-width="2"/>'
        '<rect x="42" y="55" width="7" height="9" rx="2" fill="{k}"/>'
        '<rect x="56" y="66" width="10" height="6" rx="1.5" fill="{l}"/>'
    ),
    # The neutral drawing of each department, for a product of no known kind.
    "hiking": (
        '<path d="M6 82 36 32l16 26 10-14 32 38z" fill="{c}"/>'
        '<path d="M36 32l-8 14 8-4 6 6z" fill="{l}"/>'
        '<circle cx="74" cy="24" r="8" fill="{g}"/>'
        '<path d="M40 82c4-8 12-10 16-16" fill="none" stroke="{l}" stroke-width="3" '
        'stroke-dasharray="4 4" stroke-linecap="round"/>'
        '<path d="M6 82h88" stroke="{d}" stroke-width="3" stroke-linecap="round"/>'
    ),
    "camping": (
        '<circle cx="50" cy="52" r="26" fill="{g}" opacity=".35"/>'
        '<path d="M50 24c12 14 16 24 10 40H40c-6-16-2-26 10-40z" fill="{g}"/>'
        '<path d="M50 42c6 8 7 14 4 22h-8c-3-8-2-14 4-22z" fill="#f28b30"/>'
        '<path d="M22 80l56-14M22 66l56 14" stroke="{c}" stroke-width="8" '
        'stroke-linecap="round"/>'
        '<path d="M22 80l56-14" stroke="{d}" stroke-width="2"/>'
    ),
    "climbing": (
        '<path d="M20 92 30 8h44l12 84z" fill="{c}"/>'
        '<path d="M30 8 26 40l14 20-8 32" fill="none" stroke="{d}" stroke-width="3"/>'
        '<path d="M48 22q6-4 10 2-6 4-10-2zM60 44q6-2 8 4-6 2-8-4zM44 56q6-4 10 2-6 4-10-2z'
        'M62 72q6-2 8 4-6 2-8-4z" fill="{g}"/>'
        '<path d="M52 6c4 20-6 40 6 60s4 22 0 30" fill="none" stroke="{l}" stroke-width="2.5"/>'
    ),
    "water": (
        '<circle cx="70" cy="28" r="12" fill="{g}"/>'
        '<path d="M6 52c8-6 14-6 22 0s14 6 22 0 14-6 22 0 14 6 22 0l2 0A46 46 0 0 1 4 52z" '
        'fill="{c}"/>'
        '<path d="M10 66c7-5 12-5 18 0s14 5 22 0 14-5 22 0 12 5 18 0" fill="none" '
        'stroke="{l}" stroke-width="3" stroke-linecap="round"/>'
        '<path d="M18 80c6-4 10-4 16 0s10 4 16 0 10-4 16 0 10 4 16 0" fill="none" '
        'stroke="{d}" stroke-width="3" stroke-linecap="round"/>'
    ),
    # The neutral drawing of last resort: a compass.
    "gear": (
        '<circle cx="50" cy="50" r="32" fill="{c}"/>'
        '<circle cx="50" cy="50" r="25" fill="#fffdf8"/>'
        '<rect x="45" y="12" width="10" height="8" rx="2" fill="{d}"/>'
        '<path d="M50 28l6 22H44z" fill="#d9482b"/><path d="M50 72l6-22H44z" fill="{k}"/>'
        '<circle cx="50" cy="50" r="3" fill="{m}"/>'
    ),
}

#: Every kind of drawing: the product kinds, then each department's neutral drawing and "gear".
KINDS: tuple[str, ...] = tuple(_BODIES)

#: The kind of each product of the catalog, by SKU.
PRODUCT_KINDS: Mapping[str, str] = MappingProxyType(
    {
        "hk-101": "daypack",
        "hk-102": "boots",
        "hk-103": "trekking-poles",
        "hk-104": "jacket",
        "cp-201": "tent",
        "cp-202": "sleeping-bag",
        "cp-203": "stove",
        "cp-204": "sleeping-mat",
        "cl-301": "harness",
        "cl-302": "rope",
        "cl-303": "climbing-shoes",
        "cl-304": "helmet",
        "wa-401": "kayak",
        "wa-402": "dry-bag",
        "wa-403": "buoyancy-aid",
        "wa-404": "water-shoes",
    }
)

#: The base colour a kind is drawn in when no product gives one.
DEFAULT_COLORS: Mapping[str, str] = MappingProxyType(
    {
        "tent": "#d9822b",
        "sleeping-bag": "#5b4b8a",
        "stove": "#6b7380",
        "sleeping-mat": "#2e8a8a",
        "daypack": "#3f7d58",
        "boots": "#8a5a3b",
        "trekking-poles": "#44546a",
        "jacket": "#c2452d",
        "harness": "#e0a526",
        "rope": "#1f6fb2",
        "climbing-shoes": "#b0306a",
        "helmet": "#4f8f3a",
        "kayak": "#1b8bbf",
        "paddle": "#e4572e",
        "dry-bag": "#f0b429",
        "buoyancy-aid": "#e4572e",
        "water-shoes": "#2f5d62",
        "lantern": "#2d6a50",
        "headlamp": "#d9662b",
        "carabiner": "#7a4fb0",
        "chalk-bag": "#1f6fb2",
        "hiking": "#3f7d58",
        "camping": "#8a5a3b",
        "climbing": "#8c8577",
        "water": "#1b8bbf",
        "gear": "#1f4d3a",
    }
)

# Words in a product's name that tell its kind, for a product PRODUCT_KINDS does not list.
# Checked in order, so the more specific words come first.
_NAME_WORDS: tuple[tuple[str, str], ...] = (
    ("sleeping bag", "sleeping-bag"),
    ("climbing shoe", "climbing-shoes"),
    ("neoprene shoe", "water-shoes"),
    ("water shoe", "water-shoes"),
    ("buoyancy", "buoyancy-aid"),
    ("life vest", "buoyancy-aid"),
    ("life jacket", "buoyancy-aid"),
    ("dry bag", "dry-bag"),
    ("chalk", "chalk-bag"),
    ("carabiner", "carabiner"),
    ("headlamp", "headlamp"),
    ("head torch", "headlamp"),
    ("lantern", "lantern"),
    ("tent", "tent"),
    ("stove", "stove"),
    ("mat", "sleeping-mat"),
    ("daypack", "daypack"),
    ("backpack", "daypack"),
    ("rucksack", "daypack"),
    ("pack", "daypack"),
    ("boot", "boots"),
    ("pole", "trekking-poles"),
    ("jacket", "jacket"),
    ("shell", "jacket"),
    ("harness", "harness"),
    ("rope", "rope"),
    ("helmet", "helmet"),
    ("kayak", "kayak"),
    ("canoe", "kayak"),
    ("paddle", "paddle"),
)

_HEX = re.compile(r"#[0-9a-fA-F]{6}")
_BACKDROP = '<circle cx="50" cy="52" r="46" fill="{b}"/>'


def kind_from_name(name: str) -> str | None:
    """The kind a product name tells by its words ("Bivouac 2 Tent" → "tent"), or None."""
    words = " ".join(re.findall(r"[a-z]+", name.casefold()))
    for word, kind in _NAME_WORDS:
        if re.search(rf"\b{word}(?:s|es)?\b", words):
            return kind
    return None


def kind_of(kind_or_product_id: str) -> str:
    """The kind drawn for a kind name, a product SKU or a category slug.

    A SKU resolves through `PRODUCT_KINDS`, then the product's name, then its category's
    neutral drawing; anything else unknown resolves to ``"gear"``.
    """
    if kind_or_product_id in _BODIES:
        return kind_or_product_id
    if kind_or_product_id in PRODUCT_KINDS:
        return PRODUCT_KINDS[kind_or_product_id]
    item = catalog.product(kind_or_product_id)
    if item is None:
        return "gear"
    return kind_from_name(item.name) or (item.category if item.category in _BODIES else "gear")


def drawing(kind_or_product_id: str, *, label: str, color: str | None = None) -> Markup:
    """An inline ``<svg>`` drawing of a kind of product, a product (by SKU) or a category.

    `label` becomes the drawing's ``<title>`` (escaped) and its accessible name
    (``role="img"``); an empty label marks the drawing decorative (``aria-hidden``), for when
    the product's name is written next to it. The drawing uses the product's colour, else
    `color` (``#rrggbb``), else its kind's default. An unknown name gives the neutral drawing.
    """
    kind = kind_of(kind_or_product_id)
    base = color or _product_color(kind_or_product_id) or DEFAULT_COLORS[kind]
    if not _HEX.fullmatch(base):
        raise ValueError(f"drawing colour must be written #rrggbb, got {base!r}")
    body = _body(kind, base.lower())
    if label:
        head = f'<svg role="img" data-kind="{kind}" {_SVG_ATTRS}><title>{escape(label)}</title>'
    else:
        head = f'<svg aria-hidden="true" focusable="false" data-kind="{kind}" {_SVG_ATTRS}>'
    return Markup(head + body + "</svg>")


_SVG_ATTRS = (
    'xmlns="http://www.w3.org/2000/svg" viewBox="0 0 100 100" width="100%" height="100%" '
    'class="drawing"'
)


def _product_color(key: str) -> str | None:
    item = catalog.product(key)
    return item.color if item is not None else None


@lru_cache(maxsize=256)
def _body(kind: str, base: str) -> str:
    palette = {
        "c": base,
        "d": _mix(base, "#000000", 0.35),
        "l": _mix(base, "#ffffff", 0.55),
        "b": _mix(base, "#ffffff", 0.86),
        "k": _INK,
        "m": _METAL,
        "g": _GLOW,
    }
    return (_BACKDROP + _BODIES[kind]).format_map(palette)


def _mix(color: str, other: str, share: float) -> str:
    """`color` moved `share` of the way towards `other` (both ``#rrggbb``)."""
    channels = []
    for i in (1, 3, 5):
        a, b = int(color[i : i + 2], 16), int(other[i : i + 2], 16)
        channels.append(round(a + (b - a) * share))
    return "#" + "".join(f"{v:02x}" for v in channels)


def preview_sheet() -> str:
    """An HTML page with every kind and every product drawn at 160 px, and a few at 480 px."""
    cells = [
        (key, f"{key} · {item.name}" if (item := catalog.product(key)) else key)
        for key in (*PRODUCT_KINDS, *(k for k in KINDS if k not in PRODUCT_KINDS.values()))
    ]
    small = "".join(
        f'<figure><div class="s">{drawing(key, label=text)}</div>'
        f"<figcaption>{escape(text)}</figcaption></figure>"
        for key, text in cells
    )
    big = "".join(
        f'<div class="b">{drawing(key, label=key)}</div>' for key in ("cp-201", "hk-102", "wa-401")
    )
    return (
        '<!doctype html><html lang="en"><meta charset="utf-8"><title>Drawings</title><style>'
        "body{font:12px system-ui;margin:12px;background:#f6f3ec}"
        "main{display:flex;flex-wrap:wrap;gap:8px}figure{margin:0;width:160px}"
        ".s{width:160px;height:160px;background:#fff}.b{width:480px;height:480px;"
        "display:inline-block;background:#fff;margin:8px 8px 0 0}"
        f"</style><main>{small}</main>{big}</html>"
    )


if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.exit("usage: python -m etalage.demo.drawings SHEET.html")
    Path(sys.argv[1]).write_text(preview_sheet(), encoding="utf-8")
