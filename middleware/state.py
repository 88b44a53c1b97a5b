"""`RequestState`: what ``scope["etalage"]`` holds for app code during one request."""

from __future__ import annotations

import math
from collections.abc import Callable, Collection, Iterable, Mapping
from typing import Any

from etalage.events import EventSink
from etalage.middleware.deciding import decide
from etalage.middleware.preview import ForcedRule, Preview, forced_decisions
from etalage.rules import Decision, Ruleset
from etalage.store import ProfileStore, StoreUnavailable
from etalage.visitor import Visitor


class RequestState:
    """The visitor of this request, the decisions taken for its page, and a recorder.

    App code reads it as ``request.scope["etalage"]``. For a request that is not a page
    navigation (an asset, a JSON call) the visitor is built the first time `visitor` is read:
    most such requests never need it. It serves the request it was made for (background tasks
    of that request included): once the answer is out, a visitor nobody read is gone.
    """

    def __init__(
        self,
        visitor: Visitor | Callable[[], Visitor],
        ruleset: Ruleset,
        *,
        event_sink: EventSink | None = None,
        store: ProfileStore | None = None,
        conversions: Collection[str] = frozenset(),
    ) -> None:
        self._visitor = visitor if isinstance(visitor, Visitor) else None
        self._build = None if isinstance(visitor, Visitor) else visitor
        self.ruleset = ruleset
        self.event_sink = event_sink
        self.store = store
        self.conversions = conversions
        #: What the rule set decided per slot of this page (set once the page was personalized).
        self.decisions: dict[str, Decision] = {}
        #: The attributes the rules saw on this page (set once the page was personalized).
        self.attributes: dict[str, Any] = {}
        #: An editor's preview link in force (nothing is recorded), and the rule it forces per
        #: slot.
        self.preview: Preview | None = None
        self.forced: dict[str, ForcedRule] = {}

    @property
    def visitor(self) -> Visitor:
        """The visitor of this request: consent, request facts and, with consent, the profile."""
        visitor = self._visitor
        if visitor is None:
            if self._build is None:
                raise RuntimeError("the request is over: its visitor was never needed")
            visitor = self._visitor = self._build()
            self._build = None
        return visitor

    def release(self) -> None:
        """Let go, once the answer is out, of what still refers back to the request: the
        builder of a visitor nobody read and a profile reader nobody called. Otherwise each
        request leaves a reference cycle for the garbage collector to find."""
        self._build = None
        if self._visitor is not None:
            self._visitor.deferred = None

    @property
    def visitor_built(self) -> bool:
        """Whether anything has needed the visitor yet (always, for a page navigation)."""
        return self._visitor is not None

    def decide(self, slots: Iterable[str]) -> dict[str, Decision]:
        """What the rule set in force decides for this visitor now on `slots` (as on a page
        showing them): the winning rule per slot, or the slot's default (under a preview,
        the rules it forces)."""
        if self.preview is not None:
            return forced_decisions(self.forced, slots)
        return decide(self.visitor, self.ruleset, slots)

    def record_event(self, type: str, data: Mapping[str, Any] | None = None) -> bool:
        """Record an event for this visitor (only with consent); returns whether it was kept.

        An event type configured as a conversion (``conversions=``; ``add_to_cart`` and
        ``purchase`` by default) also goes to the event sink, worth ``data["value"]`` or
        ``price`` × ``qty``. Raises `ValueError` when `data` is unusable for the event type.
        """
        payload = dict(data or {})
        if self.preview is not None:
            return False  # a preview is an editor's look, not the visitor's history
        if type == "dismiss":
            rule = self.ruleset.rule(str(payload.get("rule", "")))
            if rule is None or not rule.dismissible:
                raise ValueError(f"data.rule: no dismissible rule {payload.get('rule')!r}")
        recorded = self.visitor.record_event(self.ruleset.history, type, payload)
        if recorded and self.event_sink is not None and type in self.conversions:
            self.event_sink.emit(
                {
                    "type": "conversion",
                    "event": type,
                    "visitor": self.visitor.id,
                    "holdout": self.visitor.holdout,
                    "value": conversion_value(payload),
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
        this; a stated e-mail (``POST <prefix>preferences``) is only a contact preference.

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


def conversion_value(data: Mapping[str, Any]) -> float:
    """The money a conversion event is worth: ``value``, else ``price`` × ``qty`` (forms send text)."""
    try:
        if "value" in data:
            value = float(data["value"])
        else:
            value = float(data.get("price", 0)) * float(data.get("qty", 1))
    except (TypeError, ValueError):
        return 0.0
    return round(value, 2) if math.isfinite(value) else 0.0
