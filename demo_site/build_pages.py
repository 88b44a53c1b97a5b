"""Generate the demo shop's static pages from the catalog and the templates in `templates/page/`.

Run ``python -m etalage.demo.build_pages`` after changing the catalog or a template; the
output is committed, and a test checks that it never drifts from what this module renders.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

from jinja2 import ChoiceLoader, Environment, FileSystemLoader, StrictUndefined, Undefined

from etalage.demo import catalog

HERE = Path(__file__).resolve().parent
TEMPLATES = HERE / "templates"
FRAGMENTS = HERE / "fragments"
PAGES = HERE / "pages"


def environment(*, strict: bool = False) -> Environment:
    """The Jinja2 environment of the shop's templates (pages and server-rendered routes).

    Autoescaping is on; the catalog's fragment globals (and the `eur` filter) are
    registered, and the shared partials in `fragments/` (the product card) can be imported.
    `strict` makes an undefined variable an error, as the page build wants.
    """
    env = Environment(
        loader=ChoiceLoader([FileSystemLoader(TEMPLATES), FileSystemLoader(FRAGMENTS)]),
        autoescape=True,
        keep_trailing_newline=True,
        undefined=StrictUndefined if strict else Undefined,
    )
    env.globals.update(catalog.fragment_globals())
    env.filters["eur"] = catalog.eur
    env.globals.update(trips=catalog.TRIPS, bestsellers=catalog.bestsellers(), active="")
    return env


def render_pages() -> dict[str, str]:
    """Render every static page: relative path under `pages/` -> HTML text."""
    env = environment(strict=True)

    def page(template: str, **context: Any) -> str:
        return env.get_template(f"page/{template}").render(**context)

    pages = {
        "index.html": page("index.html", active="home"),
        "trips.html": page("trips.html", active="trips"),
        "about.html": page("about.html", active="about"),
        "account.html": page("account.html", active="account"),
    }
    for c in catalog.CATEGORIES:
        items = catalog.products_for(c.slug, limit=len(catalog.PRODUCTS))
        pages[f"category/{c.slug}.html"] = page(
            "category.html", active=c.slug, category=c, items=items
        )
    for p in catalog.PRODUCTS:
        related = [o for o in catalog.products_for(p.category, limit=5) if o.sku != p.sku][:3]
        pages[f"product/{p.sku}.html"] = page(
            "product.html",
            active=p.category,
            p=p,
            category=catalog.category(p.category),
            related=related,
        )
    return pages


def write_pages(folder: Path = PAGES) -> list[Path]:
    """Write the rendered pages under `folder`, removing generated pages that no longer exist."""
    pages = render_pages()
    written = []
    for rel, text in pages.items():
        target = folder / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(text, encoding="utf-8")
        written.append(target)
    for stale in generated_files(folder):
        if stale.relative_to(folder).as_posix() not in pages:
            stale.unlink()
    return written


def generated_files(folder: Path = PAGES) -> list[Path]:
    """The HTML files under `folder` (every one of them is generated)."""
    return sorted(folder.rglob("*.html"))


def main() -> int:
    """Console entry: rewrite the static pages and print how many were written."""
    written = write_pages()
    print(f"wrote {len(written)} pages under {PAGES}", file=sys.stdout)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
