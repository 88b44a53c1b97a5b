"""The demo toolbar: the visitor's profile at a glance and time travel (demo mode only)."""

from __future__ import annotations

from functools import cache
from typing import Any

import jinja2

_TEMPLATE = """
<aside id="etalage-toolbar" aria-label="etalage demo toolbar" style="position:fixed;left:0;right:0;bottom:0;z-index:9999;background:#14241b;color:#e8efe9;font:13px/1.4 system-ui,sans-serif;padding:.4rem .8rem;display:flex;flex-wrap:wrap;gap:.4rem 1rem;align-items:center;box-shadow:0 -2px 8px rgba(0,0,0,.25)">
<strong>etalage demo</strong>
<span data-demo="consent">consent: {{ consent }}</span>
{% if holdout %}<span data-demo="holdout">holdout group</span>{% endif %}
<span data-demo="lifecycle">{{ attrs.get("lifecycle", "anonymous") }}</span>
<span data-demo="visits">visits: {{ attrs.get("visits.count", 0) }}</span>
<span data-demo="top">top interest: {{ attrs.get("interest.top") or "none" }}</span>
<span data-demo="search">last search: {{ attrs.get("search.last") or "none" }}</span>
<span data-demo="clock">clock: {{ clock }}{% if shift_days %} (+{{ shift_days }} days){% endif %}</span>
<span style="margin-left:auto;display:flex;gap:.3rem">
{% for label in ["+1d", "+7d", "+30d", "reset"] %}<form method="post" action="{{ prefix }}demo/time" style="margin:0"><input type="hidden" name="shift" value="{{ label }}"><button type="submit" data-shift="{{ label }}" style="font:inherit;background:#2f5d46;color:#fff;border:0;border-radius:.3rem;padding:.15rem .5rem;cursor:pointer">{{ "time +" ~ label[1:] if label != "reset" else "reset time" }}</button></form>{% endfor %}
<a href="{{ prefix }}profile" style="color:#bfe3c9">your data</a>
</span>
</aside>
"""


@cache
def _template() -> jinja2.Template:
    return jinja2.Environment(autoescape=True).from_string(_TEMPLATE)


def render_toolbar(
    attrs: dict[str, Any], *, consent: str, holdout: bool, clock: str, shift_days: int, prefix: str
) -> bytes:
    """Render the toolbar for one visitor."""
    return (
        _template()
        .render(
            attrs=attrs,
            consent=consent,
            holdout=holdout,
            clock=clock,
            shift_days=shift_days,
            prefix=prefix,
        )
        .encode("utf-8", "replace")  # a lone surrogate app code stored: "?"
    )


def insert_before_body_end(html: bytes, snippet: bytes) -> bytes:
    """Insert `snippet` before the last ``</body>`` (or append it when there is none)."""
    index = html.lower().rfind(b"</body>")
    if index < 0:
        return html + snippet
    return html[:index] + snippet + html[index:]
