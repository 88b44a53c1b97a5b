"""`RedisServer`: a throw-away redis-server on a free port (no persistence)."""

from __future__ import annotations

import shutil
import subprocess
import time
from types import TracebackType

from .ports import free_port, wait_for_port


def redis_binary() -> str | None:
    """The redis-server executable, if installed."""
    return shutil.which("redis-server") or shutil.which("redis-server", path="/usr/bin:/usr/sbin")


class RedisServer:
    """Start, stop and restart a real redis-server; `url` is ``redis://127.0.0.1:<port>/0``."""

    def __init__(self, port: int | None = None) -> None:
        binary = redis_binary()
        if binary is None:
            raise RuntimeError("redis-server not found: run `make system-deps`")
        self.binary = binary
        self.port = port or free_port()
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> RedisServer:
        self.process = subprocess.Popen(
            [
                self.binary,
                "--port",
                str(self.port),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "no",
                "--protected-mode",
                "no",
            ],  # fmt: skip
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        wait_for_port(self.port, process=self.process)
        return self

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.kill()
            self.process.wait(timeout=5)
        self.process = None

    def restart(self, pause: float = 0.0) -> None:
        """Stop, wait `pause` seconds, and start again on the same port (data is gone): the
        soak benchmark keeps Redis down for a while; tests restart it at once."""
        self.stop()
        time.sleep(pause)
        self.start()

    def __enter__(self) -> RedisServer:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()
