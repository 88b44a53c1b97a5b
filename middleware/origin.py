"""Same-origin checks for state-changing requests (CSRF defence without tokens)."""

from __future__ import annotations

from collections.abc import Iterable
from urllib.parse import urlsplit

from etalage.middleware.headers import header_value


def is_same_origin(headers: Iterable[tuple[bytes, bytes]]) -> bool:
    """Whether a request comes from the site's own pages.

    A browser's ``Sec-Fetch-Site`` must be ``same-origin`` (or ``none``: typed by the user);
    else an ``Origin`` header must name the request's own host. A request with neither
    (a non-browser client) is allowed: cookies make cross-site forgery a browser problem.
    """
    headers = list(headers)
    fetch_site = header_value(headers, b"sec-fetch-site")
    if fetch_site is not None and fetch_site not in ("same-origin", "none"):
        return False
    origin = header_value(headers, b"origin")
    if origin is None:
        return True
    if origin == "null":
        return False
    host = (header_value(headers, b"host") or "").lower()
    parts = urlsplit(origin)
    return parts.netloc.lower() == host and parts.scheme in ("http", "https")
