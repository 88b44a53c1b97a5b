"""`Visitor`: one request's view of the person behind it: consent, stored profile, request facts."""

from __future__ import annotations

from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass
from datetime import datetime, tzinfo
from typing import Any

from etalage.history import record_event
from etalage.profile import Profile
from etalage.recency import HistoryPolicy, derive_attributes
from etalage.request_facts import RequestFacts


@dataclass
class Visitor:
    """The visitor of one request.

    `consent` is the explicit choice (None: not asked yet); `profile` exists only with consent.
    `changed` tells whether the profile must be written back (re-issued cookie or store save).
    """

    facts: RequestFacts
    now: datetime
    consent: bool | None
    profile: Profile | None = None
    changed: bool = False
    holdout: bool = False
    had_profile_cookie: bool = False
    stored_id: str | None = None  # profile store mode: the id the cookie carried
    id_reissue: bool = False  # ... signed with an older key
    store_failed: bool = False  # the store did not answer: serve defaults, save nothing
    consent_reissue: bool = False  # the consent cookie was signed with an older key
    recorded: bool = False  # app code or an endpoint recorded an event during this request
    #: Reads the profile from its cookie when first needed: set for requests that are not
    #: page navigations (assets, JSON), which most often need nothing of it.
    deferred: Callable[[], None] | None = None

    def ensure_profile(self) -> None:
        """Read a deferred profile now (see `deferred`)."""
        if self.deferred is not None:
            load, self.deferred = self.deferred, None
            load()

    @property
    def personalization_allowed(self) -> bool:
        """True only with explicit consent (GPC or no answer count as no); reads a deferred
        profile, so that `profile` is there when this is True."""
        if self.consent is not True:
            return False
        self.ensure_profile()
        return self.profile is not None

    @property
    def is_canonical(self) -> bool:
        """Bots and prefetches get the canonical page: no history, no cookie."""
        return self.facts.is_bot or self.facts.is_prefetch

    @property
    def id(self) -> str | None:
        """The visitor's pseudonymous id, when a profile is kept."""
        self.ensure_profile()
        return self.profile.id if self.profile else None

    def consent_attributes(self) -> dict[str, Any]:
        """The ``consent.*`` attributes (the consent choice itself is strictly necessary data)."""
        attrs: dict[str, Any] = {"consent.gpc": self.facts.gpc}
        if self.consent is not None:
            attrs["consent.personalization"] = self.consent
        elif self.facts.gpc:
            attrs["consent.personalization"] = False
        return attrs

    def attributes(
        self,
        policy: HistoryPolicy,
        timezone: tzinfo,
        page_facts: Mapping[str, str] | None = None,
        *,
        counts: Collection[str] | None = None,
    ) -> dict[str, Any]:
        """Every attribute rules can test for this visitor on this page (flat dotted keys):
        the request's, and with consent those derived from the profile under `policy`, with
        days counted in `timezone`. `counts`: the window count attributes to derive (what the
        rules read; None: every counted thing over the standard windows)."""
        attrs = self.facts.contextual_attributes()
        if self.personalization_allowed and self.profile is not None:
            attrs.update(
                derive_attributes(self.profile, policy, self.now, timezone=timezone, counts=counts)
            )
            attrs["id"] = self.profile.id
        attrs.update(self.consent_attributes())
        attrs["experiment.holdout"] = self.holdout
        if page_facts:
            for key, value in page_facts.items():
                attrs["page." + key] = value
        return attrs

    def record_event(self, policy: HistoryPolicy, type: str, data: dict[str, Any]) -> bool:
        """Record an event into the profile (only with consent); returns whether it was kept."""
        if not self.personalization_allowed or self.profile is None or self.is_canonical:
            return False
        record_event(self.profile, policy, self.now, type, data)
        self.changed = True
        self.recorded = True
        return True
