"""The test support itself: real servers start, answer and stop."""

from __future__ import annotations

import socket

import httpx
import pytest

from tests.support.ports import free_port
from tests.support.redis_server import RedisServer
from tests.support.servers import UvicornProcess


def test_uvicorn_process_serves_the_demo_app_and_stops():
    with UvicornProcess("etalage.demo:create_demo_app") as server:
        response = httpx.get(server.base_url + "/", timeout=10)
        assert response.status_code == 200
        assert "<html" in response.text.lower()
    with pytest.raises(httpx.ConnectError):
        httpx.get(server.base_url + "/", timeout=2)


def test_redis_server_answers_ping_and_restarts_empty():
    with RedisServer() as server:
        assert _redis(server.port, b"SET k v\r\n").startswith(b"+OK")
        server.restart()
        assert _redis(server.port, b"GET k\r\n").startswith(b"$-1")
    with pytest.raises(OSError):
        socket.create_connection(("127.0.0.1", server.port), timeout=1)


def test_free_port_is_bindable():
    port = free_port()
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", port))


def _redis(port: int, command: bytes) -> bytes:
    with socket.create_connection(("127.0.0.1", port), timeout=5) as sock:
        sock.sendall(command)
        return sock.recv(1024)
