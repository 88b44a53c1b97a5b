"""`PagePersonalizer`: one HTML answer in, the visitor's page out (history, decisions, splice)."""

from __future__ import annotations

import dataclasses
import hashlib
import logging
import random
import time
from collections.abc import Callable, Mapping, MutableMapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from datetime import time as day_time
from functools import partial
from pathlib import Path
from typing import Any, NamedTuple

from markupsafe import Markup

from etalage.errors import FragmentError
from etalage.events import EventSink
from etalage.fragments import FragmentRenderer
from etalage.history import (
    record_decisions,
    record_exposure,
    record_request,
    record_search,
    record_view,
)
from etalage.middleware.asgi import Scope
from etalage.middleware.deciding import decide, visitor_attributes
from etalage.middleware.fragment_cache import FragmentCache
from etalage.middleware.headers import (
    canonical_headers,
    etag_matches,
    header_value,
    personalized_headers,
    variant_etag,
    vary_for,
)
from etalage.middleware.preview import forced_decisions
from etalage.middleware.skeleton import PageSkeleton, Slot
from etalage.middleware.skeleton_cache import SkeletonCache
from etalage.middleware.state import RequestState
from etalage.profile import MAX_MOMENT
from etalage.rules import (
    DEFAULT_REASON,
    Decision,
    FragmentAction,
    HideAction,
    ReorderAction,
    Ruleset,
)
from etalage.rules.fragment_check import fragment_problems
from etalage.visitor import Visitor

logger = logging.getLogger("etalage")
MAX_REMEMBERED_LOGS = 1024  # distinct failures and warnings logged once each

# A generator of our own, seeded from the system: app code seeding `random` cannot make two
# answers share an id.
_ANSWER_IDS = random.Random()


@dataclass(frozen=True)
class PageResult:
    """The answer to send: status, headers, body; `private` when the headers already keep it
    out of shared caches (a personalized answer's)."""

    status: int
    headers: list[tuple[bytes, bytes]]
    body: bytes
    private: bool = False


class RenderedFragment(NamedTuple):
    """A fragment's bytes and their digest, made once per render (the fragment cache keeps
    both, so an answer's ETag never hashes a reused fragment again)."""

    html: bytes
    digest: bytes


#: Bytes to insert before ``</body>`` of every HTML page a person gets (``page_footer(scope,
#: state)``): a site's debug bar, the demo's toolbar. They are part of the answer's ETag.
PageFooter = Callable[[Scope, RequestState], bytes]


class PagePersonalizer:
    """Turns an upstream HTML answer into the visitor's personalized answer."""

    def __init__(
        self,
        *,
        prefix: str,
        skeletons: SkeletonCache,
        fragment_cache: FragmentCache,
        event_sink: EventSink | None,
        fragment_globals: Mapping[str, Any],
        page_footer: PageFooter | None = None,
        reload_interval: float = 1.0,
        geo_headers: Sequence[str] = (),
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self.prefix = prefix
        self.skeletons = skeletons
        self.fragment_cache = fragment_cache
        self.event_sink = event_sink
        self.fragment_globals = dict(fragment_globals)
        self.page_footer = page_footer
        self.reload_interval = reload_interval
        self._monotonic = monotonic
        self.geo_headers = tuple(geo_headers)
        self._vary_of: tuple[Ruleset, tuple[str, ...]] | None = None
        self._folders: dict[Path, _FragmentFolder] = {}
        self._logged: set[tuple[str, str]] = set()

    def renderer(self, ruleset: Ruleset) -> FragmentRenderer:
        """The renderer of the rule set's fragments folder, made anew when a file in it
        changed (checked at most once per `reload_interval`), like the rule file."""
        folder = ruleset.site.fragments
        now = self._monotonic()
        known = self._folders.get(folder)
        if known is not None and now - known.checked_at < self.reload_interval:
            return known.renderer
        signature = _folder_signature(folder)
        if known is not None and known.signature == signature:
            known.checked_at = now
            return known.renderer
        renderer = FragmentRenderer(folder)
        renderer.env.globals.update(self.fragment_globals)
        if known is not None:
            self.fragment_cache.clear()
            problems = fragment_problems(ruleset)
            if problems:
                logger.error("etalage: fragments reloaded with problems: %s", "; ".join(problems))
            else:
                logger.info("etalage: fragments in %s reloaded", folder)
        self._folders[folder] = _FragmentFolder(renderer, signature, now)
        return renderer

    def personalize(
        self,
        scope: Scope,
        state: RequestState,
        start: MutableMapping[str, Any],
        body: bytes,
        started_at: float,
    ) -> PageResult:
        """Record the page view, decide every slot, splice fragments and fix the headers.

        Under a preview (`RequestState.preview`) the forced rules are shown, nothing is
        recorded and no 304 is answered.
        """
        visitor, ruleset = state.visitor, state.ruleset
        headers = scope.get("headers", [])
        preview = state.preview is not None
        if_none_match = None if preview else header_value(headers, b"if-none-match")
        upstream_headers = list(start.get("headers", []))
        skeleton = self.skeletons.compile(
            body,
            header_value(upstream_headers, b"etag"),
            ruleset.site.slot_selectors,
            page_key=scope["path"],  # a page rendered anew is recompiled from its last version
        )
        # A HEAD shows nobody anything, a preview shows an editor: nothing to remember.
        seen = scope["method"] == "GET" and not preview
        if visitor.personalization_allowed and seen:
            self._record_page(visitor, ruleset, skeleton)
        targeted = ruleset.slots
        slots = [name for name in skeleton.slot_names if name in targeted]
        if not slots and self.page_footer is None:
            return _apps_page(start["status"], upstream_headers, body, if_none_match)
        page_facts = dict(skeleton.facts)
        page_facts["path"] = visitor.facts.path
        attrs = visitor_attributes(visitor, ruleset, page_facts)
        state.attributes = attrs
        out = body
        replacements: dict[str, bytes] = {}
        digests: dict[str, bytes] = {}
        if slots:
            if preview:
                decisions = forced_decisions(state.forced, slots)
            else:
                decisions = decide(visitor, ruleset, slots, attrs)
            replacements, digests = self._replacements(
                visitor, ruleset, skeleton, decisions, attrs, page_facts
            )
            state.decisions = dict(decisions)
            if seen:
                self._record_decisions(visitor, decisions)
            if replacements:
                out = skeleton.render(replacements)
        footer = b""
        if self.page_footer is not None:
            footer = self.page_footer(scope, state)
            out = _insert_before_body_end(out, footer)
        if not replacements and not footer and not preview:
            # Every slot kept its default: the app's own page for this request keeps the app's
            # caching, varying on whatever could have made it another page.
            headers = canonical_headers(upstream_headers, self._vary(ruleset))
            return _apps_page(start["status"], headers, body, if_none_match)
        etag = variant_etag(skeleton.digest, digests, footer)
        duration = (time.perf_counter() - started_at) * 1000
        headers = personalized_headers(
            upstream_headers, body_length=len(out), etag=etag, duration_ms=duration
        )
        if etag_matches(if_none_match, etag):
            return PageResult(304, [h for h in headers if h[0] != b"content-length"], b"", True)
        return PageResult(start["status"], headers, out, True)

    def _vary(self, ruleset: Ruleset) -> tuple[str, ...]:
        """The request headers a page of `ruleset` depends on (`vary_for`), per rule set."""
        known = self._vary_of
        if known is None or known[0] is not ruleset:
            known = self._vary_of = (ruleset, vary_for(ruleset.tested_attributes, self.geo_headers))
        return known[1]

    def _record_page(self, visitor: Visitor, ruleset: Ruleset, skeleton: PageSkeleton) -> None:
        profile = visitor.profile
        assert profile is not None
        policy = ruleset.history
        now = visitor.now
        facts = visitor.facts
        record_request(
            profile,
            policy,
            now,
            entry=facts.path,
            referrer=facts.external_referrer,
            utm_source=facts.query.get("utm_source"),
        )
        valid_until = _epoch_end_of_day(skeleton.facts.get("valid_until"), ruleset, now)
        record_view(
            profile,
            policy,
            now,
            visitor.facts.path,
            topic=skeleton.facts.get("topic") or None,
            valid_until=valid_until,
        )
        term = visitor.facts.query.get(ruleset.site.search_param, "").strip()
        if term:
            date_param = ruleset.site.search_date_param
            raw_date = visitor.facts.query.get(date_param) if date_param else None
            record_search(
                profile,
                policy,
                now,
                term,
                valid_until=_epoch_end_of_day(raw_date, ruleset, now),
            )
        visitor.changed = True

    def _replacements(
        self,
        visitor: Visitor,
        ruleset: Ruleset,
        skeleton: PageSkeleton,
        decisions: dict[str, Decision],
        attrs: dict[str, Any],
        page_facts: dict[str, str],
    ) -> tuple[dict[str, bytes], dict[str, bytes]]:
        """Bytes per slot to splice, and a digest of each (for the answer's ETag: a fragment's
        is made once, when it is rendered); a ``take: N`` slot gets the fragments of its
        placements one after the other. A placement whose fragment failed is dropped from its
        decision (in place; the first turned into "default"), so exposures say what was shown,
        and a slot left with nothing to show is left out of the result."""
        replacements: dict[str, bytes] = {}
        digests: dict[str, bytes] = {}
        slots = {slot.name: slot for slot in reversed(skeleton.slots)}
        view = dict(attrs)
        view["name"] = attrs.get("prefs.name")
        view["consent"] = visitor.personalization_allowed
        page_key = tuple(sorted(page_facts.items()))
        renderer = self.renderer(ruleset)
        for name, decision in list(decisions.items()):
            if decision.rule is None and not decision.more:
                continue
            slot = slots[name]
            action = decision.action  # a drawn variant's fragment for a `variants` rule
            if isinstance(action, HideAction):
                replacements[name] = b""
                digests[name] = b""
                continue
            if isinstance(action, ReorderAction):
                replacements[name] = digests[name] = slot.reordered(action.order(attrs))
                continue
            pieces: list[RenderedFragment] = []
            failed: set[int] = set()
            for index, placed in enumerate(decision.placements):
                fragment = placed.action
                if placed.rule is None or not isinstance(fragment, FragmentAction):
                    continue
                html = self._fragment(renderer, slot, placed, fragment, view, page_facts, page_key)
                if html is None:
                    failed.add(index)
                else:
                    pieces.append(html)
            if failed:
                decisions[name] = _without(decision, failed)
            if len(pieces) == 1:
                replacements[name], digests[name] = pieces[0]
            elif pieces:
                replacements[name] = b"".join(piece.html for piece in pieces)
                digests[name] = b"".join(piece.digest for piece in pieces)
        return replacements, digests

    def _fragment(
        self,
        renderer: FragmentRenderer,
        slot: Slot,
        decision: Decision,
        action: FragmentAction,
        view: dict[str, Any],
        page_facts: dict[str, str],
        page_key: tuple[tuple[str, str], ...],
    ) -> RenderedFragment | None:
        """One placement's fragment, rendered (or reused); None when it failed (logged once)."""
        rule = decision.rule
        assert rule is not None
        # Everything but `visitor` that the fragment's context is made of.
        fixed = (
            renderer.folder_key,
            action.template,
            rule.id,
            slot.name,
            decision.reason,
            slot.default_text,
            page_key,
        )
        render = partial(
            _render_fragment, renderer, action.template, self.prefix, page_facts, decision, slot
        )
        try:
            return self.fragment_cache.render(fixed, view, render)
        except FragmentError as exc:
            self._log_once(rule.id, str(exc))
            return None

    def _record_decisions(self, visitor: Visitor, decisions: Mapping[str, Decision]) -> None:
        profile = visitor.profile
        if profile is not None:
            for decision in decisions.values():
                for placed in decision.placements:
                    if placed.rule is not None:
                        record_exposure(profile, placed.rule.id)
        sink = self.event_sink
        if sink is not None and visitor.personalization_allowed:
            self._emit_exposures(sink, visitor, decisions)
        if profile is not None:
            record_decisions(profile, visitor.now, visitor.facts.path, _reasons(decisions))
            visitor.changed = True

    @staticmethod
    def _emit_exposures(
        sink: EventSink, visitor: Visitor, decisions: Mapping[str, Decision]
    ) -> None:
        """One exposure event per placement of this answer, to the event sink."""
        # Groups one answer's exposures; not a secret, so no system entropy call per request.
        answer = f"{_ANSWER_IDS.getrandbits(48):012x}"
        at = visitor.now.isoformat()
        exposures = []
        for decision in decisions.values():
            for placed in decision.placements:
                chosen = placed.rule or placed.candidate
                exposures.append(
                    {
                        "type": "exposure",
                        "visitor": visitor.id,
                        "rule": chosen.id if chosen else None,
                        "slot": placed.slot,
                        "holdout": placed.holdout,
                        "holdout_kind": placed.holdout_kind,
                        "variant": placed.variant,
                        "bucket_version": chosen.bucket_version if chosen else None,
                        "page": visitor.facts.path,
                        "answer": answer,
                        "at": at,
                    }
                )
        if not exposures:
            return
        emit_many = getattr(sink, "emit_many", None)
        if emit_many is not None:
            emit_many(exposures)
        else:  # a sink of the user's own with only `emit`
            for exposure in exposures:
                sink.emit(exposure)

    def _log_once(self, rule_id: str, message: str) -> None:
        if self._first_time(rule_id, message):
            logger.error("fragment of rule '%s' failed, slot default served: %s", rule_id, message)

    def warn_once(self, key: str, message: str) -> None:
        """Log `message` as a warning the first time `key` comes up (per middleware)."""
        if self._first_time("", key):
            logger.warning("etalage: %s", message)

    def _first_time(self, rule_id: str, message: str) -> bool:
        """Whether this is news to log. A failure's message may hold what a visitor sent (a
        search term a fragment choked on): at most `MAX_REMEMBERED_LOGS` are remembered."""
        key = (rule_id, message)
        if key in self._logged:
            return False
        if len(self._logged) >= MAX_REMEMBERED_LOGS:
            self._logged.clear()
        self._logged.add(key)
        return True


def _without(decision: Decision, failed: set[int]) -> Decision:
    """`decision` without the placements (by index) whose fragment failed: the visitor saw the
    default in their place."""
    more = tuple(p for i, p in enumerate(decision.more, start=1) if i not in failed)
    if 0 not in failed:
        return dataclasses.replace(decision, more=more)
    return dataclasses.replace(
        decision, rule=None, candidate=None, reason="default content (fragment failed)", more=more
    )


def _reasons(decisions: Mapping[str, Decision]) -> dict[str, tuple[str | None, str | None]]:
    """Rule and reason per slot, as the visitor's page shows them; the further placements of a
    ``take: N`` slot as ``<slot>#2`` to ``<slot>#N`` (``#`` is never in a slot name).

    A reason the rule file says again (the rule's own, or no rule matched) is kept as None, so
    the cookie carries only what the visitor's page could not rebuild (a variant, a holdout).
    """
    reasons: dict[str, tuple[str | None, str | None]] = {}
    for slot, decision in decisions.items():
        for index, placed in enumerate(decision.placements, start=1):
            key = slot if index == 1 else f"{slot}#{index}"
            rule = placed.rule
            reason: str | None = placed.reason
            if rule is not None and reason == rule.describe():
                reason = None
            elif rule is None and placed.candidate is None and reason == DEFAULT_REASON:
                reason = None
            reasons[key] = (rule.id if rule else None, reason)
    return reasons


def _render_fragment(
    renderer: FragmentRenderer,
    template: str,
    prefix: str,
    page_facts: dict[str, str],
    decision: Decision,
    slot: Slot,
    visitor_view: Mapping[str, Any],
) -> RenderedFragment:
    """Render one fragment (only on a fragment cache miss: its context is built here)."""
    assert decision.rule is not None
    rule_id = decision.rule.id
    context = {
        "page": page_facts,
        "rule": {"id": rule_id, "slot": slot.name, "reason": decision.reason},
        "why_url": f"{prefix}profile#rule-{rule_id}",
        "default": Markup(slot.default_text),
        "visitor": visitor_view,
    }
    html = renderer.render(template, context).encode("utf-8")
    return RenderedFragment(html, hashlib.blake2b(html, digest_size=16).digest())


def _epoch_end_of_day(raw: str | None, ruleset: Ruleset, now: datetime) -> int | None:
    """The end of an ISO date (in the site's zone) as epoch seconds; None when unusable."""
    if not raw:
        return None
    try:
        day = datetime.fromisoformat(raw[:32])
    except ValueError:
        return None
    end = datetime.combine(day.date(), day_time(23, 59, 59), tzinfo=ruleset.site.timezone)
    # Kept within the moments a profile holds: a day before 1970 is long past, and one at the
    # end of year 9999 may end after it in a zone west of UTC.
    return min(max(int(end.timestamp()), 0), MAX_MOMENT)


@dataclass
class _FragmentFolder:
    renderer: FragmentRenderer
    signature: frozenset[tuple[str, int, int]]
    checked_at: float


def _folder_signature(folder: Path) -> frozenset[tuple[str, int, int]]:
    """Every file under `folder` with its modification time and size (one stat each)."""
    files = set()
    for path in folder.rglob("*"):
        try:
            stat = path.stat()
        except OSError:  # removed while walking: the next check sees it gone
            continue
        if path.is_file():
            files.add((str(path), stat.st_mtime_ns, stat.st_size))
    return frozenset(files)


def _insert_before_body_end(html: bytes, snippet: bytes) -> bytes:
    """Insert `snippet` before the last ``</body>`` (or append it when there is none)."""
    index = html.lower().rfind(b"</body>")
    if index < 0:
        return html + snippet
    return html[:index] + snippet + html[index:]


def _apps_page(
    status: int, headers: list[tuple[bytes, bytes]], body: bytes, if_none_match: str | None
) -> PageResult:
    """The app's own page, under the app's own validators (a page request reaches the app
    without its conditional headers, so the 304 is answered here)."""
    upstream_etag = header_value(headers, b"etag")
    if upstream_etag and etag_matches(if_none_match, upstream_etag):
        kept = [h for h in headers if h[0].lower() != b"content-length"]
        return PageResult(304, kept, b"")
    return PageResult(status, headers, body)
