"""etalage.demo: the demo shop (static pages, fragments, rules) and its few server routes."""

from __future__ import annotations

import logging
import os
import secrets
from pathlib import Path
from typing import Any

import jinja2
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.middleware.sessions import SessionMiddleware
from starlette.requests import Request
from starlette.responses import HTMLResponse, PlainTextResponse, RedirectResponse, Response
from starlette.routing import Mount, Route

from etalage.middleware import EtalageMiddleware, StaticSite
from etalage.middleware.origin import is_same_origin

HERE = Path(__file__).resolve().parent
PAGES = HERE / "pages"
RULES = HERE / "rules" / "shop.yaml"
TEMPLATES = HERE / "templates"
LOYALTY_DISCOUNT = 0.10
MAX_QTY = 20

logger = logging.getLogger("etalage.demo")


def _templates() -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(TEMPLATES), autoescape=True, auto_reload=False
    )
    from etalage.demo.catalog import fragment_globals

    env.globals.update(fragment_globals())
    env.filters.update({k: v for k, v in fragment_globals().items() if k == "eur"})
    return env


def is_loyal(request: Request) -> bool:
    """Whether the visitor's signed profile shows a past purchase (loyalty pricing)."""
    state = request.scope.get("etalage")
    visitor = getattr(state, "visitor", None)
    profile = getattr(visitor, "profile", None)
    return bool(visitor and visitor.personalization_allowed and profile and profile.purchases > 0)


def cart_lines(request: Request) -> tuple[list[dict[str, Any]], float, float]:
    """The cart from the session with prices from the catalog: lines, subtotal, total charged."""
    from etalage.demo.catalog import product

    lines = []
    subtotal = 0.0
    for sku, qty in (request.session.get("cart") or {}).items():
        item = product(sku)
        if item is None or not isinstance(qty, int):
            continue
        lines.append({"product": item, "qty": qty, "amount": round(item.price * qty, 2)})
        subtotal += item.price * qty
    total = subtotal * (1 - LOYALTY_DISCOUNT) if is_loyal(request) else subtotal
    return lines, round(subtotal, 2), round(total, 2)


def create_app(*, demo_mode: bool = True, secret_keys: list[str] | None = None) -> Any:
    """The demo shop as one ASGI app, wrapped in `EtalageMiddleware`."""
    from etalage.demo.catalog import fragment_globals, search

    env = _templates()

    def render(name: str, **context: Any) -> HTMLResponse:
        return HTMLResponse(env.get_template(name).render(**context))

    async def search_page(request: Request) -> Response:
        term = request.query_params.get("q", "")[:100]
        return render("search.html", term=term, results=search(term) if term else [])

    async def cart_page(request: Request) -> Response:
        lines, subtotal, total = cart_lines(request)
        return render(
            "cart.html", lines=lines, subtotal=subtotal, total=total, loyal=is_loyal(request)
        )

    async def cart_add(request: Request) -> Response:
        from etalage.demo.catalog import product

        if not is_same_origin(request.scope.get("headers", [])):
            return PlainTextResponse("Cross-site request refused", status_code=403)
        form = await _form(request)
        item = product(form.get("sku", ""))
        if item is None:
            return PlainTextResponse("Unknown product", status_code=400)
        qty = int(form["qty"]) if form.get("qty", "1").isdigit() else 1
        qty = max(1, min(qty, MAX_QTY))
        cart = dict(request.session.get("cart") or {})
        cart[item.sku] = min(cart.get(item.sku, 0) + qty, MAX_QTY)
        request.session["cart"] = cart
        state = request.scope.get("etalage")
        if state is not None:
            state.record_event("add_to_cart", {"sku": item.sku, "price": item.price, "qty": qty})
        return RedirectResponse("/cart", status_code=303)

    async def checkout(request: Request) -> Response:
        if not is_same_origin(request.scope.get("headers", [])):
            return PlainTextResponse("Cross-site request refused", status_code=403)
        await _form(request)  # any posted price or total is ignored: the server computes it
        lines, subtotal, total = cart_lines(request)
        if not lines:
            return RedirectResponse("/cart", status_code=303)
        loyal = is_loyal(request)
        state = request.scope.get("etalage")
        if state is not None:
            state.record_event("purchase", {"value": total})
        request.session["cart"] = {}
        return render(
            "checkout_done.html", lines=lines, subtotal=subtotal, total=total, loyal=loyal
        )

    session_secret = os.environ.get("ETALAGE_DEMO_SESSION_SECRET") or secrets.token_urlsafe(32)
    shop = Starlette(
        routes=[
            Route("/search", search_page),
            Route("/cart", cart_page),
            Route("/cart/add", cart_add, methods=["POST"]),
            Route("/checkout", checkout, methods=["POST"]),
            Mount("/", app=StaticSite(PAGES)),
        ],
        middleware=[
            Middleware(
                SessionMiddleware,
                secret_key=session_secret,
                session_cookie="shop_cart",
                same_site="lax",
            ),
        ],
    )
    keys = (
        secret_keys
        or [k for k in os.environ.get("ETALAGE_SECRET_KEYS", "").split(",") if k]
        or [secrets.token_urlsafe(32)]
    )
    return EtalageMiddleware(
        shop,
        rules=RULES,
        secret_keys=keys,
        demo_mode=demo_mode,
        fragment_globals=fragment_globals(),
    )


async def _form(request: Request) -> dict[str, str]:
    from urllib.parse import parse_qsl

    body = await request.body()
    try:
        return dict(parse_qsl(body.decode("utf-8")[:10_000], keep_blank_values=True))
    except UnicodeDecodeError:
        return {}


def create_demo_app() -> Any:
    """Factory for uvicorn (``etalage.demo:create_demo_app``): the shop in demo mode."""
    return create_app(demo_mode=os.environ.get("ETALAGE_DEMO_MODE", "1") != "0")


def run_demo(host: str = "127.0.0.1", port: int = 8000) -> int:
    """Serve the demo shop until interrupted."""
    import uvicorn

    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    print(f"etalage demo shop on http://{host}:{port}/ (demo toolbar at the bottom of each page)")
    uvicorn.run(
        "etalage.demo:create_demo_app", factory=True, host=host, port=port, log_level="warning"
    )
    return 0
