"""`EtalageMiddleware`: the pure-ASGI middleware that personalizes HTML answers.

It composes small parts, each given what it needs: `Settings`; a `VisitorLoader` (cookies and
profile store → `Visitor`); a `PagePersonalizer` (page in, the visitor's page out); a
`ProfileWriter` (Set-Cookie headers, the stored profile); `Endpoints` (the visitor's own
URLs under the prefix); and per request a `Responder` around the app's `send`.
"""

from __future__ import annotations

import atexit
from collections.abc import Callable, Collection, Mapping, Sequence
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from etalage.cookie import ConsentCodec, ProfileCodec
from etalage.errors import ConfigError
from etalage.events import EventSink, make_sink
from etalage.middleware.asgi import ASGIApp, Header, Receive, Scope, Send
from etalage.middleware.endpoints import Endpoints
from etalage.middleware.fragment_cache import FragmentCache
from etalage.middleware.origin import normalized_origins
from etalage.middleware.personalize import PageFooter, PagePersonalizer
from etalage.middleware.preview import PreviewCodec, PreviewSessions
from etalage.middleware.responder import Responder
from etalage.middleware.settings import DEFAULT_CONVERSIONS, Settings, stylesheet_urls
from etalage.middleware.skeleton_cache import SkeletonCache
from etalage.middleware.state import RequestState
from etalage.middleware.visitors import RequestTime, VisitorLoader
from etalage.middleware.writing import ProfileWriter
from etalage.request_facts import EDGE_GEO_HEADERS
from etalage.rules import ReloadingRuleset, Ruleset
from etalage.rules.fragment_check import fragment_problems
from etalage.signed import utc_now
from etalage.store import ProfileStore, RedisProfileStore, VisitorIdCodec
from etalage.visitor import Visitor

_CONDITIONALS = (b"if-none-match", b"if-modified-since")


class EtalageMiddleware:
    """Personalize ``200 text/html`` answers of any ASGI app; pass everything else through.

    Mount it as ``app.add_middleware(EtalageMiddleware, rules="site/rules.yaml",
    secret_keys=[...])``. Keep it *inside* any compression middleware (add GZipMiddleware after
    it, so that GZip wraps it): compressed answers are passed through unpersonalized.

    Hooks for a site of its own (the demo shop uses them): `request_time` moves the moment a
    request is served at (``request_time(scope, now) -> datetime``); `page_footer` returns
    bytes to put before ``</body>`` of every page a person gets (``page_footer(scope,
    state)``); `preference_choices` declares the stated preferences chosen from a list
    (``{"channel": ["email", "phone"]}``); `conversions` the event types measured as
    conversions; `forget_cookies` the site's cookies "forget me" deletes too;
    `allowed_origins` the origins (``https://shop.example``) whose forms may post to the
    endpoints besides the request's own (behind a proxy that rewrites ``Host``);
    `trusted_edge` the CDN (``"cloudflare"``, ``"cloudfront"``, ``"fastly"``, ``"vercel"``)
    whose geolocation headers become ``request.country`` and ``request.region``;
    `profile_stylesheet` one URL or a list of stylesheet URLs the visitor's page
    (``<prefix>profile``) links after its built-in style, so it wears the site's own look.
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
        event_sink: EventSink | str | Path | None = None,
        reload_interval: float = 1.0,
        profile_store: ProfileStore | str | None = None,
        preference_choices: Mapping[str, Sequence[str]] | None = None,
        conversions: Collection[str] | None = None,
        forget_cookies: Sequence[str] = (),
        allowed_origins: Sequence[str] = (),
        trusted_edge: str | None = None,
        profile_stylesheet: str | Sequence[str] | None = None,
        request_time: RequestTime | None = None,
        page_footer: PageFooter | None = None,
    ) -> None:
        self.app = app
        if isinstance(secret_keys, str):
            secret_keys = [k for k in secret_keys.split(",") if k]
        if not secret_keys or not all(isinstance(k, str) and k for k in secret_keys):
            raise ConfigError("secret_keys: give at least one non-empty secret key")
        keys = list(secret_keys)
        settings = Settings(
            prefix=prefix,
            cookie_name=cookie_name,
            consent_cookie_name=consent_cookie_name,
            max_age=max_age,
            max_html_bytes=max_html_bytes,
            preference_choices={
                key: tuple(choices) for key, choices in (preference_choices or {}).items()
            },
            conversions=DEFAULT_CONVERSIONS if conversions is None else frozenset(conversions),
            forget_cookies=tuple(forget_cookies),
            allowed_origins=normalized_origins(allowed_origins),
            trusted_edge=trusted_edge,
            profile_stylesheets=stylesheet_urls(profile_stylesheet),
        )
        self.settings = settings
        if isinstance(rules, str | Path):
            rules = ReloadingRuleset(rules, interval=reload_interval)
        self._rules = rules
        self.event_sink = make_sink(event_sink)
        if self.event_sink is not None:
            atexit.register(self.event_sink.close)
        if isinstance(profile_store, str):
            profile_store = RedisProfileStore(profile_store, ttl=max_age)
        self.store = profile_store
        # Cookies are dated by the middleware's clock itself, never by a request_time moment
        # (the demo's time travel would date them in the future).
        clock = clock or utc_now
        profile_codec = ProfileCodec(keys, max_age=max_age, clock=clock)
        consent_codec = ConsentCodec(keys, clock=clock)
        id_codec = VisitorIdCodec(keys, max_age=max_age, clock=clock)
        self.visitors = VisitorLoader(
            settings,
            clock=clock,
            profile_codec=profile_codec,
            consent_codec=consent_codec,
            id_codec=id_codec,
            store=profile_store,
            request_time=request_time,
        )
        self.writer = ProfileWriter(
            settings,
            profile_codec=profile_codec,
            consent_codec=consent_codec,
            id_codec=id_codec,
            store=profile_store,
        )
        self.pages = PagePersonalizer(
            prefix=prefix,
            skeletons=SkeletonCache(skeleton_cache_size),
            fragment_cache=FragmentCache(fragment_cache_size),
            event_sink=self.event_sink,
            fragment_globals=fragment_globals or {},
            page_footer=page_footer,
            reload_interval=reload_interval,
            geo_headers=[
                name.decode("latin-1") for name in EDGE_GEO_HEADERS.get(trusted_edge or "", ())
            ],
        )
        problems = fragment_problems(self.ruleset)
        if problems:
            raise ConfigError("fragments: " + "; ".join(problems))
        self.endpoints = Endpoints(settings, self.writer)
        self.previews = PreviewSessions(
            PreviewCodec(keys, clock=clock), cookie_name=f"{cookie_name}_preview"
        )

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
        method = scope["method"]
        own = scope["path"].startswith(self.settings.prefix)
        page_request = _is_page_request(scope)
        navigation = method not in ("GET", "HEAD") or page_request
        visitor: Visitor | Callable[[], Visitor]
        if own or navigation or self.store is not None:
            visitor = await self.visitors.load(scope, ruleset)
        else:  # an asset or a JSON call: most need nothing of the visitor
            visitor = self.visitors.on_demand(scope, ruleset)
        state = RequestState(
            visitor,
            ruleset,
            event_sink=self.event_sink,
            store=self.store,
            conversions=self.settings.conversions,
        )
        scope["etalage"] = state
        if own:
            await self.endpoints.handle(scope, receive, send, state)
            return
        # A person's page: bots and prefetches keep the canonical page.
        persons_page = (
            method in ("GET", "HEAD") and page_request and not state.visitor.is_canonical
        )
        preview_cookies: list[Header] = []
        if persons_page:
            # A preview is for an editor's browser.
            state.preview, preview_cookies = self.previews.read(
                scope, secure=state.visitor.facts.is_https
            )
            if state.preview is not None:
                state.forced = self.previews.forced_rules(ruleset, state.preview)
        app_scope = scope
        if method == "HEAD":
            # The personalized length is known only from the body: ask upstream for it.
            app_scope = dict(scope, method="GET")
        if persons_page:
            # The app's validators describe its page, not this visitor's: answering a
            # conditional request is the middleware's job (variant ETags), or an upstream 304
            # would keep a browser on a page personalized for an earlier visit.
            app_scope = dict(app_scope, headers=_without_conditionals(scope["headers"]))
        responder = Responder(
            scope,
            state,
            send,
            settings=self.settings,
            pages=self.pages,
            writer=self.writer,
            preview_cookies=preview_cookies,
        )
        try:
            await self.app(app_scope, receive, responder.send)
            if state.preview is not None:
                return  # a preview records nothing
            if responder.page_answered or (state.visitor_built and state.visitor.recorded):
                await self.writer.persist(state.visitor)  # events recorded after the answer
        finally:
            state.release()

    def _closing_on_shutdown(self, send: Send) -> Send:
        """Flush the event sink and close the store when the server shuts down."""

        async def wrapped(message: Any) -> None:
            if message["type"] == "lifespan.shutdown.complete":
                if self.event_sink is not None:
                    self.event_sink.close()
                if self.store is not None:
                    await self.store.close()
            await send(message)

        return wrapped


def _is_page_request(scope: Scope) -> bool:
    """A browser navigation: it accepts HTML (assets ask for images, CSS, scripts)."""
    accept = dest = None
    for name, value in scope.get("headers", ()):
        name = name.lower()
        if name == b"accept" and accept is None:
            accept = value
        elif name == b"sec-fetch-dest" and dest is None:
            dest = value
    return (accept is not None and b"text/html" in accept.lower()) or dest in _NAVIGATIONS


_NAVIGATIONS = (b"document", b"iframe", b"frame")


def _without_conditionals(headers: Sequence[Header]) -> list[Header]:
    return [(name, value) for name, value in headers if name.lower() not in _CONDITIONALS]
