"""A plain ASGI scope for driving an app directly, without a server or a test client."""

from __future__ import annotations

from typing import Any


def http_get_scope(host: str, headers: list[tuple[bytes, bytes]]) -> dict[str, Any]:
    """The scope of ``GET /`` on `host` (port 80) with `headers` after the Host header."""
    return {
        "type": "http",
        "method": "GET",
        "path": "/",
        "raw_path": b"/",
        "query_string": b"",
        "scheme": "http",
        "http_version": "1.1",
        "root_path": "",
        "server": (host, 80),
        "client": ("127.0.0.1", 5000),
        "headers": [(b"host", host.encode()), *headers],
    }
