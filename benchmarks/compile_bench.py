"""Micro benchmark of the page skeleton compiler: µs per `PageSkeleton.compile`.

A site that renders its pages per request (a CSRF token, a timestamp) gives the skeleton cache
a body it has not seen on every request, so each request pays one compile. Pages: the demo
home page (8 KB) and a product page, and the home page grown to 64 KB and 512 KB before most
of its slots, by a long product listing (tag-dense markup, the hard case: the compiler reads
every tag on its way to the slots) or by an article (paragraphs of text). Best of several
rounds, in-process, CPU time.

Then the page rendered anew per request: the home page with a fresh 32-hex CSRF token in its
head (as `bench_apps.home_page_template` renders it) and "N items in cart" in its header, fed
to a `SkeletonCache` under one page key as the middleware does: each new body recompiled from
the last one, beside a full compile of it and a hit on an unchanged body (with the skeleton's
digest, as a personalized answer reads it, and without).

Last line (the listing pages): ``compile_us_7k=<µs> compile_us_64k=<µs> compile_us_512k=<µs>``.

Usage: python benchmarks/compile_bench.py [--rounds 7]
"""

from __future__ import annotations

import argparse
import secrets
import time
import timeit
from collections.abc import Callable
from pathlib import Path

from etalage.middleware.skeleton import PageSkeleton
from etalage.middleware.skeleton_cache import SkeletonCache

PAGES = Path(__file__).resolve().parents[1] / "demo_site" / "pages"
_CARD_START, _CARD_END = b'<article class="card">', b"</article>"


def home_page() -> bytes:
    """The demo shop's home page, as served."""
    return (PAGES / "index.html").read_bytes()


def grown_page(size: int, article: bool = False) -> bytes:
    """The home page grown to `size` bytes at the top of its main content, before most of its
    slots: by a listing of its product cards, or by an article's paragraphs."""
    home = home_page()
    if article:
        block = b"<p>" + b"Quiet trails, bright snow and warm huts along the way. " * 8 + b"</p>\n"
        start, end = b'<article class="story">\n', b"</article>"
    else:
        block = home[home.index(_CARD_START) : home.rindex(_CARD_END) + len(_CARD_END)] + b"\n"
        start, end = b'<section class="listing"><div class="cards">\n', b"</div></section>"
    copies = max(1, (size - len(home)) // len(block))
    main = home.index(b">", home.index(b"<main")) + 1
    return home[:main] + start + block * copies + end + home[main:]


def rendered_home_page(items: int) -> bytes:
    """The home page as a site renders it per request: a new CSRF token in a meta tag of its
    head, and how many items the visitor's cart holds in its header."""
    head, tail = home_page().split(b"</head>", 1)
    token = b'<meta name="csrf-token" content="%s">\n' % secrets.token_hex(16).encode()
    cart = b'<a class="cart-link" href="/cart">%d items in cart</a>' % items
    return (head + token + b"</head>" + tail).replace(
        b'<a class="cart-link" href="/cart">Cart</a>', cart
    )


def best_us(work: Callable[[], object], number: int, rounds: int) -> float:
    """Best CPU µs per call of `work`."""
    timer = timeit.Timer(work, timer=time.process_time)
    return min(timer.repeat(number=number, repeat=rounds)) / number * 1e6


def compile_us(page: bytes, rounds: int) -> float:
    """Best CPU µs per compile of `page`."""
    return best_us(lambda: PageSkeleton.compile(page), max(3, 300_000 // len(page)), rounds)


def per_request_us(rounds: int) -> dict[str, float]:
    """CPU µs per body of the home page rendered anew per request: a full compile, a recompile
    through the skeleton cache (without and with the digest), and a cache hit."""
    bodies = [rendered_home_page(items % 12) for items in range(400)]
    cache = SkeletonCache()

    def recompile(digest: bool) -> Callable[[], None]:
        def run() -> None:
            for body in bodies:
                skeleton = cache.compile(body, None, page_key="/")
                if digest:
                    skeleton.digest  # noqa: B018 (made on first use)

        return run

    hit = bodies[0]
    results = {
        "full": compile_us(hit, rounds),
        "recompile": best_us(recompile(False), 1, rounds) / len(bodies),
        "recompile+digest": best_us(recompile(True), 1, rounds) / len(bodies),
    }
    cache.compile(hit, None, page_key="/").digest  # noqa: B018
    results["hit"] = best_us(lambda: cache.compile(hit, None, page_key="/").digest, 2000, rounds)
    assert not cache.fallbacks, cache.fallbacks  # every new body was recompiled
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=7)
    args = parser.parse_args()
    pages = {
        "home": home_page(),
        "product": (PAGES / "product" / "cp-201.html").read_bytes(),
        "listing 64k": grown_page(64 * 1024),
        "listing 512k": grown_page(512 * 1024),
        "article 64k": grown_page(64 * 1024, article=True),
        "article 512k": grown_page(512 * 1024, article=True),
    }
    results = {}
    for name, page in pages.items():
        skeleton = PageSkeleton.compile(page)
        results[name] = compile_us(page, args.rounds)
        print(
            f"{name:<13} {len(page) / 1024:>6.0f} KB  {len(skeleton.slots):>3} slots  "
            f"compile {results[name]:>8.0f} us"
        )
    request = per_request_us(args.rounds)
    print(
        f"per request   {len(rendered_home_page(0)) / 1024:>6.0f} KB  token+cart  "
        f"compile {request['full']:>8.0f} us  recompile {request['recompile']:.1f} us "
        f"(+digest {request['recompile+digest']:.1f} us)  hit {request['hit']:.1f} us"
    )
    print(
        f"compile_us_7k={results['home']:.0f} compile_us_64k={results['listing 64k']:.0f} "
        f"compile_us_512k={results['listing 512k']:.0f}"
    )


if __name__ == "__main__":
    main()
