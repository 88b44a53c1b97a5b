"""Header rules for personalized answers: caching, Vary, variant ETags and conditional requests."""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping

import msgspec

_DROPPED = (b"content-length", b"etag", b"last-modified", b"cache-control", b"vary")
# Headers only shared caches read, each overriding Cache-Control for its cache: the standard
# CDN-Cache-Control and its vendor forms (Cloudflare-, Vercel-, ...-CDN-Cache-Control),
# Surrogate-Control (Fastly, Varnish, Akamai), Edge-Control (Akamai), X-Accel-Expires (nginx).
_FOR_SHARED_CACHES = (b"surrogate-control", b"edge-control", b"x-accel-expires")


def targets_shared_caches(name: bytes) -> bool:
    """Whether header `name` (lower-case) tells a CDN or proxy cache how long to keep an answer."""
    return name in _FOR_SHARED_CACHES or name.endswith(b"cdn-cache-control")


def variant_etag(
    page_digest: bytes, replacements: Mapping[str, bytes], extra: bytes = b""
) -> str:
    """A weak ETag of a personalized answer, from what its body is made of: the page (by its
    digest), each replaced slot and any `extra` bytes added. The same page with the same
    fragments gets the same tag; a change in any of them changes it.

    Hashing the parts rather than the whole body keeps the work to the few small fragments
    (and below the size at which hashlib releases the GIL, a costly hand-off under threads);
    MessagePack frames them (each part's length before it) in one call.
    """
    framed = _FRAME((page_digest, sorted(replacements.items()), extra))
    return 'W/"et-' + hashlib.blake2b(framed, digest_size=12).hexdigest() + '"'


_FRAME = msgspec.msgpack.Encoder().encode


def etag_matches(if_none_match: str | None, etag: str) -> bool:
    """Whether an If-None-Match header names `etag` (weak comparison, ``*`` matches)."""
    if not if_none_match:
        return False
    wanted = _opaque(etag)
    for candidate in if_none_match.split(","):
        candidate = candidate.strip()
        if candidate == "*" or _opaque(candidate) == wanted:
            return True
    return False


def _opaque(tag: str) -> str:
    return tag[2:] if tag.startswith("W/") else tag


def private_cache_control(upstream: str | None) -> str:
    """``private, no-cache`` (a browser revalidates each time), keeping a stricter ``no-store``."""
    directives = ["private", "no-cache"]
    if upstream and "no-store" in upstream.lower():
        directives.append("no-store")
    return ", ".join(directives)


def shared_caches_excluded(headers: list[tuple[bytes, bytes]]) -> list[tuple[bytes, bytes]]:
    """The headers of an answer no shared cache may keep (it carries a Set-Cookie, or it is a
    crawler's page that people must not be handed): ``public`` and ``s-maxage`` are dropped
    and ``private`` added, other directives (a browser's ``max-age``, ``no-store``) kept, and
    the headers only CDNs and proxies read (`targets_shared_caches`) are removed."""
    directives: list[str] = []
    out: list[tuple[bytes, bytes]] = []
    for name, value in headers:
        lower = name.lower()
        if lower == b"cache-control":
            directives.extend(d.strip() for d in value.decode("latin-1").split(",") if d.strip())
        elif not targets_shared_caches(lower):
            out.append((name, value))
    kept = [
        d for d in directives if d.lower() != "public" and not d.lower().startswith("s-maxage")
    ]
    if not any(d.lower() == "private" for d in kept):
        kept.insert(0, "private")
    out.append((b"cache-control", ", ".join(kept).encode("latin-1")))
    return out


def merge_vary(upstream: str | None, name: str = "Cookie") -> str:
    """Add `name` to a Vary header value unless it is there (or ``*``) already."""
    if not upstream:
        return name
    parts = [p.strip() for p in upstream.split(",") if p.strip()]
    if "*" in parts or name.lower() in (p.lower() for p in parts):
        return ", ".join(parts)
    return ", ".join([*parts, name])


#: The request header behind each family of contextual attributes (a name ending in "." is a
#: prefix). Query, path and page attributes come from the URL or the page itself, which every
#: cache keys on already; consent and history come from cookies.
_HEADERS_READ = (
    ("device.", "User-Agent"),
    ("request.referrer_host", "Referer"),
    ("request.locale", "Accept-Language"),
    ("consent.", "Sec-GPC"),
)


def vary_for(attributes: Iterable[str], geo_headers: Iterable[str] = ()) -> tuple[str, ...]:
    """The request headers an answer of the rule set's pages depends on, for ``Vary``:
    ``Cookie`` always (consent and history live there), and the header behind each contextual
    attribute in `attributes` (those the rules read); `geo_headers` are the trusted edge's
    country and region headers, read for ``request.country`` and ``request.region``.

    Time attributes (``time.hour``...) cannot be varied on: a cached answer keeps the decision
    of the moment it was made for as long as the app's caching says.
    """
    wanted = ["Cookie"]
    for attribute in attributes:
        for family, header in _HEADERS_READ:
            matches = attribute.startswith(family) if family.endswith(".") else attribute == family
            if matches and header not in wanted:
                wanted.append(header)
        if attribute in ("request.country", "request.region"):
            wanted.extend(h for h in geo_headers if h not in wanted)
    return tuple(wanted)


def canonical_headers(
    headers: Iterable[tuple[bytes, bytes]], vary: Iterable[str]
) -> list[tuple[bytes, bytes]]:
    """The headers of an answer that is the app's own page for this request (every slot kept
    its default): the app's caching and validators stay, and ``Vary`` names the request
    headers (`vary_for`) that could have made it another page."""
    out: list[tuple[bytes, bytes]] = []
    upstream = None
    for name, value in headers:
        if name.lower() == b"vary":
            text = value.decode("latin-1")
            upstream = text if upstream is None else f"{upstream}, {text}"
        else:
            out.append((name, value))
    for header in vary:
        upstream = merge_vary(upstream, header)
    out.append((b"vary", (upstream or "").encode("latin-1")))
    return out


def personalized_headers(
    headers: Iterable[tuple[bytes, bytes]], *, body_length: int, etag: str, duration_ms: float
) -> list[tuple[bytes, bytes]]:
    """Rewrite upstream headers for a personalized body.

    Content-Length is recomputed; the upstream ETag and Last-Modified are dropped (they
    describe the unpersonalized page); caching becomes private, and the headers only shared
    caches read are dropped (a CDN honouring ``CDN-Cache-Control`` would otherwise keep one
    visitor's page for everyone); ``Vary: Cookie`` is merged in.
    """
    cache_control = None
    vary = None
    out: list[tuple[bytes, bytes]] = []
    for name, value in headers:
        lower = name.lower()
        if lower == b"cache-control":
            cache_control = value.decode("latin-1")
        elif lower == b"vary":
            vary = value.decode("latin-1") if vary is None else f"{vary}, {value.decode('latin-1')}"
        if lower not in _DROPPED and not targets_shared_caches(lower):
            out.append((name, value))
    out.append((b"content-length", str(body_length).encode()))
    out.append((b"etag", etag.encode("latin-1")))
    out.append((b"cache-control", private_cache_control(cache_control).encode("latin-1")))
    out.append((b"vary", merge_vary(vary).encode("latin-1")))
    out.append((b"server-timing", f"etalage;dur={duration_ms:.2f}".encode()))
    return out


def header_value(headers: Iterable[tuple[bytes, bytes]], name: bytes) -> str | None:
    """The first value of header `name` (lower-case bytes), decoded latin-1."""
    for key, value in headers:
        if key.lower() == name:
            return value.decode("latin-1")
    return None
