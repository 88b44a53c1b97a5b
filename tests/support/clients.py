"""What many tests do with a `TestClient` of an etalage site: give consent, read Set-Cookie."""

from __future__ import annotations

from typing import Any

from httpx import Response
from starlette.testclient import TestClient


def consent(client: TestClient, granted: bool = True) -> Response:
    """Answer the consent question (``POST /_etalage/consent`` as JSON); assert it was taken."""
    response = client.post(
        "/_etalage/consent",
        json={"personalization": granted},
        headers={"Accept": "application/json"},
    )
    assert response.status_code == 200
    return response


def set_cookies(response: Response) -> list[str]:
    """The answer's Set-Cookie header values, in order."""
    return response.headers.get_list("set-cookie")


def profile_json(client: TestClient) -> dict[str, Any]:
    """What the site remembers about the client's visitor (``GET /_etalage/profile`` as JSON)."""
    response = client.get("/_etalage/profile", headers={"Accept": "application/json"})
    assert response.status_code == 200
    data: dict[str, Any] = response.json()
    return data
