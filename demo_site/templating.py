"""The Jinja2 environment of the demo shop's templates: its static pages and its few
server-rendered routes (search, cart, checkout)."""

from __future__ import annotations

from pathlib import Path

from jinja2 import ChoiceLoader, Environment, FileSystemLoader, StrictUndefined, Undefined

from etalage.demo import catalog, shop_globals

HERE = Path(__file__).resolve().parent
TEMPLATES = HERE / "templates"
FRAGMENTS = HERE / "fragments"
PAGES = HERE / "pages"


def environment(*, strict: bool = False) -> Environment:
    """The Jinja2 environment of the shop's templates (pages and server-rendered routes).

    Autoescaping is on; the shop's fragment globals (and the `eur` filter) are
    registered, and the shared partials in `fragments/` (the product card) can be imported.
    `strict` makes an undefined variable an error, as the page build wants.
    """
    env = Environment(
        loader=ChoiceLoader([FileSystemLoader(TEMPLATES), FileSystemLoader(FRAGMENTS)]),
        autoescape=True,
        keep_trailing_newline=True,
        undefined=StrictUndefined if strict else Undefined,
    )
    env.globals.update(shop_globals.fragment_globals())
    env.filters["eur"] = catalog.eur
    env.globals.update(trips=catalog.TRIPS, bestsellers=catalog.bestsellers(), active="")
    return env
