"""`etalage check --site` with selector slots: per page file, each selector that matches nothing,
several elements or an element that cannot be a slot, and selectors a data-slot overrides."""

from __future__ import annotations

from pathlib import Path

from etalage.cli import main
from etalage.cli.site_check import check_rules

RULES = """\
version: 1
site:
  slot_selectors:
    hero: "main > .hero"
    promo: "#promo"
    picture: "img.pic"
rules:
  - id: hero
    slot: hero
    fragment: f.html
  - id: promo
    slot: promo
    fragment: f.html
  - id: picture
    slot: picture
    fragment: f.html
"""
PAGES = {
    "index.html": "<main>\n<div class=hero>a</div>\n<div class=hero>b</div></main>\n<img class=pic>",
    "shop/item.html": "<div data-slot=hero>x</div><p>\n<aside id=promo>sale</aside>",
}


def write_site(folder: Path) -> tuple[Path, Path]:
    (folder / "fragments").mkdir()
    (folder / "fragments" / "f.html").write_text("<b>hi</b>")
    rules = folder / "site.yaml"
    rules.write_text(RULES)
    for name, text in PAGES.items():
        (folder / "site" / name).parent.mkdir(parents=True, exist_ok=True)
        (folder / "site" / name).write_text(text)
    return rules, folder / "site"


def test_each_page_file_names_its_selectors_that_match_nothing_or_several(tmp_path):
    rules, site = write_site(tmp_path)
    report = check_rules(rules, site)
    assert report.errors == []
    assert report.warnings == [
        f"{site}/index.html: selector 'main > .hero' of slot 'hero' matches 2 elements; the first (line 2) is the slot",
        f"{site}/index.html: void element <img> cannot be slot 'picture' at line 4",
        f"{site}/index.html: selector '#promo' of slot 'promo' matches nothing",
        f"{site}/shop/item.html: slot 'hero' has a data-slot element there, so selector 'main > .hero' is not used",
        f"{site}/shop/item.html: selector 'img.pic' of slot 'picture' matches nothing",
        f"slot 'picture' (rules picture) is not found in any page under {site}",
    ]  # fmt: skip


def test_a_slot_found_only_by_its_selector_is_not_missing(tmp_path):
    rules, site = write_site(tmp_path)
    (site / "index.html").write_text("<main><div class=hero>a</div></main><div id=promo></div>")
    (site / "shop" / "item.html").write_text("<p><span class=pic><img class=pic></span></p>")
    rules.write_text(RULES.replace('"img.pic"', '"span.pic"'))
    report = check_rules(rules, site)
    assert report.warnings == [
        f"{site}/index.html: selector 'span.pic' of slot 'picture' matches nothing",
        f"{site}/shop/item.html: selector 'main > .hero' of slot 'hero' matches nothing",
        f"{site}/shop/item.html: selector '#promo' of slot 'promo' matches nothing",
    ]


def test_the_command_prints_them_as_warnings(tmp_path, capsys):
    rules, site = write_site(tmp_path)
    assert main(["check", str(rules), "--site", str(site)]) == 0
    out = capsys.readouterr().out
    assert f"warning: {site}/index.html: selector '#promo' of slot 'promo' matches nothing\n" in out
    assert out.rstrip().endswith("ok: 3 rules, 6 warnings")
