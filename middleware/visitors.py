"""`VisitorLoader`: the `Visitor` of a request, from its cookies (and the profile store)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from functools import partial

from etalage.cookie import ConsentCodec, ProfileCodec
from etalage.middleware.asgi import Scope
from etalage.middleware.cookies import parse_cookie_header
from etalage.middleware.settings import Settings
from etalage.profile import Profile
from etalage.request_facts import RequestFacts
from etalage.rules import Ruleset
from etalage.store import ProfileStore, StoreUnavailable, VisitorIdCodec
from etalage.visitor import Visitor

#: Moves the moment a request is served at (``request_time(scope, now)``), e.g. the demo's
#: time travel; ``now`` comes from the middleware's clock.
RequestTime = Callable[[Scope, datetime], datetime]


class VisitorLoader:
    """Builds the request's visitor; bad or foreign cookies yield a fresh visitor, never an
    error."""

    def __init__(
        self,
        settings: Settings,
        *,
        clock: Callable[[], datetime],
        profile_codec: ProfileCodec,
        consent_codec: ConsentCodec,
        id_codec: VisitorIdCodec,
        store: ProfileStore | None,
        request_time: RequestTime | None = None,
    ) -> None:
        self.settings = settings
        self.clock = clock
        self.profile_codec = profile_codec
        self.consent_codec = consent_codec
        self.id_codec = id_codec
        self.store = store
        self.request_time = request_time

    async def load(self, scope: Scope, ruleset: Ruleset) -> Visitor:
        """The visitor of `scope`: consent, request facts and, with consent, their profile,
        read now (from the cookie, or from the profile store). Requests that most often need
        none of it take `on_demand` instead."""
        cookies = parse_cookie_header(scope.get("headers", []))
        visitor = self._visitor(scope, ruleset, cookies)
        if visitor.consent is not True or visitor.is_canonical:
            return visitor
        cookie = cookies.get(self.settings.cookie_name)
        if self.store is not None:
            await self._load_stored(visitor, cookie, ruleset)
        else:
            self._read_cookie(visitor, cookie, ruleset)
        return visitor

    def on_demand(self, scope: Scope, ruleset: Ruleset) -> Visitor | Callable[[], Visitor]:
        """For a request that is not a page navigation: a builder of its visitor, called only
        when something reads it, or the visitor at once when the answer may have to delete a
        profile cookie (one sent without a yes to personalization).

        Only without a profile store: a stored profile is read with an ``await``.
        """
        assert self.store is None, "a profile store is read with await: use load()"
        settings = self.settings
        cookies = parse_cookie_header(scope.get("headers", []))
        if settings.cookie_name in cookies:
            consent, _ = self.consent_codec.read(cookies.get(settings.consent_cookie_name))
            if consent is not True:
                return self._deferring(scope, ruleset, cookies)
        return partial(self._deferring, scope, ruleset, cookies)

    def _deferring(self, scope: Scope, ruleset: Ruleset, cookies: dict[str, str]) -> Visitor:
        """The visitor without a profile store, its profile read from the cookie only when
        something asks for it (`Visitor.personalization_allowed` reads it: recording an
        event, deciding, personalizing an HTML answer)."""
        visitor = self._visitor(scope, ruleset, cookies)
        if visitor.consent is True and not visitor.is_canonical:
            cookie = cookies.get(self.settings.cookie_name)
            visitor.deferred = partial(self._read_cookie, visitor, cookie, ruleset)
        return visitor

    def _visitor(self, scope: Scope, ruleset: Ruleset, cookies: dict[str, str]) -> Visitor:
        """The visitor's consent and request facts (no profile yet)."""
        now = self.clock()
        if self.request_time is not None:
            now = self.request_time(scope, now)
        settings = self.settings
        facts = RequestFacts.from_scope(
            scope, ruleset.site.timezone, now, trusted_edge=settings.trusted_edge
        )
        consent, consent_reissue = self.consent_codec.read(
            cookies.get(settings.consent_cookie_name)
        )
        return Visitor(
            facts=facts,
            now=now,
            consent=consent,
            had_profile_cookie=settings.cookie_name in cookies,
            consent_reissue=consent_reissue,
        )

    def _read_cookie(self, visitor: Visitor, cookie: str | None, ruleset: Ruleset) -> None:
        decoded = self.profile_codec.decode(cookie)
        if decoded.profile is None:
            visitor.profile = Profile.new(visitor.now)
            visitor.changed = True
        else:
            visitor.profile = decoded.profile
            visitor.changed = decoded.reissue
        visitor.holdout = ruleset.in_holdout(visitor.profile.id)

    async def _load_stored(self, visitor: Visitor, cookie: str | None, ruleset: Ruleset) -> None:
        """With a profile store: the signed id from the cookie, the profile from the store.

        When the store is down the visitor keeps their id, sees defaults, and nothing is saved
        over the stored profile (it is still there when the store is back).
        """
        assert self.store is not None
        visitor_id, reissue = self.id_codec.decode(cookie)
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

