"""Load benchmark: the demo home page served several ways, loaded by wrk, ratios printed.

(a) Starlette StaticFiles, no personalization; (b) `etalage serve` (pages from memory) with a
consenting visitor's full-history cookie; (c) StaticFiles wrapped in EtalageMiddleware, same
cookie; the site's CSS is loaded from (a) and (c) too. A server-rendered site: (d) a Starlette
app rendering the home page from a Jinja2 template with a fresh CSRF token per request, so
every page is new to the middleware, and (e) the same app wrapped in EtalageMiddleware. One
uvicorn worker each, same flags; the server is pinned to core 0 and wrk to core 1 where
`taskset` exists. Every request carries a browser User-Agent (wrk's own is a bot's).

In-process CPU per personalized page, cookie decoded to body assembled: distinct visitors,
each sending the cookies its previous answer set, each visitor's requests alternating between
two middleware instances (two workers behind a load balancer, so no memo of the cookie just
signed can help); `middleware_cpu_us_single` is the same on one instance, and
`middleware_cpu_us_cold` the same as `middleware_cpu_us` with 8 MB of memory written between
requests (outside the timing): a server runs its own code between two pages, and what it
leaves of the page path in the CPU caches is closer to that than to a tight loop.
`dynamic_cpu_us` is the server-rendered page measured the same way (rendering included).

Lines before the last: ``asset_vs_staticfiles=<x>``, ``dynamic_vs_plain=<x>
dynamic_cpu_us=<µs>`` and ``middleware_cpu_us_single=<µs> middleware_cpu_us_cold=<µs>``.
Last line: ``serve_vs_staticfiles=<x> middleware_vs_staticfiles=<x> middleware_cpu_us=<µs>``.

The servers all run at once and are loaded in interleaved rounds, the best round of each
counting (see `measure_interleaved`): on this noisy machine a ratio of two runs minutes apart
moved by several percent.

Usage: python benchmarks/load_bench.py [--duration 4] [--rounds 3] [--connections 32]
"""

from __future__ import annotations

import argparse
import asyncio
import functools
import os
import re
import shutil
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench_apps import (  # noqa: E402
    PAGES,
    RULES,
    SECRET,
    full_history_cookie,
    rendering_app,
    with_middleware,
)

from tests.support.asgi import http_get_scope  # noqa: E402
from tests.support.ports import free_port, wait_for_port  # noqa: E402

BROWSER_UA = "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0 Safari/537.36"
CSS = "/static/shop.css"
#: Memory written between requests for `middleware_cpu_us_cold`: more than this machine's
#: per-core L2 cache, so each request starts as after a server's own work in between.
COLD_SWEEP_BYTES = 8 << 20


def pinned(core: int, argv: list[str]) -> list[str]:
    return ["taskset", "-c", str(core), *argv] if shutil.which("taskset") else argv


def run_wrk(url: str, cookie: str | None, duration: int, connections: int) -> dict[str, float]:
    argv = ["wrk", "-t", "1", "-c", str(connections), "-d", f"{duration}s", "--latency", url]
    argv[1:1] = ["-H", f"User-Agent: {BROWSER_UA}"]  # wrk sends none: that is a bot, canonical
    if cookie:
        argv[1:1] = ["-H", f"Cookie: {cookie}"]
    out = subprocess.run(pinned(1, argv), capture_output=True, text=True, check=True).stdout
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))  # type: ignore[union-attr]
    non2xx = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", out)
    return {
        "rps": rps,
        "p50": _latency(out, "50%"),
        "p99": _latency(out, "99%"),
        "errors": float(non2xx.group(1)) if non2xx else 0.0,
    }


def _latency(out: str, label: str) -> float:
    match = re.search(rf"{re.escape(label)}\s+([\d.]+)(us|ms|s)", out)
    if not match:
        return float("nan")
    value, unit = float(match.group(1)), match.group(2)
    return value / 1000 if unit == "us" else value * 1000 if unit == "s" else value


def serve(argv: list[str], port: int, env: dict[str, str]) -> subprocess.Popen[bytes]:
    proc = subprocess.Popen(
        pinned(0, argv), env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
    )
    wait_for_port(port, timeout=30.0, process=proc)
    return proc


class Server:
    """One uvicorn (or `etalage serve`) process on a free port, pinned to core 0."""

    def __init__(self, name: str, argv: Callable[[int], list[str]], env: dict[str, str]) -> None:
        self.name = name
        self.port = free_port()
        self.process = serve(argv(self.port), self.port, env)

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.port}{path}"

    def stop(self) -> None:
        self.process.terminate()
        self.process.wait(10)


def measure_interleaved(
    runs: list[tuple[Server, str, str]], cookie: str, args: argparse.Namespace
) -> dict[tuple[str, str], dict[str, float]]:
    """wrk results per (server name, path label): the best of `args.rounds` rounds.

    Every server runs at once (the idle ones cost nothing) and each round loads every
    (server, path) in turn, so a slow spell of this noisy machine hits every side of a ratio
    alike instead of one of them; the round with the most requests per second counts.
    """
    for server, _, path in runs:
        run_wrk(server.url(path), cookie, 2, args.connections)  # warm-up: skeletons, imports
    best: dict[tuple[str, str], dict[str, float]] = {}
    for _ in range(args.rounds):
        for server, label, path in runs:
            result = run_wrk(server.url(path), cookie, args.duration, args.connections)
            key = (server.name, label)
            if key not in best or result["rps"] > best[key]["rps"]:
                best[key] = result
    for (name, label), result in best.items():
        print(
            f"{f'{name} {label}':<40} {result['rps']:>9.0f} req/s   "
            f"p50 {result['p50']:>7.2f} ms   p99 {result['p99']:>7.2f} ms   "
            f"non-2xx {result['errors']:.0f}"
        )
    return best


def cpu_us(
    apps: list[Any],
    visitors: int = 50,
    iterations: int = 3000,
    rounds: int = 3,
    *,
    sweep_bytes: int = 0,
) -> float:
    """In-process CPU µs per request of `apps`, cookie decoded to body assembled.

    `visitors` distinct visitors take turns; each sends the cookies its previous answer set
    (the full-history cookie at first), and its requests go to each of `apps` in turn. The
    best of `rounds` rounds of `iterations` requests counts (another process only adds).

    With `sweep_bytes`, that much memory is written before each request, outside the timing,
    so that each request starts with CPU caches as a server leaves them after its own work
    (its event loop, its other requests): only the requests are timed then.
    """
    jars = [_cookie_jar(cookie) for cookie in _visitor_cookies(visitors)]
    sweep, fill = bytearray(sweep_bytes), bytes(sweep_bytes)
    swept = [0.0]  # CPU seconds of the requests, when sweeping

    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def request(index: int) -> None:
        jar = jars[index % visitors]
        app = apps[index // visitors % len(apps)]
        cookie = "; ".join(f"{key}={value}" for key, value in jar.items()).encode()
        scope = http_get_scope(
            "127.0.0.1", [(b"user-agent", BROWSER_UA.encode()), (b"cookie", cookie)]
        )

        async def send(message: dict[str, Any]) -> None:
            if message["type"] == "http.response.start":
                for header, value in message.get("headers", ()):
                    if header.lower() == b"set-cookie":
                        key, _, rest = value.decode("latin-1").partition("=")
                        jar[key] = rest.split(";", 1)[0]

        if not sweep_bytes:
            await app(scope, receive, send)
            return
        sweep[:] = fill
        started = time.thread_time()
        await app(scope, receive, send)
        swept[0] += time.thread_time() - started

    async def run(start: int, count: int) -> None:
        for index in range(start, start + count):
            await request(index)

    asyncio.run(run(0, 4 * visitors))  # warm-up: skeletons, UA cache, fragments
    best = float("inf")
    for round_number in range(rounds):
        started, swept[0] = time.process_time(), 0.0
        asyncio.run(run(4 * visitors + round_number * iterations, iterations))
        best = min(best, swept[0] if sweep_bytes else time.process_time() - started)
    return best / iterations * 1e6


@functools.cache
def _visitor_cookies(visitors: int) -> tuple[str, ...]:
    return tuple(full_history_cookie(visitor=number) for number in range(visitors))


def _cookie_jar(header: str) -> dict[str, str]:
    return dict(part.strip().split("=", 1) for part in header.split(";"))


def static_page_app() -> Any:
    """The home page as a plain ASGI app (what StaticFiles answers, without the file system)."""
    from starlette.responses import Response

    body = (PAGES / "index.html").read_bytes()

    async def page(scope, receive, send):  # type: ignore[no-untyped-def]
        await Response(body, media_type="text/html", headers={"ETag": '"home"'})(
            scope, receive, send
        )

    return page


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--duration", type=int, default=4, help="seconds per wrk run")
    parser.add_argument("--rounds", type=int, default=3, help="interleaved rounds, best counts")
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--iterations", type=int, default=3000, help="in-process requests")
    args = parser.parse_args()
    if not shutil.which("wrk"):
        sys.exit("wrk is not installed: apt-get install wrk")
    env = dict(
        os.environ, ETALAGE_SECRET_KEYS=SECRET, PYTHONPATH=str(Path(__file__).resolve().parent)
    )
    cookie = full_history_cookie()
    print(
        f"cookie: {len(cookie)} bytes; best of {args.rounds} interleaved rounds of "
        f"{args.duration}s per run, {args.connections} connections, servers on core 0, "
        "wrk on core 1"
    )
    uvicorn = [
        sys.executable,
        "-m",
        "uvicorn",
        "--factory",
        "--workers",
        "1",
        "--log-level",
        "warning",
        "--no-access-log",
        "--host",
        "127.0.0.1",
    ]

    def app(factory: str) -> Callable[[int], list[str]]:
        return lambda port: [*uvicorn, "--port", str(port), f"bench_apps:{factory}"]

    def etalage_serve(port: int) -> list[str]:
        return [
            sys.executable,
            "-m",
            "etalage.cli",
            "serve",
            str(PAGES),
            "--rules",
            str(RULES),
            "--fragment-globals",
            "etalage.demo.shop_globals:fragment_globals",
            "--port",
            str(port),
        ]

    servers: dict[str, Server] = {}
    try:  # a server that fails to start stops the ones already running
        for key, name, argv in (
            ("a", "(a) StaticFiles", app("staticfiles_app")),
            ("b", "(b) etalage serve, full history", etalage_serve),
            ("c", "(c) StaticFiles + middleware", app("middleware_app")),
            ("d", "(d) Jinja2 page, fresh token", app("dynamic_app")),
            ("e", "(e) Jinja2 page + middleware", app("dynamic_middleware_app")),
        ):
            servers[key] = Server(name, argv, env)
        runs = [
            (servers[key], label, path)
            for key, label, path in (
                ("a", "page", "/"),
                ("b", "page", "/"),
                ("c", "page", "/"),
                ("a", "css", CSS),
                ("c", "css", CSS),
                ("d", "page", "/"),
                ("e", "page", "/"),
            )
        ]
        best = measure_interleaved(runs, cookie, args)
    finally:
        for server in servers.values():
            server.stop()

    def rps(key: str, label: str = "page") -> float:
        return best[(servers[key].name, label)]["rps"]

    iterations = args.iterations
    single = cpu_us([with_middleware(static_page_app())], iterations=iterations)
    cpu = cpu_us([with_middleware(static_page_app()) for _ in range(2)], iterations=iterations)
    plain = cpu_us([rendering_app()], iterations=iterations)
    dynamic = cpu_us([with_middleware(rendering_app()) for _ in range(2)], iterations=iterations)
    cold = cpu_us(
        [with_middleware(static_page_app()) for _ in range(2)],
        iterations=max(1, iterations // 3),
        sweep_bytes=COLD_SWEEP_BYTES,
    )
    print(
        f"in-process CPU per request: {cpu:.0f} us personalized (two instances), {single:.0f} us "
        f"(one instance), {cold:.0f} us with {COLD_SWEEP_BYTES >> 20} MB written between "
        f"requests; Jinja2 page {plain:.0f} us plain, {dynamic:.0f} us personalized"
    )
    print(f"asset_vs_staticfiles={rps('c', 'css') / rps('a', 'css'):.2f}")
    print(f"dynamic_vs_plain={rps('e') / rps('d'):.2f} dynamic_cpu_us={dynamic:.0f}")
    print(f"middleware_cpu_us_single={single:.0f} middleware_cpu_us_cold={cold:.0f}")
    print(
        f"serve_vs_staticfiles={rps('b') / rps('a'):.2f} "
        f"middleware_vs_staticfiles={rps('c') / rps('a'):.2f} "
        f"middleware_cpu_us={cpu:.0f}"
    )


if __name__ == "__main__":
    main()
