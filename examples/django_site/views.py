"""Harbour Books' views: plain Django, unaware of etalage except for one recorded event."""

from __future__ import annotations

import mimetypes
from pathlib import Path
from typing import Any

from django import forms
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect, JsonResponse
from django.shortcuts import render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_POST

BOOKS = [
    {
        "slug": "tide-and-time",
        "title": "Tide and Time",
        "topic": "sea",
        "summary": "Why the sea comes in twice a day, and how harbours live with it.",
    },
    {
        "slug": "the-puffin-year",
        "title": "The Puffin Year",
        "topic": "birds",
        "summary": "One colony, twelve months, a great many fish.",
    },
    {
        "slug": "gulls-of-the-north",
        "title": "Gulls of the North",
        "topic": "birds",
        "summary": "Telling a herring gull from its cousins, at last.",
    },
    {
        "slug": "the-harbour-kitchen",
        "title": "The Harbour Kitchen",
        "topic": "cooking",
        "summary": "Fish stews, salt cod and what to do with a bucket of mussels.",
    },
]
TOPICS = {"sea": "The sea", "birds": "Birds", "cooking": "Cooking"}

# The few static files, read once. `django.views.static.serve` streams a file synchronously,
# which Django's ASGI handler warns about; in production whitenoise or the web server serves them.
STATIC = {
    file.name: (file.read_bytes(), mimetypes.guess_type(file.name)[0] or "application/octet-stream")
    for file in (Path(__file__).resolve().parent / "static").iterdir()
    if file.is_file()
}


class NewsletterForm(forms.Form):
    email = forms.EmailField(max_length=200)


def _page(request: HttpRequest, name: str, status: int = 200, **context: Any) -> HttpResponse:
    topics = [
        {"slug": slug, "name": label, "url": f"{reverse('search')}?q={slug}"}
        for slug, label in TOPICS.items()
    ]
    return render(request, name, {"topics": topics, **context}, status=status)


@require_GET
def home(request: HttpRequest) -> HttpResponse:
    return _page(request, "home.html", books=BOOKS, form=NewsletterForm())


@require_GET
def book(request: HttpRequest, slug: str) -> HttpResponse:
    found = next((b for b in BOOKS if b["slug"] == slug), None)
    if found is None:
        return _page(request, "not_found.html", status=404)
    return _page(request, "book.html", book=found)


@require_GET
def search(request: HttpRequest) -> HttpResponse:
    # etalage records `q` (site.search_param) for a consenting visitor; the view only searches.
    q = request.GET.get("q", "").strip()
    term = q.lower()
    hits = [b for b in BOOKS if term and term in (b["title"] + b["summary"] + b["topic"]).lower()]
    return _page(request, "search.html", q=q, hits=hits)


@require_POST
def newsletter(request: HttpRequest) -> HttpResponse:
    """Subscribe (a real shop would keep the address); Django's CSRF check runs first."""
    form = NewsletterForm(request.POST)
    if not form.is_valid():
        return _page(request, "home.html", status=400, books=BOOKS, form=form)
    # Only that it happened, never the address: kept with consent, and a conversion.
    state = getattr(request, "scope", {}).get("etalage")
    if state is not None:
        state.record_event("subscribe")
    return HttpResponseRedirect(reverse("home"), status=303)


@require_GET
def api_books(request: HttpRequest) -> JsonResponse:
    answer = JsonResponse(BOOKS, safe=False)
    answer["Cache-Control"] = "public, max-age=60"
    return answer


@require_GET
def static_file(request: HttpRequest, name: str) -> HttpResponse:
    if name not in STATIC:
        raise Http404("no such file")
    content, content_type = STATIC[name]
    answer = HttpResponse(content, content_type=content_type)
    answer["Cache-Control"] = "public, max-age=3600"
    return answer
