"""Reading the shop's own form posts (the cart, checkout and time travel)."""

from __future__ import annotations

from urllib.parse import parse_qsl

from starlette.requests import Request

MAX_FORM_CHARS = 10_000  # the shop's forms are a few fields; the rest is not read


async def read_form(request: Request) -> dict[str, str]:
    """The posted fields (the last of repeated names); empty when the body is not UTF-8.

    Parsed here rather than with `request.form()`: that needs python-multipart, which the
    installed package does not depend on.
    """
    body = await request.body()
    try:
        text = body.decode("utf-8")[:MAX_FORM_CHARS]
    except UnicodeDecodeError:
        return {}
    return dict(parse_qsl(text, keep_blank_values=True))
