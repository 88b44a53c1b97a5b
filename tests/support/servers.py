"""`UvicornProcess`: an app served by a real uvicorn process on a free port."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path
from types import TracebackType

from .ports import free_port, wait_for_port

ROOT = Path(__file__).resolve().parents[2]


class UvicornProcess:
    """Run ``uvicorn <app>`` (an import string, ``--factory`` when `factory`) in a subprocess.

    Use as a context manager; `base_url` is ``http://127.0.0.1:<port>``. The server's output goes
    to `log_path` so a failing test can show it.
    """

    def __init__(
        self,
        app: str,
        *,
        factory: bool = True,
        env: Mapping[str, str] | None = None,
        workers: int = 1,
        port: int | None = None,
        extra_args: Sequence[str] = (),
        log_path: Path | None = None,
    ) -> None:
        self.app = app
        self.factory = factory
        self.env = dict(env or {})
        self.workers = workers
        self.port = port or free_port()
        self.extra_args = list(extra_args)
        self.log_path = log_path or ROOT / "test-artifacts" / f"uvicorn-{self.port}.log"
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> UvicornProcess:
        command = [
            sys.executable, "-m", "uvicorn", self.app,
            "--host", "127.0.0.1", "--port", str(self.port),
            "--workers", str(self.workers), "--log-level", "warning", "--no-access-log",
            *self.extra_args,
        ]  # fmt: skip
        if self.factory:
            command.append("--factory")
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        log = self.log_path.open("wb")
        env = {**os.environ, **self.env}
        self.process = subprocess.Popen(
            command, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
        )
        log.close()
        try:
            wait_for_port(self.port, process=self.process)
        except Exception:
            self.stop()
            raise RuntimeError(f"uvicorn did not start:\n{self.output()}") from None
        return self

    def output(self) -> str:
        """What the server printed so far."""
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""

    def stop(self) -> None:
        """Stop gracefully (SIGTERM to the process group, so workers go too), then kill."""
        process = self.process
        if process is None or process.poll() is not None:
            return
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait(timeout=5)

    def __enter__(self) -> UvicornProcess:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()
