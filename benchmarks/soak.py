"""Soak: `etalage serve` with the Redis profile store and the JSON-lines sink, Redis killed midway.

Consents a few hundred visitors, then drives 20,000 page requests at concurrency 64 (an
asyncio client pinned to the other core; each request carries one visitor's cookie and asks
for a demo page, some with a search).
Halfway through, Redis is killed and started again. Afterwards the server is stopped cleanly
and the exposures in the JSON-lines file are counted: every personalized answer must have
written its exposures, Redis or not. Last line:
``requests=<n> errors_5xx=<n> exposures_written=<n> personalized_served=<n> p99_ms=<ms>``.

Usage: python benchmarks/soak.py [--requests 20000] [--visitors 300] [--connections 64]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from etalage.events import iter_events  # noqa: E402
from tests.support.ports import free_port, wait_for_port  # noqa: E402
from tests.support.redis_server import RedisServer  # noqa: E402

PAGES = ROOT / "demo_site" / "pages"
RULES = ROOT / "demo_site" / "rules" / "shop.yaml"
SECRET = "soak-secret"
PHONE = "Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) Mobile/15E148 Safari/604.1"


def demo_paths() -> list[str]:
    pages = sorted(p.relative_to(PAGES).as_posix() for p in PAGES.rglob("*.html"))
    paths = ["/" if p == "index.html" else "/" + p for p in pages]
    searches = ["/?q=tent", "/?q=headlamp", "/?q=kayak", "/?q=rope", "/?q=%3Cscript%3E"]
    return paths + searches + ["/"] * 6  # the home page is the most visited


def consent_visitors(base: str, count: int) -> list[str]:
    """Grant consent for `count` visitors; return their Cookie header values."""
    cookies = []
    with httpx.Client(base_url=base, timeout=10, headers={"User-Agent": PHONE}) as client:
        for _ in range(count):
            client.cookies.clear()
            response = client.post(
                "/_etalage/consent", json={"personalization": True}, headers={"Origin": base}
            )
            response.raise_for_status()
            client.get("/category/hiking.html")
            cookies.append("; ".join(f"{k}={v}" for k, v in client.cookies.items()))
    return cookies


def pinned(core: int, argv: list[str]) -> list[str]:
    return ["taskset", "-c", str(core), *argv] if shutil.which("taskset") else argv


@dataclass
class Tally:
    """What the load driver saw."""

    responses: int = 0
    errors_5xx: int = 0
    transport_errors: int = 0
    personalized: int = 0
    latencies: list[float] = field(default_factory=list)


async def _get(
    reader: asyncio.StreamReader, writer: asyncio.StreamWriter, host: str, path: str, cookie: str
) -> tuple[int, dict[str, str]]:
    """One keep-alive HTTP/1.1 GET on an open connection: (status, lower-cased headers).

    A hand-written client: httpx costs the load generator more CPU per request than the server
    spends, which would measure the client's queueing instead of the server's latency.
    """
    writer.write(
        f"GET {path} HTTP/1.1\r\nHost: {host}\r\nUser-Agent: {PHONE}\r\n"
        f"Cookie: {cookie}\r\nAccept: text/html\r\n\r\n".encode("latin-1")
    )
    head = await reader.readuntil(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    status = int(lines[0].split(" ", 2)[1])
    headers = {}
    for line in lines[1:]:
        name, _, value = line.partition(":")
        if name:
            headers[name.strip().lower()] = value.strip()
    await reader.readexactly(int(headers.get("content-length", "0")))
    return status, headers


async def drive(
    base: str, cookies: list[str], total: int, connections: int, on_half: Callable[[], None]
) -> Tally:
    """Send `total` GETs over `connections` keep-alive connections; call `on_half` midway."""
    paths = demo_paths()
    rng = random.Random(7)
    plan = [(rng.choice(cookies), rng.choice(paths)) for _ in range(total)]
    queue: asyncio.Queue[tuple[str, str]] = asyncio.Queue()
    for item in plan:
        queue.put_nowait(item)
    tally = Tally()
    half = total // 2
    host = base.removeprefix("http://")
    address, port = host.rsplit(":", 1)

    async def worker() -> None:
        reader, writer = await asyncio.open_connection(address, int(port))
        try:
            while not queue.empty():
                cookie, path = queue.get_nowait()
                start = time.perf_counter()
                try:
                    status, headers = await asyncio.wait_for(
                        _get(reader, writer, host, path, cookie), timeout=10
                    )
                except (OSError, asyncio.IncompleteReadError, TimeoutError, ValueError):
                    tally.transport_errors += 1
                    writer.close()
                    reader, writer = await asyncio.open_connection(address, int(port))
                    continue
                tally.latencies.append(time.perf_counter() - start)
                tally.responses += 1
                if tally.responses == half:
                    on_half()
                if status >= 500:
                    tally.errors_5xx += 1
                if status == 200 and "etalage" in headers.get("server-timing", ""):
                    tally.personalized += 1
        finally:
            writer.close()

    await asyncio.gather(*(worker() for _ in range(connections)))
    return tally


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=20_000)
    parser.add_argument("--visitors", type=int, default=300)
    parser.add_argument("--connections", type=int, default=64)
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="etalage-soak-"))
    events = work / "events.jsonl"
    redis = RedisServer().start()
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    env = {**os.environ, "ETALAGE_SECRET_KEYS": SECRET}
    server = subprocess.Popen(
        pinned(
            0,
            [
                sys.executable,
                "-m",
                "etalage.cli",
                "serve",
                str(PAGES),
                "--rules",
                str(RULES),
                "--fragment-globals",
                "etalage.demo.shop_globals:fragment_globals",
                "--profile-store",
                redis.url,
                "--events",
                str(events),
                "--port",
                str(port),
            ],
        ),  # fmt: skip
        env=env,
        stdout=(work / "server.log").open("wb"),
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    outage: list[threading.Thread] = []

    def kill_redis_for_a_second() -> None:
        thread = threading.Thread(target=redis.restart, kwargs={"pause": 1.0})
        thread.start()
        outage.append(thread)

    try:
        wait_for_port(port, process=server)
        cookies = consent_visitors(base, args.visitors)
        os.sched_setaffinity(0, {1}) if hasattr(os, "sched_setaffinity") else None
        tally = asyncio.run(
            drive(base, cookies, args.requests, args.connections, kill_redis_for_a_second)
        )
        for thread in outage:
            thread.join()
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        server.wait(timeout=30)
        redis.stop()
    answers: set[str] = set()
    for event in iter_events(str(events)):  # rotated backups included (50 MB per file)
        if event.get("type") == "exposure":
            answers.add(event["answer"])
    exposures_written = len(answers) - args.visitors  # the consent walk viewed one page each
    log = (work / "server.log").read_text(errors="replace")
    for line in log.splitlines():
        if "unavailable" in line or "is back" in line:
            print("server: " + line[:160])
    latencies = sorted(tally.latencies)
    p99 = latencies[int(len(latencies) * 0.99) - 1] * 1000 if latencies else 0.0
    p50 = latencies[len(latencies) // 2] * 1000 if latencies else 0.0
    print(
        f"{tally.responses} responses, {tally.transport_errors} transport errors, "
        f"p50 {p50:.1f} ms; events in {events}"
    )
    print(
        f"requests={tally.responses} errors_5xx={tally.errors_5xx} "
        f"exposures_written={exposures_written} personalized_served={tally.personalized} "
        f"p99_ms={p99:.1f}"
    )


if __name__ == "__main__":
    main()
