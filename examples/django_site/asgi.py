"""Harbour Books: a small Django site served over ASGI, personalized by etalage.

Run it from the repository root: ``uvicorn examples.django_site.asgi:application``.
etalage's secret keys come from ``ETALAGE_SECRET_KEYS`` (comma-separated, newest first);
without it a fixed development key is used, with a warning.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable, Sequence
from datetime import datetime
from pathlib import Path

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "examples.django_site.settings")

from django.core.asgi import get_asgi_application  # noqa: E402  (needs the settings above)

from etalage.middleware import EtalageMiddleware  # noqa: E402

HERE = Path(__file__).resolve().parent
RULES = HERE / "rules.yaml"
DEV_SECRET_KEY = "harbour-books-dev-key-do-not-deploy"

logger = logging.getLogger(__name__)


def secret_keys_from_env() -> list[str]:
    """``ETALAGE_SECRET_KEYS`` (newest first), or the development key with a warning."""
    keys = [k.strip() for k in os.environ.get("ETALAGE_SECRET_KEYS", "").split(",") if k.strip()]
    if not keys:
        logger.warning("ETALAGE_SECRET_KEYS is not set: using the development key")
        keys = [DEV_SECRET_KEY]
    return keys


def create_application(
    *,
    secret_keys: Sequence[str] | None = None,
    clock: Callable[[], datetime] | None = None,
) -> EtalageMiddleware:
    """Django's ASGI application inside etalage (outermost, so it sees every request)."""
    return EtalageMiddleware(
        get_asgi_application(),
        rules=RULES,
        secret_keys=list(secret_keys) if secret_keys else secret_keys_from_env(),
        clock=clock,
        # The newsletter form records `subscribe`: measured as a conversion by `etalage report`.
        conversions={"subscribe"},
    )


application = create_application()
