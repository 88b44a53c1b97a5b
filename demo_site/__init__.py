"""etalage.demo: the demo shop (static pages, fragments, rules) and its few server routes."""

from __future__ import annotations

import logging
import os
import secrets
from collections.abc import Callable
from datetime import date, datetime
from pathlib import Path
from typing import Any

from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.middleware.sessions import SessionMiddleware
from starlette.requests import Request
from starlette.responses import HTMLResponse, PlainTextResponse, RedirectResponse, Response
from starlette.routing import Mount, Route

from etalage.demo import catalog, kits, shop_globals, templating, toolbar
from etalage.demo.forms import read_form
from etalage.middleware import EtalageMiddleware, StaticSite
from etalage.middleware.origin import is_same_origin

HERE = Path(__file__).resolve().parent
PAGES = HERE / "pages"
RULES = HERE / "rules" / "shop.yaml"
MAX_QTY = 20
_MAX_QTY_DIGITS = 3  # "020" is fine; a thousand digits are not parsed at all
LAST_ORDER = "last_order"  # the session key of the order /checkout/done shows

logger = logging.getLogger("etalage.demo")


#: The stated preferences the account page offers a choice of (`EtalageMiddleware`'s
#: ``preference_choices``).
PREFERENCE_CHOICES = {
    "channel": [key for key, _ in catalog.CHANNELS],
    "level": [key for key, _ in catalog.LEVELS],
}

LOYALTY_RULE = "loyalty-price"
PRICE_SLOT = "price"
KIT_RULE = "trip-kit"
KIT_SLOT = "trip-kit"


def is_loyal(request: Request) -> bool:
    """Whether the member price applies: the rule set gives this visitor's price slot to the
    loyalty rule, exactly as it does on the product pages.

    Decided from the profile the middleware decoded from the signed cookie (never from the
    page or a form), by the rules in force, so an edited rule changes the checkout with the
    pages. A visitor in the holdout group sees standard prices, and is charged them.
    """
    state = request.scope.get("etalage")
    visitor = getattr(state, "visitor", None)
    if state is None or visitor is None or not visitor.personalization_allowed:
        return False
    decision = state.decide([PRICE_SLOT]).get(PRICE_SLOT)
    return decision is not None and decision.rule is not None and decision.rule.id == LOYALTY_RULE


def kit_level(request: Request) -> str | None:
    """The level a trip kit is configured for: the visitor's stated ``prefs.level`` when the
    rule set gives them the personalized kit (as the trips page does), else None (standard).

    Read from the signed profile, never from the form, like `is_loyal`.
    """
    state = request.scope.get("etalage")
    visitor = getattr(state, "visitor", None)
    if state is None or visitor is None or not visitor.personalization_allowed:
        return None
    decision = state.decide([KIT_SLOT]).get(KIT_SLOT)
    if decision is None or decision.rule is None or decision.rule.id != KIT_RULE:
        return None
    ruleset = state.ruleset
    level = visitor.attributes(ruleset.history, ruleset.site.timezone).get("prefs.level")
    return level if isinstance(level, str) else None


def _sellable(key: Any) -> catalog.Product | kits.TripKit | None:
    """What a cart key names: a product SKU or a trip kit's key."""
    if not isinstance(key, str):
        return None
    return catalog.product(key) or kits.kit_from_key(key)


def cart_lines(request: Request) -> tuple[list[dict[str, Any]], float, float]:
    """The cart from the session with prices from the catalog: lines, subtotal, total charged.

    The total is the sum of the unit prices a product page shows the visitor: the member
    price (`catalog.member_price`) when `is_loyal`, else the normal price. A trip kit's price
    is its bundle price, computed again from the catalog (`kits.TripKit.price`).
    """
    loyal = is_loyal(request)
    lines = []
    subtotal = 0.0
    total = 0.0
    for sku, qty in (request.session.get("cart") or {}).items():
        item = _sellable(sku)
        if item is None or not isinstance(qty, int) or not 0 < qty <= MAX_QTY:
            continue
        unit = catalog.member_price(item.price) if loyal else item.price
        lines.append({"product": item, "qty": qty, "amount": round(item.price * qty, 2)})
        subtotal += item.price * qty
        total += unit * qty
    return lines, round(subtotal, 2), round(total, 2)


def create_app(
    *,
    demo_mode: bool = True,
    secret_keys: list[str] | None = None,
    rules: str | Path = RULES,
    profile_store: str | None = None,
    clock: Callable[[], datetime] | None = None,
) -> Any:
    """The demo shop as one ASGI app, wrapped in `EtalageMiddleware` (`rules`: the shop's
    rule file, or an edited copy whose fragments folder resolves to the shop's;
    `profile_store`: a ``redis://`` URL to keep profiles in Redis instead of the cookie).

    `demo_mode` adds the toolbar and time travel, through the hooks any site has."""
    env = templating.environment()

    def render(name: str, **context: Any) -> HTMLResponse:
        return HTMLResponse(env.get_template(name).render(**context))

    async def search_page(request: Request) -> Response:
        term = request.query_params.get("q", "")[:100]
        return render(
            "search.html",
            term=term,
            results=catalog.search(term) if term else [],
            date=_iso_date(request.query_params.get("date", "")),
        )

    async def cart_page(request: Request) -> Response:
        lines, subtotal, total = cart_lines(request)
        return render(
            "cart.html",
            lines=lines,
            subtotal=subtotal,
            total=total,
            loyal=is_loyal(request),
            max_qty=MAX_QTY,
            active="cart",
        )

    async def cart_add(request: Request) -> Response:
        if not is_same_origin(request.scope.get("headers", [])):
            return PlainTextResponse("Cross-site request refused", status_code=403)
        form = await read_form(request)
        item = catalog.product(form.get("sku", ""))
        if item is None:
            return PlainTextResponse("Unknown product", status_code=400)
        qty = max(1, _quantity(form.get("qty", "1")) or 1)
        cart = dict(request.session.get("cart") or {})
        cart[item.sku] = min(cart.get(item.sku, 0) + qty, MAX_QTY)
        request.session["cart"] = cart
        state = request.scope.get("etalage")
        if state is not None:
            state.record_event("add_to_cart", {"sku": item.sku, "price": item.price, "qty": qty})
        return RedirectResponse("/cart", status_code=303)

    async def cart_add_kit(request: Request) -> Response:
        """Add a trip's kit: the form names the trip; the configuration and the price are the
        server's (`kit_level`, `kits.trip_kit`), whatever else was posted."""
        if not is_same_origin(request.scope.get("headers", [])):
            return PlainTextResponse("Cross-site request refused", status_code=403)
        form = await read_form(request)
        kit = kits.trip_kit(kits.trip_by_slug(form.get("trip", "")), kit_level(request))
        if kit is None:
            return PlainTextResponse("Unknown trip", status_code=400)
        cart = dict(request.session.get("cart") or {})
        cart[kit.sku] = min(cart.get(kit.sku, 0) + 1, MAX_QTY)
        request.session["cart"] = cart
        state = request.scope.get("etalage")
        if state is not None:
            state.record_event("add_to_cart", {"sku": kit.sku, "price": kit.price, "qty": 1})
        return RedirectResponse("/cart", status_code=303)

    def cart_changed(request: Request) -> None:
        """Tell the profile what the cart now holds (a removal must end the cart reminder)."""
        state = request.scope.get("etalage")
        if state is not None:
            lines, subtotal, _ = cart_lines(request)
            items = sum(line["qty"] for line in lines)
            state.record_event("cart_update", {"items": items, "value": subtotal})

    async def cart_update(request: Request) -> Response:
        """Set a line's quantity (0 removes it); a quantity that is no number leaves it."""
        if not is_same_origin(request.scope.get("headers", [])):
            return PlainTextResponse("Cross-site request refused", status_code=403)
        form = await read_form(request)
        qty = _quantity(form.get("qty", ""))
        if qty is not None:
            change_line(request, form.get("sku", ""), qty)
        return RedirectResponse("/cart", status_code=303)

    async def cart_remove(request: Request) -> Response:
        if not is_same_origin(request.scope.get("headers", [])):
            return PlainTextResponse("Cross-site request refused", status_code=403)
        form = await read_form(request)
        change_line(request, form.get("sku", ""), 0)
        return RedirectResponse("/cart", status_code=303)

    def change_line(request: Request, sku: str, qty: int) -> None:
        """Set the quantity of a line already in the cart (0 removes it)."""
        cart = dict(request.session.get("cart") or {})
        if sku not in cart:
            return
        if qty:
            cart[sku] = qty
        else:
            del cart[sku]
        request.session["cart"] = cart
        cart_changed(request)

    async def checkout(request: Request) -> Response:
        if not is_same_origin(request.scope.get("headers", [])):
            return PlainTextResponse("Cross-site request refused", status_code=403)
        await read_form(request)  # any posted price or total is ignored: the server computes it
        lines, subtotal, total = cart_lines(request)
        if not lines:
            return RedirectResponse("/cart", status_code=303)
        loyal = is_loyal(request)
        state = request.scope.get("etalage")
        if state is not None:
            state.record_event("purchase", {"value": total})
        request.session["cart"] = {}
        request.session[LAST_ORDER] = {
            "id": f"EO-{secrets.token_hex(4).upper()}",
            "lines": [[line["product"].sku, line["qty"], line["amount"]] for line in lines],
            "subtotal": subtotal,
            "total": total,
            "loyal": loyal,
        }
        # Redirect after post: reloading the confirmation shows it again, it buys nothing.
        return RedirectResponse("/checkout/done", status_code=303)

    async def checkout_done(request: Request) -> Response:
        order = _last_order(request.session.get(LAST_ORDER))
        if order is None:
            return RedirectResponse("/cart", status_code=303)
        return render("checkout_done.html", **order)

    session_secret = os.environ.get("ETALAGE_DEMO_SESSION_SECRET") or secrets.token_urlsafe(32)
    shop = Starlette(
        routes=[
            Route("/search", search_page),
            Route("/cart", cart_page),
            Route("/cart/add", cart_add, methods=["POST"]),
            Route("/cart/add-kit", cart_add_kit, methods=["POST"]),
            Route("/cart/update", cart_update, methods=["POST"]),
            Route("/cart/remove", cart_remove, methods=["POST"]),
            Route("/checkout", checkout, methods=["POST"]),
            Route("/checkout/done", checkout_done),
            *([Route(toolbar.TRAVEL_PATH, toolbar.time_travel, methods=["POST"])] if demo_mode else []),
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
        rules=rules,
        secret_keys=keys,
        fragment_globals=shop_globals.fragment_globals(),
        profile_store=profile_store,
        clock=clock,
        preference_choices=PREFERENCE_CHOICES,
        forget_cookies=[toolbar.SHIFT_COOKIE] if demo_mode else [],
        request_time=toolbar.request_time if demo_mode else None,
        page_footer=toolbar.page_footer if demo_mode else None,
        profile_stylesheet="/static/profile.css",
    )


def _iso_date(raw: str) -> str | None:
    """`raw` when it is an ISO date (``2027-03-14``), else None."""
    try:
        return date.fromisoformat(raw[:10]).isoformat() if len(raw) == 10 else None
    except ValueError:
        return None


def _quantity(raw: str) -> int | None:
    """A posted quantity: ASCII digits only (``"²".isdigit()`` holds too), at most
    `MAX_QTY`; None when `raw` is no such number."""
    if not (raw.isascii() and raw.isdigit() and len(raw) <= _MAX_QTY_DIGITS):
        return None
    return min(int(raw), MAX_QTY)


def _last_order(stored: Any) -> dict[str, Any] | None:
    """The context of checkout_done.html from the order kept in the session, or None."""
    if not isinstance(stored, dict):
        return None
    lines = []
    for entry in stored.get("lines") or []:
        sku, qty, amount = entry if isinstance(entry, list) and len(entry) == 3 else (None, 0, 0)
        item = _sellable(sku)
        if item is not None:
            lines.append({"product": item, "qty": qty, "amount": amount})
    if not lines:
        return None
    return {
        "lines": lines,
        "subtotal": stored.get("subtotal", 0.0),
        "total": stored.get("total", 0.0),
        "loyal": stored.get("loyal") is True,
        "order_id": stored.get("id"),
    }


def create_demo_app() -> Any:
    """Factory for uvicorn (``etalage.demo:create_demo_app``): the shop in demo mode
    (``ETALAGE_DEMO_MODE=0`` turns it off; ``ETALAGE_PROFILE_STORE=redis://...`` keeps
    profiles in Redis)."""
    return create_app(
        demo_mode=os.environ.get("ETALAGE_DEMO_MODE", "1") != "0",
        profile_store=os.environ.get("ETALAGE_PROFILE_STORE") or None,
    )


def run_demo(host: str = "127.0.0.1", port: int = 8000) -> int:
    """Serve the demo shop until interrupted."""
    import uvicorn

    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    print(
        f"etalage demo shop listening on http://{host}:{port}/ "
        "(demo toolbar at the bottom of each page)",
        flush=True,
    )
    uvicorn.run(
        "etalage.demo:create_demo_app", factory=True, host=host, port=port, log_level="warning"
    )
    return 0
