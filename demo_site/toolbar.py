"""The demo's toolbar and time travel, through the hooks every site has (`request_time`,
`page_footer`): the visitor's profile at a glance, and a clock to move forward in days."""

from __future__ import annotations

from datetime import datetime, timedelta
from functools import cache
from typing import Any

import jinja2
from starlette.requests import Request
from starlette.responses import PlainTextResponse, RedirectResponse, Response

from etalage.demo.forms import read_form
from etalage.middleware import RequestState
from etalage.middleware.cookies import parse_cookie_header, set_cookie
from etalage.middleware.origin import is_same_origin, local_path

SHIFT_COOKIE = "etalage_demo_shift"
TRAVEL_PATH = "/demo/time"
PROFILE_URL = "/_etalage/profile"
_SHIFTS = {"+1d": 86400, "+7d": 7 * 86400, "+30d": 30 * 86400}
_MAX_SHIFT_DIGITS = 9  # about 31 years: far enough, and int() stays cheap
_COOKIE_MAX_AGE = 365 * 24 * 3600

#: One line high whatever it holds (a long search is cut with an ellipsis, the rest scrolls
#: sideways on a narrow window), and the spacer before it keeps that much room at the end of
#: the page, so the fixed bar never covers the page's last lines.
_HEIGHT = "2.5rem"
_TEMPLATE = """
<div id="etalage-toolbar-space" aria-hidden="true" style="height:{{ height }};flex:none"></div>
<aside id="etalage-toolbar" aria-label="etalage demo toolbar" style="position:fixed;left:0;right:0;bottom:0;z-index:9999;box-sizing:border-box;height:{{ height }};background:#14241b;color:#e8efe9;font:13px/1.4 system-ui,sans-serif;padding:0 .8rem;display:flex;flex-wrap:nowrap;gap:.75rem;align-items:center;white-space:nowrap;overflow-x:auto;overflow-y:hidden;scrollbar-width:thin;box-shadow:0 -2px 8px rgba(0,0,0,.25)">
<strong>etalage demo</strong>
<span data-demo="consent">consent: {{ consent }}</span>
{% if holdout %}<span data-demo="holdout">holdout group</span>{% endif %}
<span data-demo="lifecycle">{{ attrs.get("lifecycle", "anonymous") }}</span>
<span data-demo="visits">visits: {{ attrs.get("visits.count", 0) }}</span>
<span data-demo="top">top interest: {{ attrs.get("interest.top") or "none" }}</span>
<span data-demo="search" title="{{ attrs.get("search.last") or "none" }}" style="max-width:14em;overflow:hidden;text-overflow:ellipsis">last search: {{ attrs.get("search.last") or "none" }}</span>
<span data-demo="clock">clock: {{ clock }}{% if shift_days %} (+{{ shift_days }} days){% endif %}</span>
<span style="margin-left:auto;display:flex;gap:.3rem;align-items:center">
{% for label in ["+1d", "+7d", "+30d", "reset"] %}<form method="post" action="{{ travel_url }}" style="margin:0"><input type="hidden" name="shift" value="{{ label }}"><button type="submit" data-shift="{{ label }}" style="font:inherit;background:#2f5d46;color:#fff;border:0;border-radius:.3rem;padding:.15rem .5rem;cursor:pointer;white-space:nowrap">{{ "time +" ~ label[1:] if label != "reset" else "reset time" }}</button></form>{% endfor %}
<a href="{{ profile_url }}" style="color:#bfe3c9">your data</a>
</span>
</aside>
"""


@cache
def _template() -> jinja2.Template:
    return jinja2.Environment(autoescape=True).from_string(_TEMPLATE)


def shift_seconds(scope: Any) -> int:
    """Seconds this visitor travelled forward in time (the demo's clock cookie)."""
    raw = parse_cookie_header(scope.get("headers", [])).get(SHIFT_COOKIE, "")
    # isascii: "²".isdigit() holds too, and int() refuses it.
    if raw.isascii() and raw.isdigit() and len(raw) <= _MAX_SHIFT_DIGITS:
        return int(raw)
    return 0


def request_time(scope: Any, now: datetime) -> datetime:
    """The `request_time` hook: the visitor's own moment, `now` moved by their time travel."""
    return now + timedelta(seconds=shift_seconds(scope))


def page_footer(scope: Any, state: RequestState) -> bytes:
    """The `page_footer` hook: the toolbar at the bottom of every page."""
    visitor = state.visitor
    consent = {True: "yes", False: "no", None: "not given"}[visitor.consent]
    attrs = state.attributes
    return (
        _template()
        .render(
            attrs=attrs,
            consent=consent,
            holdout=visitor.holdout,
            clock=visitor.now.astimezone(state.ruleset.site.timezone).strftime("%Y-%m-%d %H:%M"),
            shift_days=shift_seconds(scope) // 86400,
            travel_url=TRAVEL_PATH,
            profile_url=PROFILE_URL,
            height=_HEIGHT,
        )
        .encode("utf-8", "replace")  # a lone surrogate app code stored: "?"
    )


async def time_travel(request: Request) -> Response:
    """``POST /demo/time`` (``shift`` = +1d, +7d, +30d or reset): move this visitor's clock."""
    if not is_same_origin(request.scope.get("headers", [])):
        return PlainTextResponse("Cross-site request refused", status_code=403)
    shift = (await read_form(request)).get("shift", "")
    if shift == "reset":
        total = 0
    elif shift in _SHIFTS:
        total = shift_seconds(request.scope) + _SHIFTS[shift]
    else:
        return PlainTextResponse(
            "Bad request: field 'shift' must be +1d, +7d, +30d or reset",
            status_code=400,
            headers={"X-Content-Type-Options": "nosniff"},
        )
    if "application/json" in request.headers.get("accept", ""):
        response: Response = Response(
            f'{{"shift_seconds": {total}}}', media_type="application/json"
        )
    else:
        response = RedirectResponse(_back(request), status_code=303)
    cookie = set_cookie(
        SHIFT_COOKIE, str(total), max_age=_COOKIE_MAX_AGE, secure=request.url.scheme == "https"
    )
    response.raw_headers.append((b"set-cookie", cookie))
    response.headers["Cache-Control"] = "no-store"
    return response


def _back(request: Request) -> str:
    """The page the form was on (the Referer, when it is a path of this site), else home."""
    referer = request.headers.get("referer", "")
    return local_path(referer, request.headers.get("host", "")) or "/"
