"""Generate the demo shop's static pages from the catalog and the templates in
`demo_site/templates/page/` (a development tool, not part of the installed package).

Run ``python scripts/build_demo_pages.py`` after changing the catalog or a template; the output
is committed, and a test checks that it never drifts from what this module renders.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

from etalage.demo import catalog
from etalage.demo.templating import PAGES, environment


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
