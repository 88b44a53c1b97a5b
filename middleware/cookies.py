"""Reading the Cookie header and writing Set-Cookie values with etalage's safe defaults."""

from __future__ import annotations

from collections.abc import Iterable


def parse_cookie_header(headers: Iterable[tuple[bytes, bytes]]) -> dict[str, str]:
    """Return the request's cookies (first value wins); malformed pairs are skipped."""
    cookies: dict[str, str] = {}
    for name, value in headers:
        if name != b"cookie":
            continue
        for pair in value.decode("latin-1").split(";"):
            key, sep, val = pair.partition("=")
            key = key.strip()
            if sep and key and key not in cookies:
                cookies[key] = val.strip().strip('"')
    return cookies


def set_cookie(
    name: str,
    value: str,
    *,
    max_age: int | None,
    secure: bool,
    http_only: bool = True,
    same_site: str = "Lax",
    path: str = "/",
) -> bytes:
    """Build a Set-Cookie header value; `max_age=0` deletes the cookie."""
    parts = [f"{name}={value}", f"Path={path}"]
    if max_age is not None:
        parts.append(f"Max-Age={max_age}")
        if max_age == 0:
            parts.append("Expires=Thu, 01 Jan 1970 00:00:00 GMT")
    if http_only:
        parts.append("HttpOnly")
    parts.append(f"SameSite={same_site}")
    if secure:
        parts.append("Secure")
    return "; ".join(parts).encode("latin-1")


def delete_cookie(name: str, *, secure: bool) -> bytes:
    """Build a Set-Cookie header value that removes the cookie."""
    return set_cookie(name, "", max_age=0, secure=secure)
