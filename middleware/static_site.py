"""`StaticSite`: serves a folder; HTML pages from memory, everything else through StaticFiles."""

from __future__ import annotations

import hashlib
import os
import time
from collections.abc import Callable, Iterable, Mapping, MutableMapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

from starlette.exceptions import HTTPException
from starlette.staticfiles import StaticFiles

from etalage.errors import ConfigError
from etalage.lru import LRU

_PATHS_REMEMBERED = 4096
_LONGEST_REMEMBERED_PATH = 512
_Answer = TypeVar("_Answer")


@dataclass
class _Page:
    body: bytes
    etag: str
    signature: tuple[int, int]
    checked_at: float
    headers: list[tuple[bytes, bytes]] = field(init=False)

    def __post_init__(self) -> None:
        self.headers = [
            (b"content-type", b"text/html; charset=utf-8"),
            (b"content-length", str(len(self.body)).encode()),
            (b"etag", self.etag.encode("latin-1")),
        ]


class StaticSite:
    """An ASGI app serving `directory`.

    HTML pages are read once and held in memory with a content ETag (so the middleware finds
    their compiled skeleton with one dict look-up); a page's file is checked for changes at
    most once per `recheck_interval` seconds. Other files go through Starlette's `StaticFiles`.

    Which file a URL path names and whether it lies in a `hidden` folder (symlinks followed)
    are asked of the file system at most once per `recheck_interval` per path, and remembered
    for the most recently asked paths of up to `_LONGEST_REMEMBERED_PATH` characters: a
    hostile client inventing paths (``/./././index.html``...) costs it work, not memory.
    """

    def __init__(
        self,
        directory: str | Path,
        *,
        hidden: Iterable[str | Path] = (),
        recheck_interval: float = 1.0,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self.directory = Path(directory).resolve()
        if not self.directory.is_dir():
            raise ConfigError(f"site folder not found: {directory}")
        # Files and folders inside the site that are not for visitors (the rule file, its
        # folder, the fragments): answered 404, so targeting and templates are not served.
        self.hidden = tuple(
            folder
            for folder in (Path(f).resolve() for f in hidden)
            if self.directory in folder.parents  # never the whole site
        )
        self.recheck_interval = recheck_interval
        self._monotonic = monotonic
        self._pages: dict[Path, _Page] = {}  # by file: one copy whatever URL path names it
        # URL path -> (its page's file or None, when asked); -> (hidden?, when asked)
        self._page_files: LRU[str, tuple[Path | None, float]] = LRU(_PATHS_REMEMBERED)
        self._hidden_paths: LRU[str, tuple[bool, float]] = LRU(_PATHS_REMEMBERED)
        self.files = StaticFiles(directory=self.directory, html=True)

    async def __call__(self, scope: MutableMapping[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] == "lifespan":
            await _lifespan(receive, send)
            return
        if scope["type"] == "http" and self._is_hidden(scope["path"]):
            await _not_found(send)
            return
        if scope["type"] == "http" and scope["method"] in ("GET", "HEAD"):
            page = self._page(scope["path"])
            if page is not None:
                # A fresh list: middleware may add to the headers of a message in place.
                headers = list(page.headers)
                await send({"type": "http.response.start", "status": 200, "headers": headers})
                body = b"" if scope["method"] == "HEAD" else page.body
                await send({"type": "http.response.body", "body": body})
                return
        try:
            await self.files(scope, receive, send)
        except HTTPException as exc:  # StaticFiles leaves 404 and 405 to an app around it
            await _plain(send, exc.status_code, exc.detail, exc.headers)

    def _page(self, url_path: str) -> _Page | None:
        now = self._monotonic()
        file = self._remembered(self._page_files, url_path, now, self._resolve)
        if file is None:
            return None  # an asset or a missing file: StaticFiles answers
        page = self._pages.get(file)
        if page is not None and now - page.checked_at < self.recheck_interval:
            return page
        try:
            stat = os.stat(file)
            signature = (stat.st_mtime_ns, stat.st_size)
            if page is not None and page.signature == signature:
                page.checked_at = now
                return page
            body = file.read_bytes()
        except OSError:
            self._pages.pop(file, None)
            return None
        etag = '"' + hashlib.blake2b(body, digest_size=12).hexdigest() + '"'
        page = _Page(body=body, etag=etag, signature=signature, checked_at=now)
        self._pages[file] = page
        return page

    def _is_hidden(self, url_path: str) -> bool:
        if not self.hidden:
            return False
        now = self._monotonic()
        return self._remembered(self._hidden_paths, url_path, now, self._leads_into_hidden)

    def _remembered(
        self,
        memory: LRU[str, tuple[_Answer, float]],
        url_path: str,
        now: float,
        ask: Callable[[str], _Answer],
    ) -> _Answer:
        """What `ask` answers for `url_path`, asked again once `recheck_interval` is over."""
        known = memory.get(url_path)
        if known is not None and now - known[1] < self.recheck_interval:
            return known[0]
        answer = ask(url_path)
        if len(url_path) <= _LONGEST_REMEMBERED_PATH:
            memory.put(url_path, (answer, now))
        return answer

    def _leads_into_hidden(self, url_path: str) -> bool:
        """Whether the file system puts `url_path` in a hidden folder (symlinks followed)."""
        try:
            target = (self.directory / url_path.lstrip("/")).resolve()
        except (OSError, ValueError):
            return True
        return any(target == folder or folder in target.parents for folder in self.hidden)

    def _resolve(self, url_path: str) -> Path | None:
        """The HTML file for a URL path, if it is one inside the folder."""
        relative = url_path.lstrip("/")
        if "\x00" in relative or any(part == ".." for part in relative.split("/")):
            return None
        candidates = []
        if relative == "" or relative.endswith("/"):
            candidates.append(relative + "index.html")
        elif relative.endswith(".html"):
            candidates.append(relative)
        else:
            candidates.extend([relative + ".html", relative + "/index.html"])
        for candidate in candidates:
            try:
                file = (self.directory / candidate).resolve()
                if file.is_file() and self.directory in file.parents:
                    return file
            except OSError:  # a name too long for the file system, say: no page of ours
                continue
        return None


async def _not_found(send: Any) -> None:
    await _plain(send, 404, "Not Found")


async def _plain(
    send: Any, status: int, text: str, extra: Mapping[str, str] | None = None
) -> None:
    """A short plain-text answer (what an app around StaticFiles would send for its errors)."""
    body = text.encode("utf-8")
    headers = [
        (b"content-type", b"text/plain; charset=utf-8"),
        (b"content-length", str(len(body)).encode()),
        *((name.lower().encode("latin-1"), value.encode("latin-1")) for name, value in (extra or {}).items()),
    ]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})


async def _lifespan(receive: Any, send: Any) -> None:
    """Nothing to set up; answering lifespan lets the middleware flush its sink on shutdown."""
    while True:
        message = await receive()
        if message["type"] == "lifespan.startup":
            await send({"type": "lifespan.startup.complete"})
        elif message["type"] == "lifespan.shutdown":
            await send({"type": "lifespan.shutdown.complete"})
            return
