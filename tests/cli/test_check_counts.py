"""`etalage check` knows the window counts, the facts of the current visit and `slots:`."""

from __future__ import annotations

from pathlib import Path

from etalage.cli import main

RULES = """\
version: 1
slots:
  promos: {label: Offers for you, take: 2}
rules:
  - id: keen
    slot: hero
    hide: true
    when: {views.topics.hiking.7d: {$gte: 3}, visit.pages: {$gte: 2}}
  - id: counted
    slot: nav
    hide: true
    when: {views.topic.hiking.45d: {$gte: 3}}
  - id: fine
    slot: promos
    fragment: promo.html
    when: {events.add_to_cart.7d: {$gte: 1}, visit.referrer: news.example}
"""


def test_check_names_a_mistyped_count_and_a_window_too_long(tmp_path: Path, capsys):
    (tmp_path / "fragments").mkdir()
    (tmp_path / "fragments" / "promo.html").write_text("<li>promo</li>")
    rules = tmp_path / "site.yaml"
    rules.write_text(RULES)
    main(["check", str(rules)])
    out = capsys.readouterr().out
    assert (
        "unknown attribute 'views.topics.hiking.7d' (did you mean 'views.topic.hiking.7d'?)" in out
    )
    assert "a count's window is 1d to 30d, e.g. 'views.topic.hiking.30d'" in out
    assert "events.add_to_cart.7d" not in out and "visit." not in out


def test_check_refuses_a_bad_take_with_file_and_line(tmp_path: Path, capsys):
    rules = tmp_path / "site.yaml"
    rules.write_text(RULES.replace("take: 2", "take: 0"))
    assert main(["check", str(rules)]) != 0
    captured = capsys.readouterr()
    assert f"{rules}:3: slots.promos.take: must be a whole number from 1 to 12, not 0" in (
        captured.out + captured.err
    )
