"""Hot reload: a changed rule file is picked up; a broken edit keeps the last good rules."""

from __future__ import annotations

import logging
import os

from etalage.rules import ReloadingRuleset

GOOD = "version: 1\nrules:\n  - {id: a, slot: hero, hide: true}\n"
OTHER = "version: 1\nrules:\n  - {id: b, slot: hero, hide: true}\n"


class FakeMonotonic:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def write(path, text, mtime):
    path.write_text(text)
    os.utime(path, ns=(mtime, mtime))


def test_changed_file_is_picked_up_after_the_interval(tmp_path):
    path = tmp_path / "rules.yaml"
    write(path, GOOD, 1_000_000_000)
    clock = FakeMonotonic()
    rules = ReloadingRuleset(path, monotonic=clock)
    write(path, OTHER, 2_000_000_000)
    clock.now += 0.5
    assert rules.current().rules[0].id == "a"  # checked at most once a second
    clock.now += 0.6
    assert rules.current().rules[0].id == "b"


def test_broken_edit_keeps_last_good_rules_and_logs_one_error(tmp_path, caplog):
    path = tmp_path / "rules.yaml"
    write(path, GOOD, 1_000_000_000)
    clock = FakeMonotonic()
    rules = ReloadingRuleset(path, monotonic=clock)
    write(path, GOOD.replace("hide: true", "hide: maybe"), 2_000_000_000)
    with caplog.at_level(logging.ERROR, logger="etalage"):
        for _ in range(3):
            clock.now += 1.5
            assert rules.current().rules[0].id == "a"
    errors = [r for r in caplog.records if r.levelno == logging.ERROR]
    assert len(errors) == 1
    assert "rules.yaml:3: rules[0].hide: must be true" in errors[0].getMessage()
