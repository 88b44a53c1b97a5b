"""Hostile and random requests: the middleware answers every one, never with a 5xx or a broken
header, and a canonical answer (crawler, prefetch) is the upstream answer, without cookies.

Hypothesis drives the ASGI apps in-process: the demo shop and the test site of
``site_fixture.py``. There is no server and no test client in between, so an exception that
escapes the middleware fails the test, and the headers checked are the raw ones it sent.
Requests start from what a browser on the site sends and have some parts replaced by hostile
ones: that way a forged value reaches the code behind the consent and same-origin checks.
Request header values carry no CR, LF or NUL (an HTTP server refuses those before the app sees
them); anything else a server passes on is fair game.
"""

from __future__ import annotations

import asyncio
import json
import re
from collections import Counter
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from urllib.parse import quote, urlencode

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from itsdangerous import TimestampSigner, URLSafeTimedSerializer

from etalage.cookie import ConsentCodec, ProfileCodec
from etalage.demo import create_app
from etalage.middleware import EtalageMiddleware
from etalage.profile import Profile
from etalage.recency import HistoryPolicy
from tests.support.asgi import http_get_scope

from .site_fixture import DESKTOP, GOOGLEBOT, IPHONE, upstream_app, write_site

KEYS = ["fuzz-new-secret", "fuzz-old-secret"]
NOW = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)
T = int(NOW.timestamp())
DAY = 86400
HOST = "shop.test"
PREFIX = "/_etalage/"
ENDPOINTS = ("consent", "profile", "preferences", "event", "forget")
EXAMPLES = settings(max_examples=100, suppress_health_check=[HealthCheck.too_slow])

#: Crawlers and non-browser clients: each must get the canonical answer (issue 9, point 4).
CRAWLERS = (
    GOOGLEBOT,
    "Mozilla/5.0 (compatible; bingbot/2.0; +http://www.bing.com/bingbot.htm)",
    "Mozilla/5.0 AppleWebKit/537.36 (KHTML, like Gecko; compatible; ChatGPT-User/1.0; +https://openai.com/bot)",
    "Mozilla/5.0 AppleWebKit/537.36 (KHTML, like Gecko; compatible; GPTBot/1.2; +https://openai.com/gptbot)",
    "Mozilla/5.0 AppleWebKit/537.36 (KHTML, like Gecko; compatible; ClaudeBot/1.0; +claudebot@anthropic.com)",
    "Mozilla/5.0 AppleWebKit/537.36 (KHTML, like Gecko; compatible; PerplexityBot/1.0; +https://perplexity.ai/perplexitybot)",
    "Mozilla/5.0 (Linux; Android 5.0) AppleWebKit/537.36 (KHTML, like Gecko) Mobile Safari/537.36 (compatible; Bytespider; spider-feedback@bytedance.com)",
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.4 Safari/605.1.15 (Applebot/0.1; +http://www.apple.com/go/applebot)",
    "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) HeadlessChrome/124.0.0.0 Safari/537.36",
    "Mozilla/5.0 (Linux; Android 11; moto g power (2022)) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Mobile Safari/537.36 Chrome-Lighthouse",
    "curl/8.5.0",
    "python-requests/2.32.3",
    "Go-http-client/1.1",
    "Wget/1.21.4",
    "",
)
#: Headers that mark a prefetch (canonical too), as browsers send them.
PREFETCHES = (
    (b"sec-purpose", b"prefetch"),
    (b"sec-purpose", b"prefetch;prerender"),
    (b"purpose", b"prefetch"),
    (b"x-moz", b"prefetch"),
)

# -- driving an ASGI app -------------------------------------------------------------------------


@dataclass(frozen=True)
class Request:
    """One generated HTTP request."""

    method: str
    path: str
    query: bytes
    headers: tuple[tuple[bytes, bytes], ...]
    body: bytes = b""
    parts: int = 1  # the body arrives in this many `http.request` messages
    scheme: str = "http"

    def __repr__(self) -> str:
        body = self.body if len(self.body) <= 200 else self.body[:200] + b"..."
        return (
            f"Request({self.method!r}, {self.path!r}, query={self.query[:200]!r}, "
            f"headers={self.headers!r}, body={body!r} ({len(self.body)} bytes in {self.parts} "
            f"parts), scheme={self.scheme!r})"
        )

    def scope(self) -> dict[str, Any]:
        scope = http_get_scope(HOST, [])
        scope.update(
            method=self.method,
            path=self.path,
            raw_path=quote(self.path).encode("ascii"),
            query_string=self.query,
            scheme=self.scheme,
            headers=list(self.headers),
        )
        return scope

    def chunks(self) -> list[bytes]:
        size = -(-len(self.body) // self.parts) or 1
        return [self.body[i : i + size] for i in range(0, len(self.body), size)] or [b""]


@dataclass(frozen=True)
class Answer:
    status: int
    headers: list[tuple[bytes, bytes]]
    body: bytes

    def set_cookies(self) -> Counter[bytes]:
        return Counter(value for name, value in self.headers if name.lower() == b"set-cookie")


def answer_from(messages: list[dict[str, Any]]) -> Answer:
    """The answer the ASGI messages make up; they must be one complete HTTP answer."""
    assert messages, "no answer at all"
    start, *rest = messages
    assert start["type"] == "http.response.start", messages
    assert all(m["type"] == "http.response.body" for m in rest), messages
    assert rest and not rest[-1].get("more_body", False), "the answer never ended"
    return Answer(
        start["status"], list(start.get("headers", [])), b"".join(m.get("body", b"") for m in rest)
    )


async def call(app: Any, request: Request) -> Answer:
    """Send `request` to `app` as a server would; whatever `app` raises is raised here."""
    pending = request.chunks()
    sent: list[dict[str, Any]] = []
    answered = asyncio.Event()

    async def receive() -> dict[str, Any]:
        if pending:
            body = pending.pop(0)
            return {"type": "http.request", "body": body, "more_body": bool(pending)}
        await answered.wait()  # the client stays until it has its answer
        return {"type": "http.disconnect"}

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)
        if message["type"] == "http.response.body" and not message.get("more_body", False):
            answered.set()

    await asyncio.wait_for(app(request.scope(), receive, send), timeout=10)
    return answer_from(sent)


class Tap:
    """Wraps the upstream app and keeps the messages of the answers it gave."""

    def __init__(self, app: Any) -> None:
        self.app = app
        self.messages: list[dict[str, Any]] = []

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        async def tapped(message: dict[str, Any]) -> None:
            kept = dict(message)
            if "headers" in message:
                kept["headers"] = list(message["headers"])  # before the middleware edits them
            self.messages.append(kept)
            await send(message)

        await self.app(scope, receive, tapped)


@dataclass(frozen=True)
class Site:
    """A wrapped app under test, with the paths its upstream answers and the forms it takes."""

    name: str
    app: EtalageMiddleware
    tap: Tap
    pages: tuple[str, ...]
    forms: dict[str, dict[str, str]]  # path -> the fields its own form posts


#: The fields the site's own forms post to each endpoint.
ENDPOINT_FORMS = {
    PREFIX + "consent": {"personalization": "yes"},
    PREFIX + "preferences": {
        "name": "Ada",
        "email": "ada@example.test",
        "channel": "email",
        "level": "expert",
        "interests": "camping",
    },
    PREFIX + "event": {"type": "dismiss", "rule": "greet"},
    PREFIX + "forget": {},
}


@pytest.fixture(scope="module")
def run() -> Iterator[Callable[[Awaitable[Answer]], Answer]]:
    with asyncio.Runner() as runner:
        yield runner.run


def _test_site(tmp_path_factory: pytest.TempPathFactory) -> Site:
    tap = Tap(upstream_app())
    rules = write_site(tmp_path_factory.mktemp("fuzz-site"))
    app = EtalageMiddleware(tap, rules=rules, secret_keys=KEYS, clock=lambda: NOW)
    pages = ("/", "/plain", "/about", "/asset.css", "/data", "/style.css", "/stream", "/gz")
    forms = {**ENDPOINT_FORMS, "/buy": {}, "/login": {}}
    return Site("site", app, tap, (*pages, "/missing"), forms)


def _demo_shop() -> Site:
    app = create_app(secret_keys=KEYS, clock=lambda: NOW)
    tap = app.app = Tap(app.app)
    pages = (
        "/",
        "/index.html",
        "/product/hk-101.html",
        "/category/camping.html",
        "/trips.html",
        "/about.html",
        "/account.html",
        "/static/shop.css",
        "/search",
        "/cart",
        "/no-such-page",
    )
    forms = {
        **ENDPOINT_FORMS,
        PREFIX + "event": {"type": "dismiss", "rule": "cart-recall"},
        "/cart/add": {"sku": "hk-101", "qty": "2"},
        "/checkout": {},
        "/demo/time": {"shift": "+1d"},
    }
    return Site("demo", app, tap, pages, forms)


@pytest.fixture(scope="module", params=["site", "demo"])
def site(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Site:
    return _test_site(tmp_path_factory) if request.param == "site" else _demo_shop()


def ask(site: Site, run: Callable[[Awaitable[Answer]], Answer], request: Request) -> Answer:
    """The middleware's answer to `request`, checked to be a sound one."""
    site.tap.messages = []
    answer = run(call(site.app, request))
    assert answer.status < 500, f"{answer.status}: {answer.body[:500]!r}"
    for name, value in answer.headers:
        assert isinstance(name, bytes) and isinstance(value, bytes), (name, value)
        assert not _UNSAFE.search(name + value), f"header {name!r}: {value!r}"
    return answer


_UNSAFE = re.compile(rb"[\r\n\x00]")

# -- strategies: text and JSON -------------------------------------------------------------------

_NASTY = (
    "",
    " ",
    "0",
    "-1",
    "²",
    "①",
    "١٢٣",
    "𝟗",
    "9" * 12,
    "1e309",
    "NaN",
    "true",
    "\r\nSet-Cookie: pwned=1",
    "a\rb",
    "a\nb",
    "\x00",
    "%0d%0a",
    "%zz",
    "http://[x",
    "http://[1]/",
    "http://[::1",
    "https://evil.test/",
    "//evil.test/x",
    "/\\evil.test",
    "/ok?x=1#frag",
    "javascript:alert(1)",
    "<script>alert(1)</script>",
    "{{ 7 * 7 }}",
    "'\"",
    "😀",
    "\u202e",
    "\ufeff",
)


def _long(length: int) -> str:
    return "a" * length


_text = st.one_of(
    st.sampled_from(_NASTY), st.text(max_size=30), st.builds(_long, st.integers(100, 5000))
)
_json_text = st.one_of(_text, st.sampled_from(["\ud800", "x\udfffy", "\udc80"]))
_WORDS = (  # values the endpoints and the shop act on
    "true",
    "false",
    "yes",
    "no",
    "dismiss",
    "add_to_cart",
    "purchase",
    "view",
    "greet",
    "cart-recall",
    "+30d",
    "reset",
    "hk-101",
    "beginner",
    "ada@example.test",
    "/cart",
)
_value = st.one_of(st.sampled_from(_WORDS), _json_text)
_json = st.recursive(
    st.one_of(st.none(), st.booleans(), st.integers(), st.floats(), _value),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(_value, inner, max_size=4),
    max_leaves=12,
)
_FIELDS = (
    "personalization",
    "name",
    "email",
    "channel",
    "level",
    "interests",
    "type",
    "data",
    "next",
    "shift",
    "sku",
    "qty",
    "price",
    "value",
    "rule",
    "valid_until",
)
_field = st.one_of(st.sampled_from(_FIELDS), _json_text)
#: URLs `urlsplit` refuses (ValueError): as Origin, Referer or `next`.
_BROKEN_URLS = st.sampled_from(["http://[x", "http://[1]/", "http://[::1", "https://[", "//[x/"])
_urls = st.one_of(
    _BROKEN_URLS,
    st.sampled_from(
        [
            f"https://{HOST}",
            f"http://{HOST.upper()}/",
            f"http://{HOST}:99999/",
            f"http://user:pw@{HOST}/",
            "null",
            "http://evil.test",
            "http://[::1]:80",
            "file:///etc/passwd",
            "http://%zz/",
        ]
    ),
    st.builds("{}://{}{}".format, _text, _text, _text),
    _text,
)
#: Digits `str.isdigit` accepts and `int` refuses, or nearly so.
_DIGITS = st.sampled_from(["²", "①", "³²", "١٢", "𝟗𝟗", "9" * 12])


# -- strategies: cookies -------------------------------------------------------------------------


class _SignedAtNow(TimestampSigner):
    def get_timestamp(self) -> int:
        return T


def _profile_signer(key: str) -> URLSafeTimedSerializer:
    """Signs at `NOW` as the profile codec did before sealing (still read, then re-issued
    sealed): the contents reach `Profile.from_compact` as they are. JSON escapes a lone
    surrogate, as a browser sends it."""
    return URLSafeTimedSerializer(key, salt="etalage.profile", serializer=json, signer=_SignedAtNow)


def _sign(signer: URLSafeTimedSerializer, data: Any) -> str:
    return signer.dumps(data)


_PROFILES = _profile_signer(KEYS[0])
_OLD_PROFILES = _profile_signer(KEYS[1])
_FOREIGN_PROFILES = _profile_signer("someone-else")
_CONSENT_YES = ConsentCodec(KEYS).encode(True)
#: A profile the site would have written (sealed): a few visits, a search, a view, a name.
_GOOD_PROFILE = ProfileCodec(KEYS, clock=lambda: NOW).encode(
    Profile.from_compact(
        {
            "i": "fuzz-visitor",
            "v": 3,
            "f": T - 20 * DAY,
            "l": T - 3600,
            "s": [["tent", T - 7200]],
            "w": [["/product/cp-201.html", T - 5000, "camping"]],
            "n": {"camping": [2.0, T - 5000]},
            "r": {"name": "Ada", "interests": ["camping"]},
        }
    ),
    HistoryPolicy(),
    NOW,
)
_CONSENTING_COOKIE = f"etalage_consent={_CONSENT_YES}; etalage={_GOOD_PROFILE}"
_moment = st.one_of(
    st.integers(T - 400 * DAY, T + DAY),
    st.sampled_from([0, -1, 2**31, 253402300800, 2**53, -(2**53), 10**15]),
    st.integers(-(2**53), 2**53),
)


def _absent_typical_or(
    hostile: st.SearchStrategy[str], typical: str | None = None
) -> st.SearchStrategy[str | None]:
    """None, `typical` (when given) or a hostile value, each about as likely.

    (`a | b | c` would flatten the branches of `c` in among the others, and the few values
    that matter, absent and typical, would hardly ever be drawn.)
    """
    choices: list[st.SearchStrategy[str | None]] = [st.none(), hostile]
    if typical is not None:
        choices.insert(1, st.just(typical))
    return st.sampled_from(choices).flatmap(lambda chosen: chosen)


def _shaped(strategy: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    """`strategy`, or any JSON value in its place."""
    return st.one_of(strategy, _json)


_decision = st.fixed_dictionaries(
    {},
    optional={
        "path": _shaped(_json_text),
        "at": _shaped(_moment),
        "slots": _shaped(
            st.dictionaries(_value, _shaped(st.lists(st.none() | _value, max_size=3)), max_size=3)
        ),
    },
)
#: The parts of the compact form a profile cookie signs (`Profile.to_compact`), each of the
#: shape it has, its moments and numbers anything from sensible to out of range.
_COMPACT_PARTS = {
    "v": _moment,
    "f": _moment,
    "l": _moment,
    "vs": _moment,
    "pv": _moment,
    "lp": _moment,
    "s": st.lists(st.tuples(_json_text, _moment, _moment).map(list), max_size=3),
    "w": st.lists(st.tuples(_json_text, _moment, _value, _moment).map(list), max_size=3),
    "n": st.dictionaries(_value, st.tuples(st.floats(), _moment).map(list), max_size=3),
    "c": st.tuples(_moment, st.floats(), _moment).map(list),
    "p": st.tuples(_moment, st.floats()).map(list),
    "r": st.dictionaries(_field, _json, max_size=4),
    "x": st.dictionaries(_value, _moment, max_size=3),
    "d": st.dictionaries(_value, _moment, max_size=3),
    "e": st.lists(
        st.tuples(_value, _moment, st.dictionaries(_field, _json, max_size=3)).map(list),
        max_size=3,
    ),
    "k": st.lists(_decision, max_size=4),
}


@st.composite
def _compact_profiles(draw: st.DrawFn) -> dict[str, Any]:
    """A compact profile of the right shape with odd contents, perhaps one part of any shape."""
    compact = draw(st.fixed_dictionaries({"i": st.just("fuzz-visitor")}, optional=_COMPACT_PARTS))
    if draw(st.booleans()):
        compact[draw(st.sampled_from(["i", *_COMPACT_PARTS]))] = draw(_json)
    return compact


_malformed_profiles = st.builds(
    _sign, st.sampled_from([_PROFILES, _OLD_PROFILES]), _compact_profiles()
)


def _garble(value: str, at: int, char: str) -> str:
    at %= max(len(value), 1)
    return value[:at] + char + value[at + 1 :]


def _unsigned(value: str) -> str:
    return value.rsplit(".", 1)[0]


_signed_profiles = _malformed_profiles | st.builds(
    _sign, st.sampled_from([_PROFILES, _FOREIGN_PROFILES]), _json
)
_profile_cookies = st.one_of(
    _signed_profiles,
    st.builds(
        _garble,
        _signed_profiles | st.just(_GOOD_PROFILE),
        st.integers(0, 400),
        st.sampled_from('.-_A0="\\ '),
    ),
    _signed_profiles.map(_unsigned),
    _text,
)
_consents = st.one_of(
    st.sampled_from(
        [
            ConsentCodec(KEYS[1:]).encode(True),
            ConsentCodec(KEYS).encode(False),
            ConsentCodec(["someone-else"]).encode(True),
            _CONSENT_YES[:-2],
            "1",
        ]
    ),
    _text,
)


def _cookie_header(
    consent: str | None, profile: str | None, shift: str | None, extra: list[tuple[str, str]]
) -> str:
    named = {"etalage_consent": consent, "etalage": profile, "etalage_demo_shift": shift}
    pairs = [(name, value) for name, value in named.items() if value is not None] + extra
    return "; ".join(f"{name}={value}" for name, value in pairs)


_cookies = st.builds(
    _cookie_header,
    _absent_typical_or(_consents, _CONSENT_YES),
    _absent_typical_or(_profile_cookies, _GOOD_PROFILE),
    _absent_typical_or(_DIGITS | _text, "86400"),
    st.lists(st.tuples(st.sampled_from(["shop_cart", "etalage"]) | _field, _text), max_size=2),
)

# -- strategies: headers -------------------------------------------------------------------------


def _header_bytes(text: str) -> bytes:
    """`text` as a server hands it on: bytes, never a CR, LF or NUL. Latin-1 when it can be
    (the middleware reads headers as Latin-1, so "²" arrives as "²"), else UTF-8."""
    try:
        raw = text.encode("latin-1")
    except UnicodeEncodeError:
        raw = text.encode("utf-8", "surrogatepass")
    return raw.translate(None, b"\r\n\x00")


_ACCEPTS = ("text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8", "application/json")
FORM = "application/x-www-form-urlencoded"
JSON = "application/json"
#: name -> (what a browser on the site sends, if anything; hostile values)
_HEADERS: dict[str, tuple[str | None, st.SearchStrategy[str]]] = {
    "host": (
        HOST,
        st.sampled_from([f"{HOST}:80", HOST.upper(), "evil.test", "[::1]", "[x"]) | _text,
    ),
    "user-agent": (DESKTOP, st.sampled_from((IPHONE, *CRAWLERS)) | _text),
    "accept": (
        _ACCEPTS[0],
        st.sampled_from(["*/*", *_ACCEPTS, "application/json, text/html"]) | _text,
    ),
    "accept-language": (
        "de-DE,de;q=0.9,en;q=0.8",
        st.sampled_from(["*", "en;q=abc", "en;q=1e999", "en;q=nan", ",;,", "x-" * 200]) | _text,
    ),
    "cookie": (_CONSENTING_COOKIE, _cookies),
    "origin": (f"http://{HOST}", _urls),
    "referer": (f"http://{HOST}/account.html", _urls),
    "sec-fetch-site": ("same-origin", st.sampled_from(["none", "same-site", "cross-site"]) | _text),
    "sec-fetch-dest": ("document", st.sampled_from(["iframe", "empty"]) | _text),
    "sec-gpc": (None, st.sampled_from(["1", " 1 ", "0"]) | _text),
    "sec-purpose": (None, st.sampled_from(["prefetch", "prefetch;prerender"]) | _text),
    "if-none-match": (None, st.sampled_from(["*", '"upstream-1"', 'W/"et-0"']) | _text),
}
#: Content-Type goes with the body (see `_request`); these are the ones that do not fit it.
_content_types = st.sampled_from([FORM, JSON, "APPLICATION/JSON; charset=latin-1", "text/plain"])
_header_names = st.sampled_from([*_HEADERS, "content-type"]) | st.from_regex(
    r"[a-z0-9-]{1,20}", fullmatch=True
)


@st.composite
def _headers(draw: st.DrawFn, without: frozenset[str] = frozenset()) -> list[tuple[bytes, bytes]]:
    """Each header absent, as a browser on the site sends it, or hostile; plus a few more."""
    pairs: list[tuple[str, str]] = []
    for name, (typical, hostile) in _HEADERS.items():
        if name in without:
            continue
        value = draw(_absent_typical_or(hostile, typical), label=name)
        if value is not None:
            pairs.append((name, value))
    extra = draw(st.lists(st.tuples(_header_names, _text), max_size=2), label="extra headers")
    pairs += [(name, value) for name, value in extra if name not in without]
    return [(name.encode(), _header_bytes(value)) for name, value in pairs]


def _consenting(accept: str | None) -> list[tuple[bytes, bytes]]:
    """A visitor who said yes, on the site's own page: what they post gets past the door."""
    headers = [
        (b"host", HOST.encode()),
        (b"user-agent", DESKTOP.encode()),
        (b"sec-fetch-site", b"same-origin"),
        (b"cookie", _CONSENTING_COOKIE.encode()),
    ]
    return headers + ([(b"accept", _header_bytes(accept))] if accept is not None else [])


# -- strategies: bodies and requests -------------------------------------------------------------


def _form(fields: list[tuple[str, str]]) -> bytes:
    return urlencode(fields, encoding="utf-8", errors="surrogatepass").encode("ascii")


def _json_body(data: Any) -> bytes:
    return json.dumps(data).encode("ascii")


def _many_fields(count: int) -> bytes:
    return "&".join(f"f{n}=1" for n in range(count)).encode()


def _many_json_fields(count: int) -> bytes:
    return _json_body({f"f{n}": n for n in range(count)})


def _nested(depth: int, shape: str) -> bytes:
    if shape == "open":
        return b"[" * depth
    if shape == "object":
        return b'{"a":' * depth + b"1" + b"}" * depth
    inner = "[" * depth + "]" * depth  # well-formed, as event data and as a preference
    return f'{{"type":"view","data":{{"x":{inner}}},"name":{inner}}}'.encode()


_SHAPES = ("open", "object", "event")
_depths = st.sampled_from([500, 999, 1000, 1001, 5000, 60_000]) | st.integers(1, 70_000)
_queries = st.one_of(
    st.just(b""),
    st.lists(st.tuples(st.sampled_from(["q", "date", "next"]) | _field, _value), max_size=5).map(
        _form
    ),
    st.binary(max_size=60),
    st.integers(0, 3000).map(_many_fields),
)
#: kind -> (the Content-Type that goes with it, body)
_PAYLOADS = {
    "form": st.tuples(st.just(FORM), st.lists(st.tuples(_field, _value), max_size=8).map(_form)),
    "many-fields": st.tuples(st.just(FORM), st.integers(90, 5000).map(_many_fields)),
    "json": st.tuples(st.just(JSON), st.dictionaries(_field, _json, max_size=6).map(_json_body)),
    "any-json": st.tuples(st.just(JSON), _json.map(_json_body)),
    "many-json-fields": st.tuples(st.just(JSON), st.integers(90, 5000).map(_many_json_fields)),
    "nested-json": st.tuples(st.just(JSON), st.builds(_nested, _depths, st.sampled_from(_SHAPES))),
    "bytes": st.tuples(st.just(FORM), st.binary(max_size=80)),
}
_payloads = st.one_of(*_PAYLOADS.values())
_methods = st.just("POST") | st.sampled_from(["GET", "HEAD", "PUT", "OPTIONS", "BREW"])
_endpoint_paths = st.one_of(
    st.sampled_from([PREFIX + name for name in ENDPOINTS]),
    st.sampled_from([PREFIX + name + "/" for name in ENDPOINTS] + [PREFIX, PREFIX + "nope"]),
    st.text(max_size=20).map(PREFIX.__add__),
)


def _page_paths(site: Site) -> st.SearchStrategy[str]:
    """The upstream's own paths (pages, assets, form targets), as they are or lengthened."""
    own = st.sampled_from([*site.pages, *(p for p in site.forms if not p.startswith(PREFIX))])
    tails = st.text(max_size=20) | st.builds(_long, st.integers(200, 1000))
    return own | st.tuples(own, tails).map("".join)


def _with_body(
    method: str,
    path: str,
    query: bytes,
    headers: list[tuple[bytes, bytes]],
    payload: tuple[str, bytes],
    other_content_type: str | None,
    parts: int,
    scheme: str,
) -> Request:
    """The request; its Content-Type is the payload's own unless another is given ("": none)."""
    content_type = payload[0] if other_content_type is None else other_content_type
    if content_type:
        headers = [*headers, (b"content-type", _header_bytes(content_type))]
    return Request(method, path, query, tuple(headers), payload[1], parts, scheme)


def _request(
    methods: st.SearchStrategy[str],
    paths: st.SearchStrategy[str],
    headers: st.SearchStrategy[list[tuple[bytes, bytes]]],
    payloads: st.SearchStrategy[tuple[str, bytes]] = _payloads,
) -> st.SearchStrategy[Request]:
    return st.builds(
        _with_body,
        methods,
        paths,
        _queries,
        headers,
        payloads,
        _absent_typical_or(st.just("") | _content_types | _text),
        st.integers(1, 3),
        st.sampled_from(["http", "https"]),
    )


@st.composite
def _one_field_hostile(draw: st.DrawFn, form: dict[str, str]) -> dict[str, str]:
    """`form` with one of its fields hostile (odd digits where a number goes)."""
    if not form:
        return form
    name = draw(st.sampled_from(sorted(form)))
    return {**form, name: draw(_DIGITS if form[name].isdigit() else _value)}


def _hostile_forms(site: Site) -> st.SearchStrategy[dict[str, dict[str, str]]]:
    """The fields of each of the site's forms, one of them hostile."""
    return st.fixed_dictionaries(
        {path: _one_field_hostile(form) for path, form in site.forms.items()}
    )


def post_every_form(
    site: Site,
    run: Callable[[Awaitable[Answer]], Answer],
    forms: dict[str, dict[str, str]],
    headers: list[tuple[bytes, bytes]],
    as_json: bool = False,
) -> None:
    """Post each form (JSON to the endpoints if `as_json`); every answer must be sound."""
    for path, fields in forms.items():
        json_body = as_json and path.startswith(PREFIX)
        body = _json_body(fields) if json_body else _form(list(fields.items()))
        content_type = (b"content-type", (JSON if json_body else FORM).encode())
        ask(site, run, Request("POST", path, b"", (*headers, content_type), body))


# -- the properties ------------------------------------------------------------------------------


@EXAMPLES
@given(data=st.data())
def test_endpoints_answer_hostile_headers_soundly(site, run, data):
    request = data.draw(_request(_methods, _endpoint_paths, _headers()), label="request")
    ask(site, run, request)


@pytest.mark.parametrize("kind", _PAYLOADS)
@settings(EXAMPLES, max_examples=50)
@given(data=st.data())
def test_posted_bodies_are_answered_soundly(site, run, kind, data):
    """A body, posted to every form target by a visitor who said yes (most bodies with their
    own Content-Type, some with another)."""
    content_type, body = data.draw(_PAYLOADS[kind], label="body")
    other = data.draw(_absent_typical_or(_content_types | _text), label="other content-type")
    content_type = content_type if other is None else other
    accept = data.draw(st.none() | st.sampled_from(_ACCEPTS), label="accept")
    headers = [*_consenting(accept), (b"content-type", _header_bytes(content_type))]
    for path in site.forms:
        ask(site, run, Request("POST", path, b"", tuple(headers), body))


@EXAMPLES
@given(data=st.data())
def test_form_posts_with_hostile_values_are_answered_soundly(site, run, data):
    """Each of the site's forms, posted by a visitor who said yes, with hostile values."""
    forms = data.draw(_hostile_forms(site), label="forms")
    accept = data.draw(st.none() | st.sampled_from(_ACCEPTS), label="accept")
    as_json = data.draw(st.booleans(), label="as JSON")
    post_every_form(site, run, forms, _consenting(accept), as_json)


@EXAMPLES
@given(data=st.data())
def test_form_posts_from_a_hostile_origin_are_answered_soundly(site, run, data):
    """Without Sec-Fetch-Site, the Origin header decides; whatever it holds, a clear answer."""
    origin = data.draw(_urls | _BROKEN_URLS, label="origin")
    headers = [h for h in _consenting(None) if h[0] != b"sec-fetch-site"]
    post_every_form(site, run, site.forms, [*headers, (b"origin", _header_bytes(origin))])


@EXAMPLES
@given(data=st.data())
def test_form_posts_with_a_hostile_way_back_are_answered_soundly(site, run, data):
    """A form's answer redirects to `next` or the Referer: whatever they hold, a clear answer."""
    back = data.draw(st.none() | _urls | _BROKEN_URLS, label="next")
    referer = data.draw(st.none() | _urls | _BROKEN_URLS, label="referer")
    forms = site.forms
    if back is not None:
        forms = {path: {**fields, "next": back} for path, fields in forms.items()}
    headers = _consenting(data.draw(st.none() | st.just(_ACCEPTS[0]), label="accept"))
    if referer is not None:
        headers.append((b"referer", _header_bytes(referer)))
    post_every_form(site, run, forms, headers)


@EXAMPLES
@given(data=st.data())
def test_forged_cookies_are_answered_soundly(site, run, data):
    """Forged, garbled and foreign cookies: a page, the profile and an event all answer."""
    cookie = data.draw(_cookies, label="cookie")
    headers = [h for h in _consenting(_ACCEPTS[0]) if h[0] != b"cookie"]
    headers.append((b"cookie", _header_bytes(cookie)))
    for path in ("/", PREFIX + "profile"):
        ask(site, run, Request("GET", path, b"", tuple(headers)))
    event = _form([("type", "add_to_cart"), ("sku", "hk-101"), ("qty", "1")])
    form = (b"content-type", FORM.encode())
    ask(site, run, Request("POST", PREFIX + "event", b"", (*headers, form), event))


@EXAMPLES
@given(data=st.data())
def test_signed_profiles_with_malformed_contents_are_answered_soundly(site, run, data):
    """A profile signed with the site's key can still hold anything (an older format): a page,
    the profile in HTML and JSON and the site's own forms all answer."""
    profile = _PROFILES.dumps(data.draw(_compact_profiles(), label="profile"))
    cookie = (b"cookie", f"etalage_consent={_CONSENT_YES}; etalage={profile}".encode())
    headers = [*(h for h in _consenting(None) if h[0] != b"cookie"), cookie]
    for accept in _ACCEPTS:
        for path in ("/", PREFIX + "profile"):
            ask(site, run, Request("GET", path, b"", (*headers, (b"accept", accept.encode()))))
    post_every_form(site, run, site.forms, headers)


@EXAMPLES
@given(data=st.data())
def test_pages_answer_hostile_requests_soundly(site, run, data):
    methods = st.sampled_from(["GET", "HEAD", "POST"]) | _methods
    request = data.draw(_request(methods, _page_paths(site), _headers()), label="request")
    ask(site, run, request)


@EXAMPLES
@given(data=st.data())
def test_canonical_answer_is_the_upstream_answer_without_cookies(site, run, data):
    """A crawler or a prefetch gets exactly what the wrapped app sent, and no etalage cookie,
    whatever cookies and headers it brings."""
    marker = data.draw(
        st.sampled_from(CRAWLERS).map(lambda ua: (b"user-agent", ua.encode()))
        | st.sampled_from(PREFETCHES),
        label="canonical because of",
    )
    headers = _headers(without=frozenset({marker[0].decode()}))
    request = data.draw(
        _request(
            st.sampled_from(["GET", "HEAD", "POST"]),
            _page_paths(site),
            headers.map(lambda others: [marker, *others]),
        ),
        label="request",
    )
    answer = ask(site, run, request)
    upstream = answer_from(site.tap.messages)
    assert answer.status == upstream.status
    assert answer.body == (b"" if request.method == "HEAD" else upstream.body)
    assert not answer.set_cookies() - upstream.set_cookies()
