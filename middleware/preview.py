"""Preview links: a signed, short-lived value that shows editors chosen rules (or the
canonical page) for one browser session.

A link carries ``?etalage_preview=<signed>``; the value names rule ids (each forced on its
slot, whatever its condition, schedule, caps, consent or holdout) or the canonical page, and
the moment it expires. Only a value signed with one of the middleware's keys under its own
salt is honoured; a forged, unreadable or expired one is ignored (the normal page) and logged.
A valid link sets a session cookie holding the same value, so following links keeps the
preview until it expires or ``?etalage_preview=off``. Preview answers are never cached,
indexed, recorded or counted.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from urllib.parse import parse_qsl

from etalage.middleware.asgi import Header, Scope
from etalage.middleware.cookies import delete_cookie, parse_cookie_header, set_cookie
from etalage.middleware.headers import targets_shared_caches
from etalage.rules import Decision, Rule, Ruleset, VariantsAction
from etalage.signed import SignedCodec, utc_now

logger = logging.getLogger("etalage")

PREVIEW_PARAM = "etalage_preview"
PREVIEW_OFF = "off"  # ``?etalage_preview=off`` ends the preview
PREVIEW_SALT = "etalage.preview"
DEFAULT_LIFETIME = timedelta(hours=1)
MAX_LIFETIME = timedelta(days=7)  # no link lives longer, whatever it says


# Validators and caching headers a preview answer must not carry (no cache, no 304).
_DROPPED = (b"cache-control", b"etag", b"last-modified", b"expires", b"x-robots-tag")


@dataclass(frozen=True)
class Preview:
    """What a preview forces: `rules` (ids, each shown on its slot) or the `canonical` page,
    until `expires`; `token` is the signed value that carries it."""

    rules: tuple[str, ...]
    canonical: bool
    expires: datetime
    token: str


class PreviewCodec:
    """Makes and reads preview values, signed with the newest of `secret_keys` under the
    preview salt; `loads` never raises (a bad value is None)."""

    def __init__(self, secret_keys: Sequence[str], *, clock: Callable[[], datetime] = utc_now):
        self._clock = clock
        self._codec = SignedCodec(
            secret_keys, salt=PREVIEW_SALT, max_age=MAX_LIFETIME, clock=clock
        )

    def dumps(
        self,
        *,
        rules: Sequence[str] = (),
        canonical: bool = False,
        lifetime: timedelta = DEFAULT_LIFETIME,
    ) -> str:
        """The signed value forcing `rules` (or the canonical page) for `lifetime` from now.

        Raises `ValueError` unless exactly one of `rules` and `canonical` is given and
        `lifetime` is positive and at most `MAX_LIFETIME`.
        """
        if bool(rules) == canonical:
            raise ValueError("give rule ids or canonical, not both nor neither")
        if not timedelta(0) < lifetime <= MAX_LIFETIME:
            raise ValueError(f"a preview lasts more than 0 and at most {MAX_LIFETIME}")
        expires = int((self._clock() + lifetime).timestamp())
        value: dict[str, object] = {"until": expires}
        if canonical:
            value["canonical"] = True
        else:
            value["rules"] = list(dict.fromkeys(rules))
        return self._codec.dumps(value)

    def loads(self, text: str | None) -> Preview | None:
        """The preview `text` holds, or None when it is absent, forged, expired or malformed."""
        verified = self._codec.loads(text)
        if verified is None or not isinstance(verified.value, dict):
            return None
        value = verified.value
        until = value.get("until")
        if not isinstance(until, int) or isinstance(until, bool):
            return None
        try:
            expires = datetime.fromtimestamp(until, self._clock().tzinfo)
        except (OverflowError, OSError, ValueError):
            return None
        if expires <= self._clock():
            return None
        rules = value.get("rules", [])
        canonical = value.get("canonical") is True
        if not isinstance(rules, list) or not all(isinstance(r, str) for r in rules):
            return None
        if bool(rules) == canonical:
            return None
        assert text is not None
        return Preview(tuple(rules), canonical, expires, text)


class PreviewSessions:
    """Reads a page request's preview from its link or its session cookie, and says which
    Set-Cookie header starts or ends the session."""

    def __init__(self, codec: PreviewCodec, *, cookie_name: str) -> None:
        self.codec = codec
        self.cookie_name = cookie_name
        self._unknown_logged: set[str] = set()

    def read(self, scope: Scope, *, secure: bool) -> tuple[Preview | None, list[Header]]:
        """The request's preview (None: a normal page) and the Set-Cookie headers to send.

        A valid link starts (or replaces) the session; a link that does not verify is ignored
        and logged; ``off`` ends the session; a session cookie that no longer verifies (it
        expired) is deleted.
        """
        param = _query_value(scope, PREVIEW_PARAM)
        cookie = parse_cookie_header(scope.get("headers", [])).get(self.cookie_name)
        if param == PREVIEW_OFF:
            return None, [self._deletion(secure)]
        if param is not None:
            preview = self.codec.loads(param)
            if preview is not None:
                value = set_cookie(self.cookie_name, preview.token, max_age=None, secure=secure)
                return preview, [(b"set-cookie", value)]
            logger.info("etalage: preview link ignored: not signed by this site, or expired")
        if cookie is None:
            return None, []
        preview = self.codec.loads(cookie)
        if preview is None:
            return None, [self._deletion(secure)]
        return preview, []

    def forced_rules(self, ruleset: Ruleset, preview: Preview) -> dict[str, ForcedRule]:
        """The rule each slot is forced to show (the first one named per slot), with the
        variant asked for (``hero-test:2``: the second; a variants rule named alone shows its
        first); ids the rule set does not know are left out (and logged once per id)."""
        forced: dict[str, ForcedRule] = {}
        for named in preview.rules:
            rule_id, variant = split_variant(named)
            rule = ruleset.rule(rule_id)
            count = len(rule.action.variants) if rule and isinstance(rule.action, VariantsAction) else 0
            if rule is None or (variant is not None and not 0 <= variant < count):
                if named not in self._unknown_logged:
                    self._unknown_logged.add(named)
                    what = "rule" if rule is None else "variant"
                    logger.info("etalage: preview names no %s %r, ignored", what, named)
                continue
            forced.setdefault(rule.slot, ForcedRule(rule, variant if count else None))
        return forced

    def _deletion(self, secure: bool) -> Header:
        return (b"set-cookie", delete_cookie(self.cookie_name, secure=secure))


@dataclass(frozen=True)
class ForcedRule:
    """A rule a preview shows on its slot, and for a `variants` rule which variant (from 0)."""

    rule: Rule
    variant: int | None = None


def split_variant(named: str) -> tuple[str, int | None]:
    """``"hero-test:2"`` → ``("hero-test", 1)``: a rule id and the 0-based variant asked for
    (1-based in links); ``"hero"`` → ``("hero", None)``; a suffix that is no number counts as
    part of the id (and so names no rule)."""
    rule_id, sep, number = named.rpartition(":")
    if sep and number.isascii() and number.isdigit() and 0 < len(number) < 4 and int(number):
        return rule_id, int(number) - 1
    return named, None


def forced_decisions(forced: dict[str, ForcedRule], slots: Iterable[str]) -> dict[str, Decision]:
    """Per slot, the forced rule or the slot's default content (a preview's decisions)."""
    decisions: dict[str, Decision] = {}
    for slot in dict.fromkeys(slots):
        chosen = forced.get(slot)
        if chosen is None:
            decisions[slot] = Decision(slot, None, "preview: default content")
            continue
        rule, variant = chosen.rule, chosen.variant
        reason = f"preview: rule '{rule.id}' forced"
        if isinstance(rule.action, VariantsAction):
            reason += f"; {rule.action.describe(variant or 0)}"
        shown = (variant or 0) if isinstance(rule.action, VariantsAction) else None
        decisions[slot] = Decision(slot, rule, reason, candidate=rule, variant=shown)
    return decisions


def preview_headers(headers: Iterable[Header]) -> list[Header]:
    """The headers of a preview answer: kept by no cache (``no-store, private``), without
    validators (so never answered with a 304) and not indexed (``X-Robots-Tag: noindex``)."""
    out = [
        (name, value)
        for name, value in headers
        if name.lower() not in _DROPPED and not targets_shared_caches(name.lower())
    ]
    out.append((b"cache-control", b"no-store, private"))
    out.append((b"x-robots-tag", b"noindex"))
    return out


def _query_value(scope: Scope, key: str) -> str | None:
    raw: str = scope.get("query_string", b"").decode("latin-1")
    if key not in raw:  # the common case: no parsing at all
        return None
    for name, value in parse_qsl(raw, keep_blank_values=True):
        if name == key:
            return value
    return None
