"""Load benchmark: the demo home page served three ways, loaded by wrk, ratios printed.

(a) Starlette StaticFiles, no personalization; (b) `etalage serve` (pages from memory) with a
consenting visitor's full-history cookie; (c) StaticFiles wrapped in EtalageMiddleware, same
cookie. One uvicorn worker each, same flags; the server is pinned to core 0 and wrk to core 1
where `taskset` exists. Last line:
``serve_vs_staticfiles=<x> middleware_vs_staticfiles=<x> middleware_cpu_us=<µs>``.

Usage: python benchmarks/load_bench.py [--duration 10] [--connections 32]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench_apps import PAGES, RULES, SECRET, full_history_cookie  # noqa: E402

from tests.support.asgi import http_get_scope  # noqa: E402
from tests.support.ports import free_port, wait_for_port  # noqa: E402

BROWSER_UA = "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0 Safari/537.36"


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


def measure(
    name: str,
    argv: list[str],
    port: int,
    cookie: str | None,
    args: argparse.Namespace,
    env: dict[str, str],
) -> dict[str, float]:
    proc = serve(argv, port, env)
    try:
        url = f"http://127.0.0.1:{port}/"
        run_wrk(url, cookie, 2, args.connections)  # warm-up: skeletons, UA cache, imports
        result = run_wrk(url, cookie, args.duration, args.connections)
    finally:
        proc.terminate()
        proc.wait(10)
    print(
        f"{name:<34} {result['rps']:>9.0f} req/s   p50 {result['p50']:>7.2f} ms   "
        f"p99 {result['p99']:>7.2f} ms   non-2xx {result['errors']:.0f}"
    )
    return result


def middleware_cpu_us(cookie: str, iterations: int = 3000) -> float:
    """In-process CPU µs per personalized request: cookie decode to body assembled."""
    from starlette.responses import Response

    body = (PAGES / "index.html").read_bytes()

    async def page(scope, receive, send):  # type: ignore[no-untyped-def]
        await Response(body, media_type="text/html", headers={"ETag": '"home"'})(
            scope, receive, send
        )

    from etalage.demo.catalog import fragment_globals
    from etalage.middleware import EtalageMiddleware

    app = EtalageMiddleware(
        page, rules=RULES, secret_keys=[SECRET], fragment_globals=fragment_globals()
    )
    scope = http_get_scope(
        "127.0.0.1",
        [
            (b"user-agent", b"Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 Chrome/120"),
            (b"cookie", cookie.encode()),
        ],
    )

    async def receive():  # type: ignore[no-untyped-def]
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message):  # type: ignore[no-untyped-def]
        return None

    async def run(n: int) -> None:
        for _ in range(n):
            await app(dict(scope), receive, send)

    asyncio.run(run(200))
    start = time.process_time()
    asyncio.run(run(iterations))
    return (time.process_time() - start) / iterations * 1e6


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--duration", type=int, default=10)
    parser.add_argument("--connections", type=int, default=32)
    args = parser.parse_args()
    if not shutil.which("wrk"):
        sys.exit("wrk is not installed: apt-get install wrk")
    env = dict(
        os.environ, ETALAGE_SECRET_KEYS=SECRET, PYTHONPATH=str(Path(__file__).resolve().parent)
    )
    cookie = full_history_cookie()
    print(
        f"cookie: {len(cookie)} bytes; {args.duration}s per run, {args.connections} "
        f"connections, server on core 0, wrk on core 1"
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
    port = free_port()
    a = measure(
        "(a) StaticFiles",
        [*uvicorn, "--port", str(port), "bench_apps:staticfiles_app"],
        port,
        None,
        args,
        env,
    )
    port = free_port()
    b = measure(
        "(b) etalage serve, full history",
        [
            sys.executable,
            "-m",
            "etalage.cli",
            "serve",
            str(PAGES),
            "--rules",
            str(RULES),
            "--fragment-globals",
            "etalage.demo.catalog:fragment_globals",
            "--port",
            str(port),
        ],
        port,
        cookie,
        args,
        env,
    )
    port = free_port()
    c = measure(
        "(c) StaticFiles + middleware",
        [*uvicorn, "--port", str(port), "bench_apps:middleware_app"],
        port,
        cookie,
        args,
        env,
    )
    cpu = middleware_cpu_us(cookie)
    print(f"middleware CPU per personalized request: {cpu:.0f} us")
    print(
        f"serve_vs_staticfiles={b['rps'] / a['rps']:.2f} "
        f"middleware_vs_staticfiles={c['rps'] / a['rps']:.2f} middleware_cpu_us={cpu:.0f}"
    )


if __name__ == "__main__":
    main()
