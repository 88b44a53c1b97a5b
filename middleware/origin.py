"""Same-origin checks for state-changing requests (CSRF defence without tokens)."""

from __future__ import annotations

from collections.abc import Iterable
from urllib.parse import urlsplit

from etalage.middleware.headers import header_value


def is_same_origin(headers: Iterable[tuple[bytes, bytes]]) -> bool:
    """Whether a request comes from the site's own pages.

    A browser's ``Sec-Fetch-Site`` decides when present: ``same-origin`` (or ``none``: started
    by the user) passes, anything else is refused. A page cannot forge that header, and it
    holds behind a proxy that rewrites ``Host``, where comparing ``Origin`` with ``Host`` would
    refuse the site's own forms. Without it, an ``Origin`` header must name the request's own
    host. A request with neither (a non-browser client) is allowed: cookies make cross-site
    forgery a browser problem. An ``Origin`` that is not a URL is refused, never an error.
    """
    headers = list(headers)
    fetch_site = header_value(headers, b"sec-fetch-site")
    if fetch_site is not None:
        return fetch_site in ("same-origin", "none")
    origin = header_value(headers, b"origin")
    if origin is None:
        return True
    if origin == "null":
        return False
    host = (header_value(headers, b"host") or "").lower()
    try:
        parts = urlsplit(origin)
    except ValueError:  # e.g. "http://[x": not an origin any browser sends
        return False
    return parts.netloc.lower() == host and parts.scheme in ("http", "https")
