"""`etalage explain`: the profile page's JSON as a visitor, checked visitor files, why an entry
does not count, the site's time zone, and the rendered fragments."""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path

import pytest
from starlette.applications import Starlette
from starlette.responses import HTMLResponse
from starlette.routing import Route
from starlette.testclient import TestClient

from etalage.cli import main
from etalage.middleware import EtalageMiddleware
from tests.support.clients import consent, profile_json
from tests.support.clocks import START, Clock

DESKTOP = (
    "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/120.0 Safari/537.36"
)

RULES = """\
version: 1
site: {name: explain-site, search_param: q, timezone: Europe/Berlin}
history:
  search: {keep: 8, relevant_for: 14d}
  event: {relevant_for: 7d}
  interest: {half_life: 1d}
holdout: 0
rules:
  - id: continue-search
    slot: hero
    fragment: hero.html
    when: {search.last: {$exists: true}}
    priority: 10
    reason: You searched for this recently.
  - id: hikers
    slot: nav
    fragment: nav.html
    when: {interest.topics: {$in: [hiking]}}
  - id: subscribers
    slot: footer
    fragment: footer.html
    when: {event.subscribe.count: {$gte: 1}}
"""

FRAGMENTS = {
    "hero.html": (
        "<p>Continue your search for '{{ visitor['search.last'] }}' on {{ page.path }}</p>"
        '<a href="{{ why_url }}">Why this? ({{ rule.reason }})</a>'
    ),
    "nav.html": "<p>Trails{{ default }}</p>",
    "footer.html": "<p>{{ shop_name }} thanks you</p>",
}

PAGE = (
    "<!doctype html><html><head><title>Home</title>"
    '<meta name="etalage:topic" content="hiking"></head><body>'
    '<div data-slot="hero"><h1>Default hero</h1></div></body></html>'
)


def shop_globals() -> dict[str, str]:
    """The names fragments may use (``--fragment-globals tests.cli.test_explain:shop_globals``)."""
    return {"shop_name": "Outdoor Shop"}


@pytest.fixture
def rules(tmp_path: Path) -> Path:
    for name, text in FRAGMENTS.items():
        (tmp_path / "fragments" / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / "fragments" / name).write_text(text)
    path = tmp_path / "site.yaml"
    path.write_text(RULES)
    return path


def exported(rules: Path, tmp_path: Path, *, consenting: bool = True) -> Path:
    """A visitor who searched for 'tent' at `START`, as ``GET /_etalage/profile`` exports
    them an hour later, saved as `me.json`."""
    clock = Clock()
    upstream = Starlette(routes=[Route("/", lambda request: HTMLResponse(PAGE))])
    app = EtalageMiddleware(upstream, rules=rules, secret_keys=["test-key"], clock=clock)
    with TestClient(app, headers={"User-Agent": DESKTOP}) as client:
        if consenting:
            consent(client)
        assert client.get("/", params={"q": "tent"}).status_code == 200
        clock.now = START + timedelta(hours=1)
        data = profile_json(client)
    path = tmp_path / "me.json"
    path.write_text(json.dumps(data))
    return path


def write_visitor(tmp_path: Path, data: object) -> Path:
    path = tmp_path / "visitor.json"
    path.write_text(json.dumps(data))
    return path


def test_the_profile_export_is_read_as_the_visitors_history(rules, tmp_path, capsys):
    me = exported(rules, tmp_path)
    assert main(["explain", str(rules), "--visitor", str(me), "--slots", "hero"]) == 0
    out = capsys.readouterr().out
    assert out.startswith(
        "visitor at 2026-12-01T11:00:00+01:00 (Europe/Berlin), from a profile export\n"
    )
    assert '[true ] search.last {"$exists": true}  actual="tent"' in out
    assert "=> continue-search: You searched for this recently." in out


def test_the_exports_interests_and_consent_are_read(rules, tmp_path, capsys):
    me = exported(rules, tmp_path)
    assert main(["explain", str(rules), "--visitor", str(me), "--slots", "nav"]) == 0
    out = capsys.readouterr().out
    assert "hikers (priority 0, needs consent): matches" in out
    assert '[true ] interest.topics {"$in": ["hiking"]}  actual=["hiking"]' in out


def test_an_export_without_consent_holds_nothing_stored(rules, tmp_path, capsys):
    me = exported(rules, tmp_path, consenting=False)
    assert main(["explain", str(rules), "--visitor", str(me), "--slots", "hero"]) == 0
    out = capsys.readouterr().out
    assert "from a profile export with nothing stored" in out
    assert "continue-search (priority 10, needs consent): blocked: needs consent" in out


def test_a_search_past_relevant_for_says_why_it_does_not_count(rules, tmp_path, capsys):
    me = exported(rules, tmp_path)
    args = ["explain", str(rules), "--visitor", str(me), "--slots", "hero"]
    assert main([*args, "--at", "2026-12-16T11:00"]) == 0
    out = capsys.readouterr().out
    why = "search 'tent' is 15.0 days old; relevant_for is 14 days (at 2026-12-01 10:00 CET)"
    assert f"not counted:\n  - {why}\n" in out
    assert (
        f'[false] search.last {{"$exists": true}}  actual=null\n              not counted: {why}\n'
    ) in out
    assert "=> default content" in out


@pytest.mark.parametrize(
    ("history", "why"),
    [
        (
            {"searches": [{"term": "flight", "at": "2026-11-30T08:00", "valid_until": "2026-11-30T23:59"}]},
            "search 'flight' is past its valid_until 2026-11-30 23:59 CET",
        ),
        (
            {"events": [{"type": "subscribe", "at": "2026-11-20T10:00"}]},
            "event 'subscribe' is 11.0 days old; relevant_for is 7 days (at 2026-11-20 10:00 CET)",
        ),
        (
            {"interest": {"hiking": {"score": 1.0, "at": "2026-11-27T10:00"}}},
            "interest 'hiking' has decayed to 0.062, below 0.1 (half_life is 1 day)",
        ),
    ],
    ids=["search horizon", "event window", "interest decay"],
)  # fmt: skip
def test_each_kind_of_entry_that_does_not_count_says_why(rules, tmp_path, capsys, history, why):
    visitor = write_visitor(tmp_path, {"consent": {"personalization": True}, "history": history})
    args = ["explain", str(rules), "--visitor", str(visitor), "--at", "2026-12-01T10:00"]
    assert main(args) == 0
    out = capsys.readouterr().out
    assert f"  - {why}\n" in out
    assert f"        not counted: {why}\n" in out  # under the clause that reads it


def test_the_header_and_naive_times_are_in_the_site_time_zone(rules, tmp_path, capsys):
    visitor = write_visitor(tmp_path, {"consent": {"personalization": True}})
    assert (
        main(["explain", str(rules), "--visitor", str(visitor), "--at", "2026-07-01T08:00Z"]) == 0
    )
    assert capsys.readouterr().out.startswith(
        "visitor at 2026-07-01T10:00:00+02:00 (Europe/Berlin), from attributes only\n"
    )


def test_render_prints_each_winning_fragment_with_the_middlewares_context(rules, tmp_path, capsys):
    me = exported(rules, tmp_path)
    args = ["explain", str(rules), "--visitor", str(me), "--render", "--path", "/trips"]
    assert main([*args, "--slots", "hero,nav"]) == 0
    out = capsys.readouterr().out
    assert (
        "  => continue-search: You searched for this recently.\n"
        "  fragment hero.html:\n"
        "    <p>Continue your search for 'tent' on /trips</p>"
        '<a href="/_etalage/profile#rule-continue-search">'
        "Why this? (You searched for this recently.)</a>\n"
    ) in out
    assert "  fragment nav.html:\n    <p>Trails</p>" in out  # no page: `default` is empty


def test_render_uses_the_fragment_globals(rules, tmp_path, capsys):
    visitor = write_visitor(
        tmp_path,
        {
            "consent": {"personalization": True},
            "history": {"events": [{"type": "subscribe", "at": "2026-11-30T10:00"}]},
        },
    )
    args = ["explain", str(rules), "--visitor", str(visitor), "--slots", "footer", "--render"]
    args += ["--at", "2026-12-01T10:00"]
    assert main([*args, "--fragment-globals", "tests.cli.test_explain:shop_globals"]) == 0
    assert "  fragment footer.html:\n    <p>Outdoor Shop thanks you</p>" in capsys.readouterr().out


def test_render_reports_a_failing_fragment_and_exits_1(rules, tmp_path, capsys):
    (tmp_path / "fragments" / "hero.html").write_text("{{ 1 / 0 }}")
    visitor = write_visitor(tmp_path, {"consent": {"personalization": True}, "search.last": "x"})
    args = ["explain", str(rules), "--visitor", str(visitor), "--slots", "hero", "--render"]
    assert main(args) == 1
    out = capsys.readouterr().out
    assert "  fragment hero.html failed (the slot keeps its default):\n" in out
    assert "ZeroDivisionError" in out


@pytest.mark.parametrize(
    ("data", "error"),
    [
        ([1, 2], "must hold a JSON object, not a list"),
        ({"history": {"searches": [{"term": "a", "at": "2026-11-01"}, {"term": "b", "at": "2026-11-02"}, {"term": "c", "at": "yesterday"}]}},
         "history.searches[2].at: not an ISO date-time: 'yesterday'"),
        ({"history": {"searches": {"term": "tent"}}}, "history.searches: must be a list of objects, not an object"),
        ({"history": {"searches": [{"term": "tent"}]}}, "history.searches[0].at: missing (an ISO date-time)"),
        ({"history": {"searches": [{"trem": "tent", "at": "2026-11-01"}]}}, "history.searches[0]: unknown key 'trem', did you mean 'term'?"),
        ({"history": {"serches": []}}, "history: unknown key 'serches', did you mean 'searches'?"),
        ({"history": {"views": [{"path": 5, "at": "2026-11-01"}]}}, "history.views[0].path: must be text, not a number 5"),
        ({"history": {"visits": "3"}}, "history.visits: must be a whole number of 0 or more, not '3'"),
        ({"history": {"interest": {"hiking": "lots"}}}, "history.interest.hiking: must be a number of 0 or more, not 'lots'"),
        ({"history": {"cart": {"items": 1, "value": -2}}}, "history.cart.value: must be a number of 0 or more, not -2"),
        ({"history": []}, "history: must be an object, not a list"),
        ({"history": {}, "profile": {"i": "x"}}, "history, profile: give one of them, not both"),
        ({"profile": {"i": "x", "s": [["tent", "now"]]}}, "profile: not a compact profile: Expected `int`, got `str` - at `$.s[0][1]`"),
        ({"searches": [{"term": "tent"}]}, "searches[0]: an attribute's list holds plain values, not an object (history entries belong under 'history')"),
        ({"exposures": {"greet": "twice"}}, "exposures.greet: must be a whole number of 0 or more, not 'twice'"),
        ({"stored": {"searches": [{"term": "tent", "at": 3}]}, "holdout": False}, "stored.searches[0].at: not an ISO date-time: 3"),
        ({"stored": None, "holdout": "no"}, "holdout: must be true or false"),
    ],
)  # fmt: skip
def test_a_visitor_file_of_the_wrong_shape_is_an_error_naming_the_json_path(
    rules, tmp_path, capsys, data, error
):
    visitor = write_visitor(tmp_path, data)
    assert main(["explain", str(rules), "--visitor", str(visitor)]) == 1
    captured = capsys.readouterr()
    assert captured.err == f"error: {visitor}: {error}\n"
    assert captured.out == ""


def test_the_documented_visitor_file_is_valid(rules, capsys):
    example = Path(__file__).resolve().parents[2] / "docs" / "examples" / "visitor.json"
    assert main(["explain", str(rules), "--visitor", str(example), "--slots", "hero"]) == 0
    assert "from a history" in capsys.readouterr().out
