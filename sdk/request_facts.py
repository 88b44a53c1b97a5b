"""`RequestFacts`: what the current request alone says (device, path, query, time, and the
country a trusted CDN located it in).

These facts need no consent: they are about this request, not the person, and are never stored.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, tzinfo
from functools import lru_cache, wraps
from typing import Any, TypeVar
from urllib.parse import parse_qsl, urlsplit

from user_agents import parse as parse_user_agent

MAX_QUERY_VALUE = 200
MAX_QUERY_KEYS = 20
MAX_LANGUAGES = 20
_T = TypeVar("_T")
_PREFETCH_HEADERS = (b"sec-purpose", b"purpose", b"x-moz", b"x-purpose")

#: The request headers in which each CDN that `trusted_edge` may name states the country and the
#: region it located the visitor in. Cloudflare sends ``CF-IPCountry`` by default and
#: ``cf-region-code`` with its "Add visitor location headers" managed transform; CloudFront
#: sends its two when the origin request policy forwards them; Fastly sends none by default:
#: the service sets these two itself (``client.geo.country_code`` and ``client.geo.region`` in
#: VCL). No IP header is ever read.
EDGE_GEO_HEADERS: Mapping[str, tuple[bytes, bytes]] = {
    "cloudflare": (b"cf-ipcountry", b"cf-region-code"),
    "cloudfront": (b"cloudfront-viewer-country", b"cloudfront-viewer-country-region"),
    "fastly": (b"fastly-geo-country", b"fastly-geo-region"),
    "vercel": (b"x-vercel-ip-country", b"x-vercel-ip-country-region"),
}
TRUSTED_EDGES = tuple(EDGE_GEO_HEADERS)
_COUNTRY = re.compile(rb"[A-Za-z]{2}")
_REGION = re.compile(rb"[A-Za-z0-9]{1,3}")

#: Automated clients that user-agents (ua-parser-builtins 202610) takes for people. It already
#: flags GPTBot, OAI-SearchBot, ClaudeBot, PerplexityBot, Googlebot, bingbot, CCBot, Scrapy,
#: facebookexternalhit, meta-externalagent, Slackbot, Discordbot, Twitterbot, LinkedInBot,
#: WhatsApp, Python-urllib and ``Java/``, so they are not repeated here.
_UNRECOGNISED_BOTS = re.compile(
    r"""
    # Crawlers named late in a browser-like string: ua-parser looks for "bot" and "spider" in
    # the first 100 characters only, after a device (Mac, Android phone) has already matched.
    applebot | amazonbot | bytespider
    # Assistants fetching a page at a person's request; their names do not say "bot".
    | chatgpt-user | claude-user | perplexity-user
    # Automated browsers and audits: a complete Chrome string plus a marker.
    | headlesschrome | chrome-lighthouse | phantomjs
    # HTTP libraries and command-line tools: nobody browses with them.
    | curl/ | wget/ | python-requests/ | python-httpx/ | aiohttp/ | go-http-client/
    | okhttp/ | java-http-client/ | apache-httpclient/ | libwww-perl/ | node-fetch/ | axios/
    | httpie/
    """,
    re.IGNORECASE | re.VERBOSE,
)


@dataclass(frozen=True)
class Device:
    """What the user agent says about the device."""

    type: str  # mobile / tablet / desktop
    os: str
    browser: str
    is_bot: bool


@lru_cache(maxsize=1024)
def classify_user_agent(user_agent: str) -> Device:
    """Parse a User-Agent header once per distinct string (user-agents is slow).

    A bot is what user-agents calls one, what `_UNRECOGNISED_BOTS` names, or a client that sends
    no User-Agent at all (every browser sends one).
    """
    if not user_agent.strip():
        return Device("desktop", "Other", "Other", True)
    agent = parse_user_agent(user_agent)
    kind = "mobile" if agent.is_mobile else "tablet" if agent.is_tablet else "desktop"
    is_bot = agent.is_bot or _UNRECOGNISED_BOTS.search(user_agent) is not None
    return Device(kind, agent.os.family, agent.browser.family, is_bot)


@dataclass(slots=True)  # not frozen: a frozen dataclass is built 3x slower, once per request
class RequestFacts:
    """The contextual facts of one request, as rules see them (read them, do not change them)."""

    path: str
    now: datetime
    timezone: tzinfo
    query: dict[str, str] = field(default_factory=dict)
    device_type: str = "desktop"
    device_os: str = "Other"
    device_browser: str = "Other"
    is_bot: bool = False
    is_prefetch: bool = False
    gpc: bool = False
    is_https: bool = False
    referrer_host: str | None = None
    locale: str | None = None
    country: str | None = None
    region: str | None = None
    #: The host name the request was sent to (the ``Host`` header, without its port).
    host: str | None = None

    @property
    def external_referrer(self) -> str | None:
        """The referrer's host when it is another site (a link within the site is none)."""
        referrer = self.referrer_host
        if referrer is None or (self.host is not None and referrer.lower() == self.host):
            return None
        return referrer

    @classmethod
    def from_scope(
        cls,
        scope: Mapping[str, Any],
        timezone: tzinfo,
        now: datetime,
        *,
        trusted_edge: str | None = None,
    ) -> RequestFacts:
        """Read the facts from an ASGI HTTP scope.

        The country and region come from the geolocation headers of `trusted_edge` (one of
        `TRUSTED_EDGES`) only; without it they are absent, whatever the request claims.
        """
        headers: dict[bytes, bytes] = {}
        for name, value in scope.get("headers", []):
            headers.setdefault(name.lower(), value)
        device = classify_user_agent(_text(headers.get(b"user-agent"))[:512])
        query: dict[str, str] = {}
        raw_query = scope.get("query_string", b"")
        if raw_query:
            for key, value in parse_qsl(raw_query.decode("latin-1"), keep_blank_values=False):
                if len(query) >= MAX_QUERY_KEYS:
                    break
                if key:
                    query.setdefault(key[:40], value[:MAX_QUERY_VALUE])
        prefetch = any(
            b"prefetch" in headers[name].lower() for name in _PREFETCH_HEADERS if name in headers
        )
        country = region = None
        if trusted_edge is not None:
            country_header, region_header = EDGE_GEO_HEADERS[trusted_edge]
            country, region = _geo(headers.get(country_header), headers.get(region_header))
        return cls(
            path=scope.get("path", "/"),
            now=now,
            timezone=timezone,
            query=query,
            device_type=device.type,
            device_os=device.os,
            device_browser=device.browser,
            is_bot=device.is_bot,
            is_prefetch=prefetch,
            gpc=headers.get(b"sec-gpc", b"").strip() == b"1",
            is_https=scope.get("scheme") in ("https", "wss"),
            referrer_host=_referrer_host(_text(headers.get(b"referer"))),
            locale=_locale(_text(headers.get(b"accept-language"))),
            country=country,
            region=region,
            host=_host(_text(headers.get(b"host"))),
        )

    def contextual_attributes(self) -> dict[str, Any]:
        """``device.*``, ``request.*`` and ``time.*`` attributes (flat dotted keys)."""
        local = self.now.astimezone(self.timezone)
        attrs: dict[str, Any] = {
            "device.type": self.device_type,
            "device.os": self.device_os,
            "device.browser": self.device_browser,
            "device.bot": self.is_bot,
            "request.path": self.path,
            "time.hour": local.hour,
            "time.weekday": local.weekday(),
            "time.date": local.date().isoformat(),
        }
        for key, value in self.query.items():
            attrs[f"request.query.{key}"] = value
            if key.startswith("utm_"):
                attrs[f"request.utm.{key[4:]}"] = value
        if self.referrer_host:
            attrs["request.referrer_host"] = self.referrer_host
        if self.locale:
            attrs["request.locale"] = self.locale
        if self.country:
            attrs["request.country"] = self.country
            if self.region:
                attrs["request.region"] = self.region
        return attrs


def _text(value: bytes | None) -> str:
    return value.decode("latin-1") if value else ""


def _geo(country: bytes | None, region: bytes | None) -> tuple[str | None, str | None]:
    """``(country, region)`` from an edge's header values, in capitals, or None each.

    A country is two ASCII letters (ISO 3166-1 alpha-2) other than ``XX`` (Cloudflare's
    "unknown"); Cloudflare's Tor code ``T1``, Fastly's ``**`` and anything else are no
    country. A region is the subdivision part of an ISO 3166-2 code (``BY``, ``13``, ``BNH``):
    one to three ASCII letters or digits, and only with a country (Fastly's ``NO REGION`` and
    ``?`` are none).
    """
    country = (country or b"").strip()
    if not _COUNTRY.fullmatch(country) or country.upper() == b"XX":
        return None, None
    region = (region or b"").strip()
    return country.decode("ascii").upper(), (
        region.decode("ascii").upper() if _REGION.fullmatch(region) else None
    )


def _host(header: str) -> str | None:
    """The host name of a ``Host`` header in lower case, without its port."""
    return _url_host("//" + header.strip()) if header else None


def _referrer_host(referrer: str) -> str | None:
    return _url_host(referrer) if referrer else None


def _remembering_short(maxsize: int) -> Callable[[Callable[[str], _T]], Callable[[str], _T]]:
    """Remember what a function of one header value returns for values up to 256 characters,
    the `maxsize` most recent (bounded memory: a client sending huge values only slows itself)."""

    def wrap(function: Callable[[str], _T]) -> Callable[[str], _T]:
        remembered = lru_cache(maxsize=maxsize)(function)

        @wraps(function)
        def lookup(value: str) -> _T:
            return remembered(value) if len(value) <= 256 else function(value)

        return lookup

    return wrap


@_remembering_short(1024)  # a site answers to a few host names, is mostly its own referrer
def _url_host(url: str) -> str | None:
    try:
        return urlsplit(url).hostname or None
    except ValueError:
        return None


def _locale(accept_language: str) -> str | None:
    """The most preferred language tag (highest ``q``, first on a tie); None for none or ``*``."""
    return _preferred_language(accept_language) if accept_language else None


@_remembering_short(256)  # browsers send few distinct values
def _preferred_language(accept_language: str) -> str | None:
    best: str | None = None
    best_q = 0.0
    for part in accept_language.split(",")[:MAX_LANGUAGES]:
        tag, *params = (piece.strip() for piece in part.split(";"))
        if not tag or tag == "*":
            continue
        q = 1.0
        for param in params:
            name, _, value = param.partition("=")
            if name.strip().lower() == "q":
                try:
                    q = float(value)
                except ValueError:
                    q = 0.0
        if 0 < q <= 1 and q > best_q:
            best, best_q = tag[:20], q
    return best
