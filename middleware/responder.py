"""`Responder`: one request's send wrapper; holds back the HTML answers to personalize."""

from __future__ import annotations

import logging
import time

from etalage.middleware.asgi import Message, Scope, Send
from etalage.middleware.headers import shared_caches_excluded
from etalage.middleware.personalize import PagePersonalizer
from etalage.middleware.preview import preview_headers
from etalage.middleware.settings import Settings
from etalage.middleware.state import RequestState
from etalage.middleware.writing import ProfileWriter

logger = logging.getLogger("etalage")
# The answer's headers `Responder._is_html_page` reads.
_READ = frozenset((b"content-type", b"content-range", b"content-encoding", b"content-length"))


class Responder:
    """Passes an app's answer on: ``200 text/html`` pages of people through the personalizer,
    everything else as it streams (with the Set-Cookie headers the answer must carry)."""

    def __init__(
        self,
        scope: Scope,
        state: RequestState,
        send: Send,
        *,
        settings: Settings,
        pages: PagePersonalizer,
        writer: ProfileWriter,
        preview_cookies: list[tuple[bytes, bytes]] | None = None,
    ) -> None:
        self.scope = scope
        self.state = state
        self.downstream = send
        self.settings = settings
        self.pages = pages
        self.writer = writer
        #: Set-Cookie headers starting or ending a preview session (sent on any answer).
        self.preview_cookies = preview_cookies or []
        method = scope["method"]
        self.head = method == "HEAD"
        self.page = method in ("GET", "HEAD")  # only those answers are personalized
        self.start: Message | None = None
        self.buffering = False
        self.chunks: list[bytes] = []
        self.size = 0
        self.started_at = time.perf_counter()
        self.page_answered = False  # the answer went through the personalizer
        self.length_known = False  # (set by `_is_html_page`, read only for such pages)
        self.html_page = False  # the answer is one a person gets personalized (`_is_html_page`)

    async def send(self, message: Message) -> None:
        """The `send` the app is given."""
        if message["type"] == "http.response.start":
            self.start = message
            self.html_page = self._is_html_page(message)
            self.buffering = self._personalizable()
            if not self.buffering:
                await self._send_start(message)
            return
        if message["type"] != "http.response.body":
            await self.downstream(message)
            return
        if not self.buffering:
            if self.head:
                if not message.get("more_body", False):
                    await self.downstream({"type": "http.response.body", "body": b""})
                return
            await self.downstream(message)
            return
        body = message.get("body", b"")
        more = message.get("more_body", False)
        if more and not self.chunks and not self.length_known:
            # Streamed without a length: the app wants it to flow, so it passes through.
            self.chunks.append(body)
            await self._give_up(more, reason=None)
            return
        self.chunks.append(body)
        self.size += len(body)
        if self.size > self.settings.max_html_bytes:
            await self._give_up(more)
            return
        if not more:
            await self._finish(b"".join(self.chunks))

    def _personalizable(self) -> bool:
        preview = self.state.preview
        if preview is not None and preview.canonical:
            return False
        return self.html_page and not self.state.visitor.is_canonical

    def _is_html_page(self, message: Message) -> bool:
        """A ``200 text/html`` answer to GET or HEAD, not encoded, within the size cap: one
        that a person gets personalized."""
        if not self.page or message["status"] != 200:
            return False
        found: dict[bytes, bytes] = {}
        for name, value in message.get("headers", ()):
            name = name.lower()
            if name in _READ and name not in found:
                found[name] = value
        self.length_known = b"content-length" in found
        if not found.get(b"content-type", b"").lower().startswith(b"text/html"):
            return False
        if found.get(b"content-range"):
            return False
        if found.get(b"content-encoding"):
            # Silence would look like etalage doing nothing at all: say why, and the fix.
            self.pages.warn_once(
                "compressed",
                "HTML pages reach the middleware already compressed (Content-Encoding), so "
                "they pass through unpersonalized; add the compression middleware (GZip...) "
                "after EtalageMiddleware, so that it wraps etalage's output",
            )
            return False
        length = found.get(b"content-length")
        return not (length and length.isdigit() and int(length) > self.settings.max_html_bytes)

    async def _send_start(self, message: Message) -> None:
        state = self.state
        if state.preview is None and not (
            state.visitor_built or self.html_page or self.preview_cookies
        ):
            await self.downstream(message)  # an asset nothing read the visitor for: as it came
            return
        headers = list(message.get("headers", []))
        if self.html_page and self.state.visitor.is_canonical:
            # A crawler's or prefetch's page lacks what people get (the consent banner, their
            # fragments); shared caches key on the URL alone, so they must not keep it.
            headers = shared_caches_excluded(headers)
        headers = self._with_cookies(headers, page=False)
        if state.visitor_built and state.visitor.recorded and state.preview is None:
            await self.writer.persist(state.visitor)
        await self.downstream({**message, "headers": headers})

    def _with_cookies(
        self, headers: list[tuple[bytes, bytes]], *, page: bool, private: bool = False
    ) -> list[tuple[bytes, bytes]]:
        """`headers` plus this answer's Set-Cookie headers, kept out of shared caches (as
        `private` headers are already)."""
        if self.state.preview is not None:  # no profile cookie written nor deleted
            return preview_headers(headers) + self.preview_cookies
        if not self.state.visitor_built:  # nothing read, recorded or to delete (`on_demand`)
            return headers
        cookies = self.preview_cookies + self.writer.cookie_headers(
            self.state.visitor, self.state.ruleset, page=page
        )
        if not cookies:
            return headers
        return (headers if private else shared_caches_excluded(headers)) + cookies

    async def _give_up(
        self, more: bool, reason: str | None = "HTML answer larger than max_html_bytes"
    ) -> None:
        """Send what was held back unchanged and stream the rest (logging `reason`, if any)."""
        assert self.start is not None
        if reason:
            logger.warning("etalage: %s, passed through", reason)
        self.buffering = False
        await self._send_start(self.start)
        body = b"" if self.head else b"".join(self.chunks)
        await self.downstream({"type": "http.response.body", "body": body, "more_body": more})
        self.chunks = []

    async def _finish(self, body: bytes) -> None:
        assert self.start is not None
        result = self.pages.personalize(self.scope, self.state, self.start, body, self.started_at)
        self.page_answered = True
        headers = self._with_cookies(list(result.headers), page=True, private=result.private)
        if self.state.preview is None:
            await self.writer.persist(self.state.visitor)
        status = result.status
        out_body = b"" if self.head or status == 304 else result.body
        await self.downstream({"type": "http.response.start", "status": status, "headers": headers})
        await self.downstream({"type": "http.response.body", "body": out_body})
