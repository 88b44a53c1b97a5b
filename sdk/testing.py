"""Test helpers for a site that uses etalage: a visitor with a known history, time and group.

A personalized page depends on three things a test must pin: the moment (give the middleware a
clock, ``EtalageMiddleware(clock=ManualClock())``), the visitor's history (`profile_with`,
sealed into cookies by `profile_cookies`) and the holdout draw, which hashes the visitor id
(`visitor_id` finds an id the rule set puts in, or keeps out of, its holdout).
`EtalageClient` puts them together: a Starlette ``TestClient`` that browses as a person
(an empty or ``python-httpx`` User-Agent is a bot, and bots get the canonical page) and starts
as a consenting visitor with a given profile. The pytest plugin `etalage.pytest_plugin` offers
them as fixtures.

The cookies are those of the default cookie mode; with a profile store the cookie holds a
signed visitor id and the profile lives in the store.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from datetime import UTC, datetime, timedelta
from functools import partial
from pathlib import Path
from typing import Any

from starlette.testclient import TestClient
from starlette.types import ASGIApp

from etalage.cookie import ConsentCodec, ProfileCodec
from etalage.history import record_event, record_request, record_search, record_view
from etalage.middleware import EtalageMiddleware
from etalage.profile import Profile
from etalage.recency import HistoryPolicy, parse_duration
from etalage.rules import Ruleset, load_ruleset

__all__ = [
    "BROWSER_USER_AGENT",
    "START",
    "Age",
    "EtalageClient",
    "ManualClock",
    "profile_cookies",
    "profile_with",
    "visitor_id",
]

#: A desktop Chrome on Linux: a person's browser as the middleware classifies it.
BROWSER_USER_AGENT = (
    "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/126.0 Safari/537.36"
)

#: Where a `ManualClock` starts by default: Tuesday 1 December 2026, 09:00 UTC.
START = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)

#: How long ago something happened: a `timedelta` or a duration such as ``"2d"`` or ``"3h"``.
Age = timedelta | str

_ID_PREFIX = "test-visitor-"
_MAX_ID_TRIES = 1_000_000  # a share of 1e-5 needs ~1e5 tries; below that, ask for another seed


class ManualClock:
    """A clock that stands still until a test moves it: returns ``.now``.

    Give the same one to ``EtalageMiddleware(clock=...)`` and to the helpers here; move it by
    assigning ``.now`` or with `advance`. `now` must be timezone-aware.
    """

    def __init__(self, now: datetime = START) -> None:
        self.now = _aware(now)

    def __call__(self) -> datetime:
        return self.now

    def advance(self, by: Age) -> datetime:
        """Move the clock forward by `by` (``"15d"`` or a `timedelta`); return the new time."""
        self.now += _age(by)
        return self.now

    def __repr__(self) -> str:
        return f"ManualClock({self.now.isoformat()})"


def visitor_id(ruleset: Ruleset, *, holdout: bool) -> str:
    """A visitor id that `ruleset` puts in its holdout (``holdout=True``) or keeps out of it.

    The same rule set (holdout share and site name, the hash seed) always gives the same id:
    the first of ``test-visitor-0000``, ``test-visitor-0001``, ... in the wanted group.
    Raises `ValueError` when no id can be there (a holdout of 0 holds nobody, one of 1
    everybody).
    """
    if holdout and ruleset.holdout <= 0:
        raise ValueError(
            "this rule set has no holdout (holdout: 0): no visitor can be in it; "
            "set `holdout:` in the rule file or ask for holdout=False"
        )
    if not holdout and ruleset.holdout >= 1:
        raise ValueError("this rule set holds out every consenting visitor (holdout: 1)")
    for n in range(_MAX_ID_TRIES):
        candidate = f"{_ID_PREFIX}{n:04d}"
        if ruleset.in_holdout(candidate) is holdout:
            return candidate
    raise ValueError(
        f"no visitor id {'in' if holdout else 'out of'} a holdout of {ruleset.holdout} "
        f"among {_MAX_ID_TRIES} tries"
    )


def profile_with(
    now: datetime,
    *,
    policy: HistoryPolicy | None = None,
    visitor_id: str | None = None,
    searches: Iterable[tuple[str, Age] | tuple[str, Age, datetime]] = (),
    views: Iterable[tuple[str, Age] | tuple[str, Age, str]] = (),
    events: Iterable[tuple[str, Age] | tuple[str, Age, Mapping[str, Any]]] = (),
    interests: Mapping[str, float] | None = None,
    prefs: Mapping[str, Any] | None = None,
) -> Profile:
    """A profile with this history at `now`, recorded as the middleware records it.

    Each entry says how long before `now` it happened (``("tent", "2d")``: searched for
    "tent" two days ago): ``searches`` as ``(term, age)`` or ``(term, age, valid_until)``,
    ``views`` as ``(path, age)`` or ``(path, age, topic)`` (a topic feeds that interest),
    ``events`` as ``(type, age)`` or ``(type, age, data)`` (``add_to_cart``, ``purchase``,
    ``dismiss`` or a site's own). Entries are recorded oldest first, each with its visit.
    ``interests`` sets decayed scores as of `now` (``{"hiking": 2.0}``), ``prefs`` stated
    preferences (``{"name": "Anna"}``). `policy` (a rule set's ``.history``) bounds how many
    entries are kept and says what is counted for window counts (``views.topic.hiking.7d``;
    without it, everything is). A path viewed more than once is counted each time. Without `visitor_id` the id is random, as the middleware makes it.
    """
    now = _aware(now)
    policy = policy or HistoryPolicy(counted=None)
    steps: list[tuple[datetime, Callable[[Profile, HistoryPolicy, datetime], None]]] = []
    for term, age, *until in searches:
        horizon = int(_aware(until[0]).timestamp()) if until else None
        steps.append((now - _age(age), partial(record_search, term=term, valid_until=horizon)))
    for path, age, *page_topic in views:
        steps.append(
            (now - _age(age), partial(record_view, path=path, topic=next(iter(page_topic), None)))
        )
    for kind, age, *data in events:
        steps.append(
            (now - _age(age), partial(record_event, type=kind, data=next(iter(data), None)))
        )
    profile = Profile.new(now)
    if visitor_id is not None:
        profile.id = visitor_id
    if steps:
        profile.first_seen = profile.last_seen = None
    for at, step in sorted(steps, key=lambda s: s[0]):
        record_request(profile, policy, at)
        step(profile, policy, at)
    moment = int(now.timestamp())
    for topic, score in (interests or {}).items():
        profile.interest[topic] = (float(score), moment)
    profile.prefs.update(prefs or {})
    return profile


def profile_cookies(
    secret_keys: Sequence[str] | str,
    profile: Profile | None = None,
    *,
    now: datetime,
    ruleset: Ruleset | None = None,
    holdout: bool = False,
    consent: bool = True,
    cookie_name: str = "etalage",
    consent_cookie_name: str = "etalage_consent",
    max_age: timedelta = timedelta(days=180),
) -> dict[str, str]:
    """The cookies (name → value) a browser holds for this visitor at `now`.

    With consent: the signed consent cookie and the profile sealed at `now` (a fresh one when
    `profile` is None) by the codecs the middleware uses, so a middleware with the same
    `secret_keys` reads them while its clock is within `max_age` after `now` (and not more
    than a minute before it). Without consent: only the consent cookie saying no.

    Given the `ruleset`, the visitor is in its holdout when `holdout` is true and out of it
    otherwise: the profile's id is kept when the rule set already puts it there, else the
    cookie carries the profile under `visitor_id(ruleset, holdout=holdout)` (the profile
    passed in is not changed). Raises `ValueError` for a profile the middleware would refuse
    to read, or for ``holdout=True`` without a rule set.
    """
    now = _aware(now)
    keys = _keys(secret_keys)
    cookies = {consent_cookie_name: ConsentCodec(keys).encode(consent)}
    if not consent:
        if profile is not None:
            raise ValueError("a profile is only kept with consent: give consent=True")
        return cookies
    if ruleset is None and holdout:
        raise ValueError("holdout=True needs the ruleset whose holdout the visitor is in")
    if profile is None:
        profile = profile_with(now)
    if ruleset is not None and ruleset.in_holdout(profile.id) is not holdout:
        profile = profile.copy()
        profile.id = visitor_id(ruleset, holdout=holdout)
    codec = ProfileCodec(keys, max_age=max_age, clock=lambda: now)
    policy = ruleset.history if ruleset is not None else HistoryPolicy()
    cookies[cookie_name] = codec.encode(profile, policy, now)
    if codec.decode(cookies[cookie_name]).profile is None:  # the middleware reads it so
        raise ValueError(
            "the middleware would not read this profile back (a preference it does not keep? "
            "name, email, channel and level are text, interests a list of topics)"
        )
    return cookies


class EtalageClient(TestClient):
    """A ``TestClient`` that browses an etalage site as a person's browser does.

    It sends `user_agent` (a desktop Chrome) with every request, and `start` makes it a
    consenting visitor with a given profile, in or out of the holdout. `secret_keys` are the
    middleware's; `rules` is its rule set (a `Ruleset` or the rule file's path), read from `app`
    when `app` is an `EtalageMiddleware`, and so are the cookie names. `clock` dates the
    cookies (give the middleware's); other keywords go to ``TestClient``.
    """

    def __init__(
        self,
        app: ASGIApp,
        *,
        secret_keys: Sequence[str] | str,
        rules: Ruleset | str | Path | None = None,
        clock: Callable[[], datetime] | None = None,
        user_agent: str = BROWSER_USER_AGENT,
        cookie_name: str | None = None,
        consent_cookie_name: str | None = None,
        **options: Any,
    ) -> None:
        super().__init__(app, **options)
        self.headers["User-Agent"] = user_agent  # instead of TestClient's own, not beside it
        middleware = app if isinstance(app, EtalageMiddleware) else None
        if rules is None and middleware is None:
            raise ValueError("give rules= (a Ruleset or the rule file) for an app like this one")
        self.secret_keys = _keys(secret_keys)
        self.clock = clock or (lambda: datetime.now(UTC))
        self._rules = load_ruleset(rules) if isinstance(rules, str | Path) else rules
        self._middleware = middleware
        settings = middleware.settings if middleware is not None else None
        self.cookie_name = cookie_name or (settings.cookie_name if settings else "etalage")
        self.consent_cookie_name = consent_cookie_name or (
            settings.consent_cookie_name if settings else "etalage_consent"
        )

    @property
    def ruleset(self) -> Ruleset:
        """The rule set whose holdout `start` draws against (the middleware's, as in force)."""
        if self._rules is not None:
            return self._rules
        assert self._middleware is not None  # checked in __init__
        return self._middleware.ruleset

    def start(
        self, profile: Profile | None = None, *, holdout: bool = False, now: datetime | None = None
    ) -> Profile:
        """Become a consenting visitor with `profile` (a fresh one when None), out of the
        holdout unless ``holdout=True``; the cookies are dated `now` (default: the clock).

        Returns the profile the cookie carries (its id pinned as `profile_cookies` says).
        """
        if self._middleware is not None and self._middleware.store is not None:
            raise ValueError(
                "start() writes the profile into the cookie; this middleware keeps profiles in "
                "a profile store, so its cookie holds only a signed visitor id"
            )
        moment = now or self.clock()
        cookies = profile_cookies(
            self.secret_keys,
            profile if profile is not None else profile_with(moment, policy=self.ruleset.history),
            now=moment,
            ruleset=self.ruleset,
            holdout=holdout,
            cookie_name=self.cookie_name,
            consent_cookie_name=self.consent_cookie_name,
        )
        self._replace_cookies(cookies)
        decoded = ProfileCodec(self.secret_keys, clock=lambda: moment).decode(
            cookies[self.cookie_name]
        )
        assert decoded.profile is not None  # just sealed with these keys
        return decoded.profile

    def decline(self) -> None:
        """Become a visitor who said no to personalization (no profile cookie)."""
        self._replace_cookies(
            profile_cookies(
                self.secret_keys,
                now=self.clock(),
                consent=False,
                consent_cookie_name=self.consent_cookie_name,
            )
        )

    def _replace_cookies(self, cookies: Mapping[str, str]) -> None:
        """Set `cookies` as the site's answers set them, so that the next answer's Set-Cookie
        replaces them instead of adding a second cookie of the same name beside them."""
        host = self.base_url.host
        domain = host if "." in host else host + ".local"  # as http.cookiejar files it
        for name in (self.cookie_name, self.consent_cookie_name):
            self.cookies.delete(name)  # whatever domain an earlier answer set it for
        for name, value in cookies.items():
            self.cookies.set(name, value, domain=domain, path="/")


def _keys(secret_keys: Sequence[str] | str) -> list[str]:
    """The keys as the middleware takes them (a comma-separated string or a list)."""
    keys = (
        [k for k in secret_keys.split(",") if k]
        if isinstance(secret_keys, str)
        else list(secret_keys)
    )
    if not keys or not all(isinstance(k, str) and k for k in keys):
        raise ValueError("secret_keys: give at least one non-empty secret key")
    return keys


def _age(age: Age) -> timedelta:
    if isinstance(age, timedelta):
        if age < timedelta(0):
            raise ValueError(f"an age cannot be negative: {age}")
        return age
    if isinstance(age, str):
        return parse_duration(age)
    raise TypeError(f"give an age as a timedelta or a duration such as '2d', not {age!r}")


def _aware(moment: datetime) -> datetime:
    if moment.tzinfo is None:
        raise ValueError(f"give a timezone-aware datetime, not {moment!r}")
    return moment
