"""ASGI apps and visitor cookies shared by the load benchmarks (imported by uvicorn workers)."""

from __future__ import annotations

import gc
import os
import secrets
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from jinja2 import Environment, Template
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import HTMLResponse
from starlette.routing import Route
from starlette.staticfiles import StaticFiles

from etalage.cli.serve import GC_THRESHOLDS
from etalage.cookie import ConsentCodec, ProfileCodec
from etalage.demo.shop_globals import fragment_globals
from etalage.history import record_event, record_request, record_search, record_view
from etalage.middleware import EtalageMiddleware
from etalage.profile import Profile
from etalage.rules import load_ruleset

ROOT = Path(__file__).resolve().parents[1]
PAGES = ROOT / "demo_site" / "pages"
RULES = ROOT / "demo_site" / "rules" / "shop.yaml"
SECRET = os.environ.get("ETALAGE_SECRET_KEYS", "bench-secret")


def staticfiles_app() -> Any:
    """(a) Starlette StaticFiles over the demo pages, no personalization."""
    return _frozen(StaticFiles(directory=PAGES, html=True))


def middleware_app() -> Any:
    """(c) The same StaticFiles wrapped in EtalageMiddleware with the demo rules."""
    return _frozen(with_middleware(StaticFiles(directory=PAGES, html=True)))


def dynamic_app() -> Any:
    """(d) A server-rendered site: the home page rendered by Jinja2 per request, with a fresh
    CSRF token each time, as a FastAPI or Starlette site renders its pages."""
    return _frozen(rendering_app())


def dynamic_middleware_app() -> Any:
    """(e) The same site wrapped in EtalageMiddleware with the demo rules."""
    return _frozen(with_middleware(rendering_app()))


def with_middleware(app: Any) -> EtalageMiddleware:
    """`app` wrapped in EtalageMiddleware with the demo rules and catalog."""
    return EtalageMiddleware(
        app, rules=RULES, secret_keys=[SECRET], fragment_globals=fragment_globals()
    )


def rendering_app() -> Starlette:
    """A Starlette app answering ``/`` with the home page template rendered for a new token."""
    template = home_page_template()

    async def home(request: Request) -> HTMLResponse:
        return HTMLResponse(template.render(token=secrets.token_hex(16)))

    return Starlette(routes=[Route("/", home)])


def home_page_template() -> Template:
    """The demo home page as a Jinja2 template with a ``{{ token }}`` meta tag in its head."""
    head, tail = (PAGES / "index.html").read_text(encoding="utf-8").split("</head>", 1)
    token = '{% endraw %}<meta name="csrf-token" content="{{ token }}">\n{% raw %}'
    return Environment(autoescape=True).from_string(
        "{% raw %}" + head + token + "</head>" + tail + "{% endraw %}"
    )


def _frozen(app: Any) -> Any:
    """The app, with the collector set up as `etalage serve` does (start-up objects frozen,
    fewer young collections; the README recommends it); the same for every app.
    """
    gc.collect()
    gc.freeze()
    gc.set_threshold(*GC_THRESHOLDS)
    return app


def full_history_cookie(now: datetime | None = None, visitor: int = 0) -> str:
    """A Cookie header of a consenting visitor with a full history (searches, views, cart);
    each `visitor` number gives another visitor (another name), the same history."""
    now = now or datetime.now(UTC)
    ruleset = load_ruleset(RULES)
    policy = ruleset.history
    profile = Profile.new(now - timedelta(days=40))
    topics = ["hiking", "camping", "climbing", "water"]
    for n in range(60):
        moment = now - timedelta(days=40) + timedelta(hours=16 * n)
        record_request(profile, policy, moment)
        record_view(profile, policy, moment, f"/product/item-{n % 25}.html", topic=topics[n % 4])
        if n % 3 == 0:
            record_search(profile, policy, moment, f"search term {n}")
    record_event(
        profile,
        policy,
        now - timedelta(days=2),
        "add_to_cart",
        {"sku": "tent-1", "price": 199.0, "qty": 1},
    )
    name = f"Ada {visitor}" if visitor else "Ada"
    profile.prefs.update({"name": name, "channel": "chat", "level": "expert"})
    profile_value = ProfileCodec([SECRET]).encode(profile, policy, now)
    consent_value = ConsentCodec([SECRET]).encode(True)
    return f"etalage={profile_value}; etalage_consent={consent_value}"
