"""ASGI apps and a visitor cookie shared by the load benchmarks (imported by uvicorn workers)."""

from __future__ import annotations

import gc
import os
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from starlette.staticfiles import StaticFiles

from etalage.cli.serve import GC_THRESHOLDS
from etalage.cookie import ConsentCodec, ProfileCodec
from etalage.demo.catalog import fragment_globals
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
    return _frozen(
        EtalageMiddleware(
            StaticFiles(directory=PAGES, html=True),
            rules=RULES,
            secret_keys=[SECRET],
            fragment_globals=fragment_globals(),
        )
    )


def _frozen(app: Any) -> Any:
    """The app, with the collector set up as `etalage serve` does (start-up objects frozen,
    fewer young collections; the README recommends it); the same for (a) and (c).
    """
    gc.collect()
    gc.freeze()
    gc.set_threshold(*GC_THRESHOLDS)
    return app


def full_history_cookie(now: datetime | None = None) -> str:
    """A Cookie header of a consenting visitor with a full history (searches, views, cart)."""
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
    profile.prefs.update({"name": "Ada", "channel": "chat", "level": "expert"})
    profile_value = ProfileCodec([SECRET]).encode(profile, policy, now)
    consent_value = ConsentCodec([SECRET]).encode(True)
    return f"etalage={profile_value}; etalage_consent={consent_value}"
