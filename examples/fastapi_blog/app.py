"""Slow Kitchen: a small FastAPI blog with its own Jinja2 templates, personalized by etalage.

Run it from the repository root: ``uvicorn examples.fastapi_blog.app:app --reload``.
The secret keys come from ``ETALAGE_SECRET_KEYS`` (comma-separated, newest first); without it
a fixed development key is used, with a warning.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable, Sequence
from datetime import datetime
from pathlib import Path

from fastapi import FastAPI, Request
from fastapi.responses import HTMLResponse, JSONResponse
from fastapi.staticfiles import StaticFiles
from fastapi.templating import Jinja2Templates
from starlette.middleware.gzip import GZipMiddleware

from etalage.jinja import SlotExtension
from etalage.middleware import EtalageMiddleware

HERE = Path(__file__).resolve().parent
RULES = HERE / "rules.yaml"
DEV_SECRET_KEY = "slow-kitchen-dev-key-do-not-deploy"

logger = logging.getLogger(__name__)

POSTS = [
    {
        "slug": "sourdough-starter",
        "title": "A sourdough starter in five days",
        "topic": "bread",
        "summary": "Flour, water, patience: feeding a starter until it doubles on time.",
    },
    {
        "slug": "no-knead-loaf",
        "title": "The no-knead loaf, revisited",
        "topic": "bread",
        "summary": "A wetter dough, a longer rest and a hot pot make the crust.",
    },
    {
        "slug": "quick-kimchi",
        "title": "Quick kimchi for the impatient",
        "topic": "ferments",
        "summary": "Ready in two days, better in a week.",
    },
    {
        "slug": "cold-brew",
        "title": "Cold brew without the gadgets",
        "topic": "coffee",
        "summary": "A jar, a sieve and a night in the fridge.",
    },
]
TOPICS = {"bread": "Bread", "ferments": "Ferments", "coffee": "Coffee"}


def secret_keys_from_env() -> list[str]:
    """``ETALAGE_SECRET_KEYS`` (newest first), or the development key with a warning."""
    keys = [k.strip() for k in os.environ.get("ETALAGE_SECRET_KEYS", "").split(",") if k.strip()]
    if not keys:
        logger.warning("ETALAGE_SECRET_KEYS is not set: using the development key")
        keys = [DEV_SECRET_KEY]
    return keys


def create_app(
    *,
    secret_keys: Sequence[str] | None = None,
    clock: Callable[[], datetime] | None = None,
) -> FastAPI:
    """The blog: HTML pages from templates, a JSON API, static CSS; etalage inside GZip."""
    templates = Jinja2Templates(directory=HERE / "templates")
    templates.env.add_extension(SlotExtension)
    app = FastAPI(title="Slow Kitchen")
    app.mount("/static", StaticFiles(directory=HERE / "static"), name="static")

    def page(
        request: Request, name: str, status_code: int = 200, **context: object
    ) -> HTMLResponse:
        context = {"topics": TOPICS, **context}
        return templates.TemplateResponse(request, name, context, status_code=status_code)

    @app.get("/", response_class=HTMLResponse)
    def home(request: Request) -> HTMLResponse:
        return page(request, "home.html", posts=POSTS)

    @app.get("/posts/{slug}", response_class=HTMLResponse)
    def post(request: Request, slug: str) -> HTMLResponse:
        found = next((p for p in POSTS if p["slug"] == slug), None)
        if found is None:
            return page(request, "not_found.html", status_code=404)
        return page(request, "post.html", post=found)

    @app.get("/search", response_class=HTMLResponse)
    def search(request: Request, q: str = "") -> HTMLResponse:
        # etalage records `q` (site.search_param) for a consenting visitor; the app only searches.
        term = q.strip().lower()
        hits = [p for p in POSTS if term and term in (p["title"] + p["summary"]).lower()]
        return page(request, "search.html", q=q.strip(), hits=hits)

    @app.get("/you", response_class=HTMLResponse)
    def you(request: Request) -> HTMLResponse:
        return page(request, "you.html")

    @app.get("/api/posts")
    def api_posts() -> JSONResponse:
        return JSONResponse(POSTS, headers={"Cache-Control": "public, max-age=60"})

    app.add_middleware(
        EtalageMiddleware,
        rules=RULES,
        secret_keys=list(secret_keys) if secret_keys else secret_keys_from_env(),
        clock=clock,
    )
    # Added after etalage, so it wraps etalage's output: it compresses the personalized page.
    # Added before, it would hand etalage compressed HTML, which passes through unpersonalized.
    app.add_middleware(GZipMiddleware, minimum_size=500)
    return app


app = create_app()
