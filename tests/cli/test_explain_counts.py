"""`etalage explain` on counts within windows, the current visit and ``take: N`` slots."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from etalage.cli import main
from etalage.cli.visitor_file import VisitorFileError, read_visitor
from tests.support.clocks import START

RULES = """\
version: 1
site: {name: explain-counts, timezone: UTC}
rules:
  - id: keen-hiker
    slot: hero
    fragment: keen.html
    when: {views.topic.hiking.7d: {$gte: 3}, searches.term.tent.30d: {$gte: 1}}
  - id: from-newsletter
    slot: banner
    fragment: news.html
    when: {visit.utm_source: spring, visit.pages: {$gte: 2}}
"""


@pytest.fixture
def rules(tmp_path: Path) -> Path:
    (tmp_path / "fragments").mkdir()
    for name in ("keen.html", "news.html"):
        (tmp_path / "fragments" / name).write_text("<p>hi</p>")
    path = tmp_path / "site.yaml"
    path.write_text(RULES)
    return path


def visitor_file(tmp_path: Path, history: dict) -> Path:
    path = tmp_path / "visitor.json"
    path.write_text(json.dumps({"consent": {"personalization": True}, "history": history}))
    return path


HISTORY = {
    "views": [
        {"path": "/trips/alps", "topic": "hiking", "at": "2026-11-25T10:00"},
        {"path": "/trips/alps", "topic": "hiking", "at": "2026-11-30T10:00"},
        {"path": "/trips/dolomites", "topic": "hiking", "at": "2026-12-01T08:30"},
        {"path": "/trips/old", "topic": "hiking", "at": "2026-11-10T08:30"},
    ],
    "searches": [{"term": "Tent", "at": "2026-11-20T10:00"}],
    "visit": {"started": "2026-12-01T08:20", "pages": 3, "utm_source": "spring"},
}


def test_a_count_is_explained_in_words(rules, tmp_path, capsys):
    visitor = visitor_file(tmp_path, HISTORY)
    args = ["--visitor", str(visitor), "--at", START.isoformat(), "--slots", "hero"]
    assert main(["explain", str(rules), *args]) == 0
    out = capsys.readouterr().out
    assert '[true ] views.topic.hiking.7d {"$gte": 3}  actual=3' in out
    assert "viewed topic hiking 3 times in the last 7 days" in out
    assert '[true ] searches.term.tent.30d {"$gte": 1}  actual=1' in out
    assert "searched for 'tent' once in the last 30 days" in out
    assert "=> keen-hiker" in out


def test_the_current_visit_is_explained_in_words(rules, tmp_path, capsys):
    visitor = visitor_file(tmp_path, HISTORY)
    args = ["--visitor", str(visitor), "--at", START.isoformat(), "--slots", "banner"]
    assert main(["explain", str(rules), *args]) == 0
    out = capsys.readouterr().out
    assert '[true ] visit.utm_source "spring"  actual="spring"' in out
    assert "this visit came with utm_source 'spring'" in out
    assert "3 pages viewed in this visit, this one included" in out
    assert "=> from-newsletter" in out


def test_a_visit_that_ended_has_no_facts(rules, tmp_path, capsys):
    visitor = visitor_file(tmp_path, HISTORY)
    args = ["--visitor", str(visitor), "--at", "2026-12-01T12:00Z", "--slots", "banner"]
    assert main(["explain", str(rules), *args]) == 0
    out = capsys.readouterr().out
    assert "no visit in progress" in out
    assert "=> default content" in out


@pytest.mark.parametrize(
    ("visit", "message"),
    [
        ({"pages": -1}, "history.visit.pages: must be a whole number of 0 or more, not -1"),
        ({"page": 2}, "history.visit: unknown key 'page', did you mean 'pages'?"),
        ({"started": "soon"}, "history.visit.started: not an ISO date-time: 'soon'"),
        ([], "history.visit: must be an object, not a list"),
    ],
)
def test_a_bad_visit_names_its_json_path(visit, message):
    with pytest.raises(VisitorFileError) as caught:
        read_visitor({"history": {"visit": visit}}, START.tzinfo)
    assert str(caught.value) == message


def test_a_take_n_slot_lists_its_placements_in_order(tmp_path, capsys):
    (tmp_path / "fragments").mkdir()
    for name in ("a", "b", "c"):
        (tmp_path / "fragments" / f"{name}.html").write_text(f"<li>{name}</li>")
    rules = tmp_path / "site.yaml"
    rules.write_text(
        "version: 1\nslots:\n  promos: {take: 2}\nrules:\n"
        "  - {id: promo-a, slot: promos, fragment: a.html, priority: 3, reason: First.}\n"
        "  - {id: promo-b, slot: promos, fragment: b.html, priority: 2}\n"
        "  - {id: promo-c, slot: promos, fragment: c.html, priority: 1}\n"
    )
    visitor = tmp_path / "visitor.json"
    visitor.write_text("{}")
    args = ["--visitor", str(visitor), "--slots", "promos", "--render"]
    assert main(["explain", str(rules), *args]) == 0
    out = capsys.readouterr().out
    assert "  => 1. promo-a: First.\n  => 2. promo-b: shown to every visitor\n" in out
    assert "  fragment a.html, b.html:\n    <li>a</li><li>b</li>" in out
