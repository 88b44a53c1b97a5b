"""`ProfileWriter`: what an answer writes back: Set-Cookie headers and the stored profile."""

from __future__ import annotations

import logging

from etalage.cookie import ConsentCodec, ProfileCodec
from etalage.middleware.asgi import Header
from etalage.middleware.cookies import delete_cookie, set_cookie
from etalage.middleware.settings import CONSENT_MAX_AGE, Settings
from etalage.rules import Ruleset
from etalage.store import ProfileStore, StoreUnavailable, VisitorIdCodec
from etalage.visitor import Visitor

logger = logging.getLogger("etalage")



class ProfileWriter:
    """Writes a visitor's changes: the profile (or its signed id) and consent cookies, and
    the stored profile when a profile store is used."""

    def __init__(
        self,
        settings: Settings,
        *,
        profile_codec: ProfileCodec,
        consent_codec: ConsentCodec,
        id_codec: VisitorIdCodec,
        store: ProfileStore | None,
    ) -> None:
        self.settings = settings
        self.profile_codec = profile_codec
        self.consent_codec = consent_codec
        self.id_codec = id_codec
        self.store = store
        self._max_age = int(settings.max_age.total_seconds())

    def cookie_headers(self, visitor: Visitor, ruleset: Ruleset, *, page: bool) -> list[Header]:
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
            if visitor.deferred is not None:  # never read: the cookie stays as it is
                return []
            if visitor.had_profile_cookie and not visitor.personalization_allowed:
                return [self.deletion(self.settings.cookie_name, secure=secure)]
            return []
        headers: list[Header] = []
        if visitor.consent_reissue and visitor.consent is not None:
            headers.append(self.consent_cookie(visitor.consent, secure=secure))
            visitor.consent_reissue = False
        return headers + self._profile_cookie(visitor, ruleset, secure)

    def consent_cookie(self, granted: bool, *, secure: bool) -> Header:
        """The Set-Cookie header recording the visitor's consent choice."""
        value = self.consent_codec.encode(granted)
        max_age = int(CONSENT_MAX_AGE.total_seconds())
        name = self.settings.consent_cookie_name
        return (b"set-cookie", set_cookie(name, value, max_age=max_age, secure=secure))

    @staticmethod
    def deletion(name: str, *, secure: bool) -> Header:
        """The Set-Cookie header that removes cookie `name`."""
        return (b"set-cookie", delete_cookie(name, secure=secure))

    def _profile_cookie(self, visitor: Visitor, ruleset: Ruleset, secure: bool) -> list[Header]:
        profile = visitor.profile
        name = self.settings.cookie_name
        if not visitor.personalization_allowed or profile is None:
            return [self.deletion(name, secure=secure)] if visitor.had_profile_cookie else []
        if self.store is not None:
            if profile.id == visitor.stored_id and not visitor.id_reissue:
                return []
            value = self.id_codec.encode(profile.id)
        elif visitor.changed:
            value = self.profile_codec.encode(profile, ruleset.history, visitor.now)
        else:
            return []
        return [(b"set-cookie", set_cookie(name, value, max_age=self._max_age, secure=secure))]

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

    async def delete_stored(self, visitor: Visitor) -> None:
        """No means no: remove the server-side profile too (when a profile store is used)."""
        if self.store is None or visitor.profile is None:
            return
        try:
            await self.store.delete(visitor.profile.id)
        except StoreUnavailable:
            logger.error(
                "etalage: profile %s will be deleted when the store answers again",
                visitor.profile.id,
            )
