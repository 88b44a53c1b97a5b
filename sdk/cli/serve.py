"""`etalage serve`: a static folder served through the middleware on uvicorn."""

from __future__ import annotations

import gc
import importlib
import logging
import os
import secrets
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from etalage.errors import ConfigError, EtalageError

if TYPE_CHECKING:
    from etalage.middleware import EtalageMiddleware

logger = logging.getLogger("etalage")

# Young collections every 10,000 allocations instead of 700: an answer allocates a few hundred
# short-lived containers, and with the defaults the collector took ~7% of a soak's server CPU
# (gc.callbacks); with these, under 1%.
GC_THRESHOLDS = (10_000, 20, 20)

ENV_SITE = "ETALAGE_SITE_DIR"
ENV_RULES = "ETALAGE_RULES"
ENV_SECRETS = "ETALAGE_SECRET_KEYS"
ENV_PROFILE_STORE = "ETALAGE_PROFILE_STORE"
ENV_EVENTS = "ETALAGE_EVENTS"
ENV_FRAGMENT_GLOBALS = "ETALAGE_FRAGMENT_GLOBALS"


def load_fragment_globals(spec: str | None) -> dict[str, Any]:
    """Names fragments may use, from ``module:callable`` (the callable returns a mapping)."""
    if not spec:
        return {}
    module_name, _, attribute = spec.partition(":")
    if not module_name or not attribute:
        raise ConfigError(f"fragment globals: expected module:callable, got {spec!r}")
    try:
        factory = getattr(importlib.import_module(module_name), attribute)
    except (ImportError, AttributeError) as exc:
        raise ConfigError(f"fragment globals {spec!r}: {exc}") from None
    values = factory() if callable(factory) else factory
    if not isinstance(values, Mapping):
        raise ConfigError(f"fragment globals {spec!r}: must give a mapping of names")
    return dict(values)


def find_rules(site: Path) -> Path | None:
    """The site's rule file: ``SITE/rules/*.yaml`` (first by name) or ``SITE/rules.yaml``."""
    folder = site / "rules"
    if folder.is_dir():
        found = sorted(folder.glob("*.yaml"))
        if found:
            return found[0]
    single = site / "rules.yaml"
    return single if single.is_file() else None


def secret_keys_from_env() -> list[str]:
    """The secret keys from ``ETALAGE_SECRET_KEYS`` (comma-separated, newest first)."""
    return [key.strip() for key in os.environ.get(ENV_SECRETS, "").split(",") if key.strip()]


def create_app(*, freeze: bool = True) -> EtalageMiddleware:
    """The served ASGI app, configured from the environment (one per uvicorn worker).

    With `freeze` (what uvicorn gets), everything built up to here is moved out of the
    garbage collector's reach once the app is ready (see below).
    """
    from etalage.middleware.static_site import StaticSite
    from etalage.rules import ReloadingRuleset, Ruleset, parse_ruleset

    site = Path(os.environ[ENV_SITE])
    rules_path = os.environ.get(ENV_RULES)
    keys = secret_keys_from_env()
    if not keys:
        raise ConfigError(f"{ENV_SECRETS} is not set")
    rules: Ruleset | ReloadingRuleset = parse_ruleset("version: 1\nrules: []\n")
    hidden: list[Path] = []
    if rules_path:
        rules = ReloadingRuleset(rules_path)  # read once: the middleware gets this very one
        rule_file = Path(rules_path).resolve()
        hidden = [rule_file, rule_file.parent, rules.current().site.fragments]
    from etalage.middleware import EtalageMiddleware

    app = EtalageMiddleware(
        StaticSite(site, hidden=hidden),
        rules=rules,
        secret_keys=keys,
        profile_store=os.environ.get(ENV_PROFILE_STORE) or None,
        event_sink=os.environ.get(ENV_EVENTS) or None,
        fragment_globals=load_fragment_globals(os.environ.get(ENV_FRAGMENT_GLOBALS)),
    )
    # Everything loaded so far (modules, compiled rules and templates) lives as long as the
    # process: moved out of the collector's reach, a full collection no longer walks it on the
    # request path (each one stalled every in-flight answer ~20 ms; benchmarks/soak.py).
    if freeze:
        gc.collect()
        gc.freeze()
        gc.set_threshold(*GC_THRESHOLDS)
    return app


def run_site(
    site: str | Path,
    *,
    rules: str | Path | None = None,
    host: str = "127.0.0.1",
    port: int = 8000,
    workers: int = 1,
    profile_store: str | None = None,
    events: str | None = None,
    fragment_globals: str | None = None,
) -> int:
    """Serve `site` through the middleware until interrupted; returns the exit status."""
    import uvicorn

    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    site = Path(site)
    if not site.is_dir():
        print(f"error: site folder not found: {site}", file=sys.stderr)
        return 2
    rules_path = Path(rules) if rules else find_rules(site)
    if rules_path is not None and not rules_path.is_file():
        print(f"error: rule file not found: {rules_path}", file=sys.stderr)
        return 2
    if not secret_keys_from_env():
        logger.warning(
            "%s is not set: using a random key for this run; visitors' cookies will not "
            "survive a restart. Set %s=<secret>[,<older secret>...] in production.",
            ENV_SECRETS,
            ENV_SECRETS,
        )
        os.environ[ENV_SECRETS] = secrets.token_urlsafe(32)
    os.environ[ENV_SITE] = str(site.resolve())
    if rules_path is not None:
        os.environ[ENV_RULES] = str(rules_path.resolve())
    else:
        os.environ.pop(ENV_RULES, None)
    settings = (
        (ENV_PROFILE_STORE, profile_store),
        (ENV_EVENTS, events),
        (ENV_FRAGMENT_GLOBALS, fragment_globals),
    )
    for name, value in settings:
        if value:
            os.environ[name] = value
    try:
        # Fail now, with the file and line, rather than in every worker; this app is
        # discarded, so it is not frozen (the worker's collect-then-freeze reclaims it).
        create_app(freeze=False)
    except EtalageError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    print(f"etalage serve: {site} listening on http://{host}:{port}/", flush=True)
    uvicorn.run(
        "etalage.cli.serve:create_app",
        factory=True,
        host=host,
        port=port,
        workers=workers,
        log_level="warning",
        access_log=False,  # access lines are INFO, below the level shown: skip building them
    )
    return 0
