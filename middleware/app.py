"""`EtalageMiddleware`: the pure-ASGI middleware that personalizes HTML answers."""

from __future__ import annotations

import atexit
import logging
import time
from collections.abc import Awaitable, Callable, Mapping, MutableMapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from etalage.cookie import ConsentCodec, ProfileCodec
from etalage.errors import ConfigError
from etalage.events import make_sink
from etalage.middleware.cookies import delete_cookie, parse_cookie_header, set_cookie
from etalage.middleware.endpoints import CONSENT_MAX_AGE, DEMO_SHIFT_COOKIE, Endpoints
from etalage.middleware.fragment_cache import FragmentCache
from etalage.middleware.headers import header_value, shared_caches_excluded
from etalage.middleware.personalize import PagePersonalizer
from etalage.middleware.skeleton_cache import SkeletonCache
from etalage.profile import Profile
from etalage.request_facts import RequestFacts
from etalage.rules import ReloadingRuleset, Ruleset
from etalage.store import RedisProfileStore, StoreUnavailable, VisitorIdCodec
from etalage.visitor import Visitor

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

logger = logging.getLogger("etalage")

CONVERSIONS = frozenset({"add_to_cart", "purchase"})


@dataclass
class RequestState:
    """What ``scope["etalage"]`` holds for app code: the visitor, the decisions, a recorder."""

    visitor: Visitor
    ruleset: Ruleset
    decisions: dict[str, Any] = field(default_factory=dict)
    if_none_match: str | None = None
    method: str = "GET"
    event_sink: Any = None
    store: RedisProfileStore | None = None

    def record_event(self, type: str, data: Mapping[str, Any] | None = None) -> bool:
        """Record a conversion or custom event for this visitor (only with consent).

        Raises `ValueError` when `data` is unusable for the event type.
        """
        payload = dict(data or {})
        if type == "dismiss":
            rule = self.ruleset.rule(str(payload.get("rule", "")))
            if rule is None or not rule.dismissible:
                raise ValueError(f"data.rule: no dismissible rule {payload.get('rule')!r}")
        recorded = self.visitor.record_event(self.ruleset.history, type, payload)
        if recorded and self.event_sink is not None and type in CONVERSIONS:
            value = _conversion_value(payload)
            self.event_sink.emit(
                {
                    "type": "conversion",
                    "event": type,
                    "visitor": self.visitor.id,
                    "holdout": self.visitor.holdout,
                    "value": value,
                    "at": self.visitor.now.isoformat(),
                }
            )
        return recorded

    async def identify(self, identity: str) -> bool:
        """Tie this visitor to an identity the site's own authentication has verified, so
        their history follows them across devices.

        Call it only after a login the app checked (a password, a magic link, an OAuth
        callback), with that account's stable id. Whoever is identified under `identity`
        gets the profile stored under it: the anonymous history of this browser merges into
        it, and from then on this browser sees and adds to it. Never pass anything the
        visitor merely typed or sent (an e-mail address in a form, a query parameter, a
        header): that would hand them another person's history. etalage itself never calls
        this; a stated e-mail (`POST {prefix}preferences`) is only a contact preference.

        Needs consent and a profile store; returns whether the identity was attached.
        """
        visitor, store = self.visitor, self.store
        if store is None or not visitor.personalization_allowed or visitor.profile is None:
            return False
        if visitor.store_failed or not identity.strip():
            return False
        try:
            visitor.profile = await store.identify(
                visitor.profile, identity, self.ruleset.history, visitor.now
            )
        except StoreUnavailable:
            visitor.store_failed = True
            return False
        visitor.changed = True
        visitor.recorded = True  # the id cookie may change: it goes out on any answer (login redirects)
        return True


class EtalageMiddleware:
    """Personalize ``200 text/html`` answers of any ASGI app; pass everything else through.

    Mount it as ``app.add_middleware(EtalageMiddleware, rules="site/rules.yaml",
    secret_keys=[...])``. Keep it *inside* any compression middleware (add GZipMiddleware after
    it, so that GZip wraps it): compressed answers are passed through unpersonalized.
    """

    def __init__(
        self,
        app: ASGIApp,
        *,
        rules: str | Path | Ruleset | ReloadingRuleset,
        secret_keys: Sequence[str] | str,
        prefix: str = "/_etalage/",
        cookie_name: str = "etalage",
        consent_cookie_name: str = "etalage_consent",
        max_age: timedelta = timedelta(days=180),
        max_html_bytes: int = 2_000_000,
        clock: Callable[[], datetime] | None = None,
        fragment_globals: Mapping[str, Any] | None = None,
        skeleton_cache_size: int = 256,
        fragment_cache_size: int = 4096,
        demo_mode: bool = False,
        event_sink: Any = None,  # an EventSink, a JSON-lines path or a redis:// URL
        reload_interval: float = 1.0,
        profile_store: RedisProfileStore | str | None = None,
    ) -> None:
        self.app = app
        if isinstance(secret_keys, str):
            secret_keys = [k for k in secret_keys.split(",") if k]
        if not secret_keys or not all(isinstance(k, str) and k for k in secret_keys):
            raise ConfigError("secret_keys: give at least one non-empty secret key")
        if not prefix.startswith("/") or not prefix.endswith("/"):
            raise ConfigError(f"prefix must start and end with '/': {prefix!r}")
        if isinstance(rules, str | Path):
            rules = ReloadingRuleset(rules, interval=reload_interval)
        self._rules = rules
        self.prefix = prefix
        self.cookie_name = cookie_name
        self.consent_cookie_name = consent_cookie_name
        self.max_age = max_age
        self.max_html_bytes = max_html_bytes
        self.clock = clock or (lambda: datetime.now(UTC))
        self.demo_mode = demo_mode
        self.event_sink = make_sink(event_sink)
        if self.event_sink is not None:
            atexit.register(self.event_sink.close)
        self.profile_codec = ProfileCodec(list(secret_keys), max_age=max_age)
        if isinstance(profile_store, str):
            profile_store = RedisProfileStore(profile_store, ttl=max_age)
        self.store = profile_store
        self.id_codec = VisitorIdCodec(list(secret_keys), max_age=max_age)
        self.consent_codec = ConsentCodec(list(secret_keys))
        self.skeletons = SkeletonCache(skeleton_cache_size)
        self.fragment_cache = FragmentCache(fragment_cache_size)
        self.pages = PagePersonalizer(self, fragment_globals or {})
        self.pages.check_fragments(self.ruleset)
        self.endpoints = Endpoints(self)

    @property
    def ruleset(self) -> Ruleset:
        """The rule set in force (re-read when its file changed)."""
        if isinstance(self._rules, ReloadingRuleset):
            return self._rules.current()
        return self._rules

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            if scope["type"] == "lifespan":
                send = self._closing_on_shutdown(send)
            await self.app(scope, receive, send)
            return
        ruleset = self.ruleset
        visitor = self.load_visitor(scope, ruleset)
        if self.store is not None:
            await self.load_stored_profile(visitor, scope, ruleset)
        state = RequestState(
            visitor,
            ruleset,
            if_none_match=header_value(scope.get("headers", []), b"if-none-match"),
            method=scope["method"],
            event_sink=self.event_sink,
            store=self.store,
        )
        scope["etalage"] = state
        if scope["path"].startswith(self.prefix):
            await self.endpoints.handle(scope, receive, send, state)
            return
        method = scope["method"]
        app_scope = scope
        if method == "HEAD":
            # The personalized length is known only from the body: ask upstream for it.
            app_scope = dict(scope, method="GET")
        if method in ("GET", "HEAD") and not visitor.is_canonical and _is_page_request(scope):
            # The app's validators describe its page, not this visitor's: answering a
            # conditional request is the middleware's job (variant ETags), or an upstream 304
            # would keep a browser on a page personalized for an earlier visit.
            app_scope = dict(app_scope, headers=_without_conditionals(scope["headers"]))
        responder = _Responder(
            self, state, send, head=method == "HEAD", page=method in ("GET", "HEAD")
        )
        await self.app(app_scope, receive, responder.send)
        if responder.page_answered or visitor.recorded:
            await self.persist(visitor)  # events app code recorded after its answer started

    def _closing_on_shutdown(self, send: Send) -> Send:
        """Flush the event sink and close the store when the server shuts down."""

        async def wrapped(message: Message) -> None:
            if message["type"] == "lifespan.shutdown.complete":
                if self.event_sink is not None:
                    self.event_sink.close()
                if self.store is not None:
                    await self.store.close()
            await send(message)

        return wrapped

    async def load_stored_profile(self, visitor: Visitor, scope: Scope, ruleset: Ruleset) -> None:
        """With a profile store: read the signed id from the cookie and the profile from the store.

        When the store is down the visitor keeps their id, sees defaults, and nothing is saved
        over the stored profile (it is still there when the store is back).
        """
        if visitor.consent is not True or visitor.is_canonical or self.store is None:
            return
        cookies = parse_cookie_header(scope.get("headers", []))
        visitor_id, reissue = self.id_codec.decode(cookies.get(self.cookie_name))
        visitor.stored_id = visitor_id
        visitor.id_reissue = reissue
        profile = None
        if visitor_id is not None:
            try:
                profile = await self.store.load(visitor_id)
            except StoreUnavailable:
                visitor.store_failed = True
        if profile is None:
            profile = Profile.new(visitor.now)
            if visitor_id is not None:
                profile.id = visitor_id
        visitor.profile = profile
        visitor.holdout = ruleset.in_holdout(profile.id)

    async def persist(self, visitor: Visitor) -> None:
        """Save a changed profile to the store (cookie mode: the cookie carries it instead)."""
        if (
            self.store is None
            or not visitor.changed
            or visitor.store_failed
            or not visitor.personalization_allowed
            or visitor.profile is None
        ):
            return
        try:
            await self.store.save(visitor.profile)
            visitor.changed = False
        except StoreUnavailable:
            visitor.store_failed = True

    def demo_shift(self, scope: Scope) -> int:
        """Seconds this visitor travelled forward in time (demo mode only)."""
        raw = parse_cookie_header(scope.get("headers", [])).get(DEMO_SHIFT_COOKIE, "")
        # isascii: "²".isdigit() holds too, and int() refuses it.
        return int(raw) if raw.isascii() and raw.isdigit() and len(raw) < 10 else 0

    def load_visitor(self, scope: Scope, ruleset: Ruleset) -> Visitor:
        """Build the request's visitor; bad cookies yield a fresh visitor, never an error."""
        shift = self.demo_shift(scope) if self.demo_mode else 0
        now = self.clock() + timedelta(seconds=shift)
        facts = RequestFacts.from_scope(scope, ruleset.site.timezone, now)
        cookies = parse_cookie_header(scope.get("headers", []))
        consent, consent_reissue = self.consent_codec.read(cookies.get(self.consent_cookie_name))
        visitor = Visitor(
            facts=facts,
            now=now,
            consent=consent,
            had_profile_cookie=self.cookie_name in cookies,
            time_shift=shift,
            consent_reissue=consent_reissue,
        )
        if consent is not True or visitor.is_canonical or self.store is not None:
            return visitor
        decoded = self.profile_codec.decode(cookies.get(self.cookie_name))
        if decoded.profile is None:
            visitor.profile = Profile.new(now)
            visitor.changed = True
        else:
            visitor.profile = decoded.profile
            visitor.changed = decoded.reissue
        visitor.holdout = ruleset.in_holdout(visitor.profile.id)
        return visitor

    def cookie_headers(
        self, visitor: Visitor, ruleset: Ruleset, *, page: bool = True
    ) -> list[tuple[bytes, bytes]]:
        """Set-Cookie headers for this answer: the re-issued profile, or its deletion.

        On an answer that is not a page (an asset, a redirect, JSON) the profile is written
        only when app code recorded something during the request; a cookie that must go is
        deleted on any answer. Fresh or re-signed profiles wait for the next page, so the
        parallel requests of one page load do not each hand out a different new profile.
        """
        secure = visitor.facts.is_https
        if visitor.is_canonical:
            return []
        if not page and not visitor.recorded:
            if visitor.had_profile_cookie and not visitor.personalization_allowed:
                return [(b"set-cookie", delete_cookie(self.cookie_name, secure=secure))]
            return []
        headers: list[tuple[bytes, bytes]] = []
        if visitor.consent_reissue and visitor.consent is not None:
            value = self.consent_codec.encode(visitor.consent)
            headers.append(
                (
                    b"set-cookie",
                    set_cookie(
                        self.consent_cookie_name, value, max_age=CONSENT_MAX_AGE, secure=secure
                    ),
                )
            )
            visitor.consent_reissue = False
        return headers + self._profile_cookie_headers(visitor, ruleset, secure)

    def _profile_cookie_headers(
        self, visitor: Visitor, ruleset: Ruleset, secure: bool
    ) -> list[tuple[bytes, bytes]]:
        if self.store is not None:
            return self._id_cookie_headers(visitor, secure)
        if visitor.personalization_allowed and visitor.profile is not None:
            if not visitor.changed:
                return []
            value = self.profile_codec.encode(visitor.profile, ruleset.history, visitor.now)
            max_age = int(self.max_age.total_seconds())
            return [
                (b"set-cookie", set_cookie(self.cookie_name, value, max_age=max_age, secure=secure))
            ]
        if visitor.had_profile_cookie:
            return [(b"set-cookie", delete_cookie(self.cookie_name, secure=secure))]
        return []

    def _id_cookie_headers(self, visitor: Visitor, secure: bool) -> list[tuple[bytes, bytes]]:
        profile = visitor.profile
        if visitor.personalization_allowed and profile is not None:
            if profile.id == visitor.stored_id and not visitor.id_reissue:
                return []
            value = self.id_codec.encode(profile.id)
            max_age = int(self.max_age.total_seconds())
            return [
                (b"set-cookie", set_cookie(self.cookie_name, value, max_age=max_age, secure=secure))
            ]
        if visitor.had_profile_cookie:
            return [(b"set-cookie", delete_cookie(self.cookie_name, secure=secure))]
        return []


_CONDITIONALS = (b"if-none-match", b"if-modified-since")


def _is_page_request(scope: Scope) -> bool:
    """A browser navigation: it accepts HTML (assets ask for images, CSS, scripts)."""
    accept = header_value(scope.get("headers", []), b"accept") or ""
    dest = header_value(scope.get("headers", []), b"sec-fetch-dest") or ""
    return "text/html" in accept.lower() or dest in ("document", "iframe", "frame")


def _without_conditionals(headers: Sequence[tuple[bytes, bytes]]) -> list[tuple[bytes, bytes]]:
    return [(name, value) for name, value in headers if name.lower() not in _CONDITIONALS]


def _conversion_value(data: Mapping[str, Any]) -> float:
    """The money a conversion event is worth: ``value``, else ``price`` × ``qty`` (forms send text)."""
    try:
        if "value" in data:
            return round(float(data["value"]), 2)
        return round(float(data.get("price", 0)) * float(data.get("qty", 1)), 2)
    except (TypeError, ValueError):
        return 0.0


class _Responder:
    """Per-request send wrapper: holds back HTML answers to personalize, passes the rest."""

    def __init__(
        self, mw: EtalageMiddleware, state: RequestState, send: Send, *, head: bool, page: bool
    ):
        self.mw = mw
        self.page = page  # a GET or HEAD: only those answers are personalized
        self.state = state
        self.downstream = send
        self.head = head
        self.start: Message | None = None
        self.buffering = False
        self.chunks: list[bytes] = []
        self.size = 0
        self.started_at = time.perf_counter()
        self.page_answered = False  # the answer went through the personalizer
        self.length_known = False

    async def send(self, message: Message) -> None:
        if message["type"] == "http.response.start":
            self.start = message
            self.length_known = header_value(message.get("headers", []), b"content-length") is not None
            self.buffering = self._personalizable(message)
            if not self.buffering:
                await self._send_start(message)
            return
        if message["type"] != "http.response.body":
            await self.downstream(message)
            return
        if not self.buffering:
            if self.head:
                if not message.get("more_body", False):
                    await self.downstream({"type": "http.response.body", "body": b""})
                return
            await self.downstream(message)
            return
        body = message.get("body", b"")
        more = message.get("more_body", False)
        if more and not self.chunks and not self.length_known:
            # Streamed without a length: the app wants it to flow, so it passes through.
            self.chunks.append(body)
            await self._give_up(more, reason=None)
            return
        self.chunks.append(body)
        self.size += len(body)
        if self.size > self.mw.max_html_bytes:
            await self._give_up(more)
            return
        if not more:
            await self._finish(b"".join(self.chunks))

    def _personalizable(self, message: Message) -> bool:
        return not self.state.visitor.is_canonical and self._is_html_page(message)

    def _is_html_page(self, message: Message) -> bool:
        """A ``200 text/html`` answer to GET or HEAD, not encoded, within the size cap: one
        that a person gets personalized."""
        if not self.page or message["status"] != 200:
            return False
        headers = message.get("headers", [])
        content_type = header_value(headers, b"content-type") or ""
        if not content_type.lower().startswith("text/html"):
            return False
        if header_value(headers, b"content-encoding") or header_value(headers, b"content-range"):
            return False
        length = header_value(headers, b"content-length")
        return not (
            length and length.isascii() and length.isdigit() and int(length) > self.mw.max_html_bytes
        )

    async def _send_start(self, message: Message) -> None:
        headers = list(message.get("headers", []))
        if self.state.visitor.is_canonical and self._is_html_page(message):
            # A crawler's or prefetch's page lacks what people get (the consent banner, their
            # fragments); shared caches key on the URL alone, so they must not keep it.
            headers = shared_caches_excluded(headers)
        headers = self._with_cookies(headers, page=False)
        if self.state.visitor.recorded:
            await self.mw.persist(self.state.visitor)
        await self.downstream({**message, "headers": headers})

    def _with_cookies(
        self, headers: list[tuple[bytes, bytes]], *, page: bool
    ) -> list[tuple[bytes, bytes]]:
        """`headers` plus this answer's Set-Cookie headers, kept out of shared caches."""
        cookies = self.mw.cookie_headers(self.state.visitor, self.state.ruleset, page=page)
        return shared_caches_excluded(headers) + cookies if cookies else headers

    async def _give_up(
        self, more: bool, reason: str | None = "HTML answer larger than max_html_bytes"
    ) -> None:
        """Send what was held back unchanged and stream the rest (logging `reason`, if any)."""
        assert self.start is not None
        if reason:
            logger.warning("etalage: %s, passed through", reason)
        self.buffering = False
        await self._send_start(self.start)
        body = b"" if self.head else b"".join(self.chunks)
        await self.downstream({"type": "http.response.body", "body": body, "more_body": more})
        self.chunks = []

    async def _finish(self, body: bytes) -> None:
        assert self.start is not None
        result = self.mw.pages.personalize(self.state, self.start, body, self.started_at)
        self.page_answered = True
        headers = self._with_cookies(list(result.headers), page=True)
        await self.mw.persist(self.state.visitor)
        status = result.status
        out_body = b"" if self.head or status == 304 else result.body
        await self.downstream({"type": "http.response.start", "status": status, "headers": headers})
        await self.downstream({"type": "http.response.body", "body": out_body})
