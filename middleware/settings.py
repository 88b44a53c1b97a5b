"""`Settings`: the middleware's configuration that its parts share, checked once."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import timedelta
from types import MappingProxyType

from etalage.errors import ConfigError
from etalage.request_facts import TRUSTED_EDGES

CONSENT_MAX_AGE = timedelta(days=365)
DEFAULT_CONVERSIONS = frozenset({"add_to_cart", "purchase"})
FREE_TEXT_PREFERENCES = frozenset({"name", "email", "interests"})


def stylesheet_urls(value: str | Sequence[str] | None) -> tuple[str, ...]:
    """`EtalageMiddleware`'s ``profile_stylesheet`` keyword (one URL or several) as the tuple
    `Settings.profile_stylesheets` holds."""
    if value is None:
        return ()
    return (value,) if isinstance(value, str) else tuple(value)


@dataclass(frozen=True)
class Settings:
    """What the parts of the middleware are configured with (see `EtalageMiddleware`)."""

    prefix: str = "/_etalage/"
    cookie_name: str = "etalage"
    consent_cookie_name: str = "etalage_consent"
    max_age: timedelta = timedelta(days=180)
    max_html_bytes: int = 2_000_000
    #: Stated preferences a visitor may choose from a fixed list, e.g. ``{"channel": ["email",
    #: "phone"]}``; ``name``, ``email`` and ``interests`` are always free text.
    preference_choices: Mapping[str, tuple[str, ...]] = field(
        default_factory=lambda: MappingProxyType({})
    )
    #: Event types that count as conversions for the measurement (sent to the event sink).
    conversions: frozenset[str] = DEFAULT_CONVERSIONS
    #: Cookies of the site that "forget me" deletes too (besides etalage's own two).
    forget_cookies: tuple[str, ...] = ()
    #: Origins whose forms may post to the endpoints besides the request's own (normalized
    #: by `origin.normalized_origins`), e.g. the public origin behind a Host-rewriting proxy.
    allowed_origins: tuple[str, ...] = ()
    #: The CDN in front of the site whose geolocation headers are believed (`TRUSTED_EDGES`);
    #: None reads no such header, since anyone can send them.
    trusted_edge: str | None = None
    #: Stylesheet URLs the visitor's page links after its small built-in style, so it wears
    #: the site's own look (e.g. ``("/static/profile.css",)``).
    profile_stylesheets: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        if not self.prefix.startswith("/") or not self.prefix.endswith("/"):
            raise ConfigError(f"prefix must start and end with '/': {self.prefix!r}")
        for name in (self.cookie_name, self.consent_cookie_name, *self.forget_cookies):
            if not name or not name.isascii() or any(c in name for c in ' =;,"\t\r\n'):
                raise ConfigError(f"cookie name {name!r} is not a valid cookie name")
        if self.max_html_bytes < 0:
            raise ConfigError("max_html_bytes must not be negative")
        for key, choices in self.preference_choices.items():
            if key in FREE_TEXT_PREFERENCES or not choices or not all(
                isinstance(choice, str) and choice for choice in choices
            ):
                raise ConfigError(
                    f"preference_choices[{key!r}]: a non-empty list of choices for a field "
                    f"other than {', '.join(sorted(FREE_TEXT_PREFERENCES))}"
                )
        if isinstance(self.profile_stylesheets, str):
            raise ConfigError("profile_stylesheets: a tuple of URLs, not one string")
        for url in self.profile_stylesheets:
            if not isinstance(url, str) or not url.strip() or any(c in url for c in '<>"\n\r'):
                raise ConfigError(f"profile_stylesheets: {url!r} is not a stylesheet URL")
        if self.trusted_edge is not None and self.trusted_edge not in TRUSTED_EDGES:
            raise ConfigError(
                f"trusted_edge must be one of {', '.join(TRUSTED_EDGES)} (or None): "
                f"{self.trusted_edge!r}"
            )
