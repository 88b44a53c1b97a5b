"""The visitor's own endpoints under the prefix: consent, profile (and its download, export),
preferences, event, forget.

Plain HTML forms work (``application/x-www-form-urlencoded``, answered with a 303 back to the
page) and so does JSON (answered with JSON). State-changing calls must be same-origin.
"""

from __future__ import annotations

import inspect
import json
import logging
import re
from collections.abc import Mapping
from typing import Any
from urllib.parse import parse_qs

from starlette.responses import JSONResponse, PlainTextResponse, RedirectResponse, Response

from etalage.middleware.asgi import Receive, Scope, Send
from etalage.middleware.headers import header_value
from etalage.middleware.origin import is_same_origin, local_path
from etalage.middleware.profile_page import profile_report, render_profile_page
from etalage.middleware.settings import Settings
from etalage.middleware.state import RequestState
from etalage.middleware.writing import ProfileWriter
from etalage.profile import Profile

logger = logging.getLogger("etalage")

MAX_BODY_BYTES = 64 * 1024
MAX_FORM_FIELDS = 100
_TRUE = frozenset({"true", "1", "yes", "on", "granted"})
_FALSE = frozenset({"false", "0", "no", "off", "denied"})
_EVENT_TYPE = re.compile(r"^[a-z][a-z0-9_]{0,39}$")
_SAVING = frozenset({"preferences", "event"})  # endpoints whose answer promises a saved change


class BadRequest(Exception):
    """The request to an endpoint is unusable; the message says why (sent as a 400)."""


class Endpoints:
    """Dispatches requests under the middleware's prefix."""

    def __init__(self, settings: Settings, writer: ProfileWriter) -> None:
        self.settings = settings
        self.writer = writer
        self.routes = {
            "consent": ("POST", self.consent),
            "profile": ("GET", self.profile),
            "export": ("GET", self.export),
            "preferences": ("POST", self.preferences),
            "event": ("POST", self.event),
            "forget": ("POST", self.forget),
        }

    async def handle(self, scope: Scope, receive: Receive, send: Send, state: RequestState) -> None:
        """Answer one request under the prefix."""
        name = scope["path"][len(self.settings.prefix) :].strip("/")
        route = self.routes.get(name)
        if route is None:
            response: Response = PlainTextResponse("Not found", status_code=404)
        elif scope["method"] not in (route[0], "HEAD" if route[0] == "GET" else route[0]):
            response = PlainTextResponse(
                "Method not allowed", status_code=405, headers={"Allow": route[0]}
            )
        elif route[0] == "POST" and not is_same_origin(
            scope.get("headers", []), self.settings.allowed_origins
        ):
            response = PlainTextResponse("Cross-site request refused", status_code=403)
        else:
            try:
                fields = await _read_fields(scope, receive) if route[0] == "POST" else {}
                answer = route[1](scope, state, fields)
                response = await answer if inspect.isawaitable(answer) else answer  # type: ignore[assignment]
            except BadRequest as exc:
                response = PlainTextResponse(f"Bad request: {exc}", status_code=400)
            await self.writer.persist(state.visitor)
            if name in _SAVING and state.visitor.store_failed and response.status_code < 400:
                # The profile store did not answer: the profile was not updated, so say so
                # (forms too: a redirect would pretend it worked). No Retry-After: a retried
                # conversion would be counted twice in the measurement events.
                response = JSONResponse(
                    {"error": "the profile store is unavailable; your profile was not updated"},
                    status_code=503,
                )
        response.headers["Cache-Control"] = "no-store"
        response.headers["X-Content-Type-Options"] = "nosniff"  # error bodies echo input
        await response(scope, receive, send)

    # -- endpoints ---------------------------------------------------------------------------

    async def consent(
        self, scope: Scope, state: RequestState, fields: Mapping[str, Any]
    ) -> Response:
        """Record the visitor's choice; "no" deletes the stored profile."""
        raw = _single(fields, "personalization").lower()
        if raw in _TRUE:
            granted = True
        elif raw in _FALSE:
            granted = False
        else:
            raise BadRequest("field 'personalization' must be true or false")
        visitor = state.visitor
        visitor.consent = granted
        visitor.consent_reissue = False  # the choice is signed anew right here
        response = self._answer(scope, fields, {"personalization": granted})
        secure = visitor.facts.is_https
        response.raw_headers.append(self.writer.consent_cookie(granted, secure=secure))
        if granted:
            if visitor.profile is None:
                visitor.profile = Profile.new(visitor.now)
                visitor.changed = True
            response.raw_headers.extend(
                self.writer.cookie_headers(visitor, state.ruleset, page=True)
            )
        else:
            await self.writer.delete_stored(visitor)
            visitor.profile = None
            response.raw_headers.append(self.writer.deletion(self.settings.cookie_name, secure=secure))
        return response

    def profile(self, scope: Scope, state: RequestState, fields: Mapping[str, Any]) -> Response:
        """Everything stored about the visitor, and why they saw what they saw."""
        report = profile_report(state.visitor, state.ruleset, prefix=self.settings.prefix)
        if _wants_json(scope):
            return JSONResponse(report)
        page = render_profile_page(
            report, state.ruleset, stylesheets=self.settings.profile_stylesheets
        )
        return Response(page, media_type="text/html; charset=utf-8")

    def export(self, scope: Scope, state: RequestState, fields: Mapping[str, Any]) -> Response:
        """The "Download my data" link: the profile page's JSON as a file to keep."""
        report = profile_report(state.visitor, state.ruleset, prefix=self.settings.prefix)
        day = state.visitor.now.astimezone(state.ruleset.site.timezone).date().isoformat()
        return JSONResponse(
            report,
            headers={"Content-Disposition": f'attachment; filename="my-data-{day}.json"'},
        )

    def preferences(self, scope: Scope, state: RequestState, fields: Mapping[str, Any]) -> Response:
        """Store what the visitor states about themselves (needs consent); a stated e-mail is
        a contact preference and nothing more."""
        visitor = state.visitor
        if not visitor.personalization_allowed or visitor.profile is None:
            return self._needs_consent(scope)
        prefs = visitor.profile.prefs
        updates = _preferences(fields, self.settings.preference_choices)
        for key, value in updates.items():
            if value in ("", [], None):
                prefs.pop(key, None)
            else:
                prefs[key] = value
        # A stated e-mail is a way to reach the visitor, not proof of who they are: it is never
        # used to identify them (anyone could type someone else's address). Identity comes only
        # from the site's own login, through `RequestState.identify`.
        visitor.changed = True
        response = self._answer(scope, fields, {"prefs": prefs})
        response.raw_headers.extend(self.writer.cookie_headers(visitor, state.ruleset, page=True))
        return response

    def event(self, scope: Scope, state: RequestState, fields: Mapping[str, Any]) -> Response:
        """The beacon: record add_to_cart, purchase, dismiss or a custom event."""
        event_type = _single(fields, "type")
        if not _EVENT_TYPE.match(event_type):
            raise BadRequest("field 'type' must be a lower-case event name")
        data = fields.get("data")
        if data is None:
            data = {k: _flatten(v) for k, v in fields.items() if k not in ("type", "next")}
        if not isinstance(data, dict):
            raise BadRequest("field 'data' must be an object")
        try:
            recorded = state.record_event(event_type, data)
        except ValueError as exc:
            raise BadRequest(str(exc)) from None
        response = self._answer(
            scope, fields, {"recorded": recorded}, status=202 if not recorded else 200
        )
        response.raw_headers.extend(
            self.writer.cookie_headers(state.visitor, state.ruleset, page=True)
        )
        return response

    async def forget(
        self, scope: Scope, state: RequestState, fields: Mapping[str, Any]
    ) -> Response:
        """Wipe everything: the profile, the consent choice and the site's `forget_cookies`."""
        secure = state.visitor.facts.is_https
        await self.writer.delete_stored(state.visitor)
        state.visitor.profile = None
        state.visitor.consent = None
        response = self._answer(scope, fields, {"forgotten": True})
        settings = self.settings
        for name in (settings.cookie_name, settings.consent_cookie_name, *settings.forget_cookies):
            response.raw_headers.append(self.writer.deletion(name, secure=secure))
        return response

    # -- helpers -----------------------------------------------------------------------------

    def _answer(
        self, scope: Scope, fields: Mapping[str, Any], payload: dict[str, Any], status: int = 200
    ) -> Response:
        if _wants_json(scope):
            return JSONResponse(payload, status_code=status)
        return RedirectResponse(_back(scope, fields), status_code=303)

    def _needs_consent(self, scope: Scope) -> Response:
        message = "Personalization is off: grant consent first, nothing was stored."
        if _wants_json(scope):
            return JSONResponse({"error": message}, status_code=409)
        return PlainTextResponse(message, status_code=409)


async def _read_fields(scope: Scope, receive: Receive) -> dict[str, Any]:
    body = b""
    more = True
    while more:
        message = await receive()
        if message["type"] == "http.disconnect":
            break
        body += message.get("body", b"")
        more = message.get("more_body", False)
        if len(body) > MAX_BODY_BYTES:
            raise BadRequest(f"body larger than {MAX_BODY_BYTES} bytes")
    content_type = (header_value(scope.get("headers", []), b"content-type") or "").lower()
    if content_type.startswith("application/json"):
        try:
            data = json.loads(body or b"{}")
        except RecursionError:
            raise BadRequest("JSON body is nested too deeply") from None
        except ValueError:  # UnicodeDecodeError included
            raise BadRequest("body is not valid JSON") from None
        if not isinstance(data, dict):
            raise BadRequest("JSON body must be an object")
        try:  # "\ud800" is valid JSON but no text: it could not be stored or shown again
            json.dumps(data, ensure_ascii=False).encode("utf-8")
        except UnicodeEncodeError:
            raise BadRequest("JSON body holds a lone surrogate (\\ud800-\\udfff)") from None
        return data
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError:
        raise BadRequest("form body is not UTF-8") from None
    try:
        parsed = parse_qs(text, keep_blank_values=True, max_num_fields=MAX_FORM_FIELDS)
    except ValueError:
        raise BadRequest(f"form has more than {MAX_FORM_FIELDS} fields") from None
    return {key: values if len(values) > 1 else values[0] for key, values in parsed.items()}


def _single(fields: Mapping[str, Any], name: str) -> str:
    value = fields.get(name)
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list):
        value = value[-1] if value else ""
    if value is None:
        raise BadRequest(f"field '{name}' is required")
    return str(value).strip()


def _flatten(value: Any) -> Any:
    return value[-1] if isinstance(value, list) and value else value


def _preferences(
    fields: Mapping[str, Any], choices: Mapping[str, tuple[str, ...]]
) -> dict[str, Any]:
    updates: dict[str, Any] = {}
    if "name" in fields:
        name = " ".join(_single(fields, "name").split())
        if len(name) > 60:
            raise BadRequest("field 'name' is longer than 60 characters")
        updates["name"] = name
    if "email" in fields:
        email = _single(fields, "email")
        if email and (len(email) > 120 or "@" not in email):
            raise BadRequest("field 'email' is not an e-mail address")
        updates["email"] = email
    for key, allowed in choices.items():
        if key in fields:
            value = _single(fields, key)
            if value and value not in allowed:
                raise BadRequest(f"field '{key}' must be one of {', '.join(allowed)}")
            updates[key] = value
    if "interests" in fields:
        raw = fields["interests"]
        items = raw if isinstance(raw, list) else [raw]
        interests = [str(i).strip()[:30] for i in items if str(i).strip()][:12]
        updates["interests"] = interests
    return updates


def _wants_json(scope: Scope) -> bool:
    headers = scope.get("headers", [])
    accept = (header_value(headers, b"accept") or "").lower()
    content_type = (header_value(headers, b"content-type") or "").lower()
    if "text/html" in accept:
        return False
    return "application/json" in accept or content_type.startswith("application/json")


def _back(scope: Scope, fields: Mapping[str, Any]) -> str:
    """Where a form post returns to: `next` or the Referer, when they are local paths."""
    headers = scope.get("headers", [])
    host = header_value(headers, b"host") or ""
    for candidate in (fields.get("next"), header_value(headers, b"referer")):
        if isinstance(candidate, list):
            candidate = candidate[-1] if candidate else None
        if isinstance(candidate, str) and candidate:
            path = local_path(candidate, host)
            if path is not None:
                return path
    return "/"
