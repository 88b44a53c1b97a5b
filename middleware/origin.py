"""Same-origin checks for state-changing requests (CSRF defence without tokens)."""

from __future__ import annotations

from collections.abc import Collection, Iterable
from urllib.parse import urlsplit

from etalage.errors import ConfigError
from etalage.middleware.headers import header_value


def is_same_origin(
    headers: Iterable[tuple[bytes, bytes]], allowed_origins: Collection[str] = ()
) -> bool:
    """Whether a request comes from the site's own pages.

    An ``Origin`` listed in `allowed_origins` (``"https://shop.example"``: the site's public
    origins, for a proxy that rewrites ``Host`` in front of browsers that send no
    ``Sec-Fetch-Site``, or a second origin of the same site) passes. Otherwise a browser's
    ``Sec-Fetch-Site`` decides when present: ``same-origin`` (or ``none``: started by the user)
    passes, anything else is refused; a page cannot forge that header. Without it, an
    ``Origin`` header must name the request's own host. A request with neither (a non-browser
    client) is allowed: cookies make cross-site forgery a browser problem. An ``Origin`` that
    is not a URL is refused, never an error.
    """
    headers = list(headers)
    origin = header_value(headers, b"origin")
    if origin is not None and allowed_origins and origin.lower().rstrip("/") in allowed_origins:
        return True
    fetch_site = header_value(headers, b"sec-fetch-site")
    if fetch_site is not None:
        return fetch_site in ("same-origin", "none")
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


def normalized_origins(origins: Iterable[str]) -> tuple[str, ...]:
    """`origins` as `is_same_origin` compares them (``scheme://host[:port]``, lower case);
    `ConfigError` for anything else."""
    normalized = []
    for origin in origins:
        try:
            parts = urlsplit(origin.strip().lower().rstrip("/"))
        except ValueError:
            parts = None
        if parts is None or parts.scheme not in ("http", "https") or not parts.netloc or (
            parts.path or parts.query or parts.fragment
        ):
            raise ConfigError(f"allowed_origins: {origin!r} is not an origin like https://shop.example")
        normalized.append(f"{parts.scheme}://{parts.netloc}")
    return tuple(normalized)


def local_path(url: str, host: str) -> str | None:
    """`url` as a path (and query) of this site to send a browser back to, or None when it
    leads elsewhere: another host, a scheme-relative ``//evil.example`` or ``/\\evil.example``
    (which browsers read as one), or no URL at all (``http://[x``)."""
    try:
        parts = urlsplit(url)
    except ValueError:
        return None
    if parts.netloc and parts.netloc.lower() != host.lower():
        return None
    path = parts.path or "/"
    if not path.startswith("/") or path.startswith("//") or "\\" in path:
        return None
    return path + (f"?{parts.query}" if parts.query else "")

