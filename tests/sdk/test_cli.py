"""The `etalage` command line: check and explain."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from etalage.cli import main

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = ROOT / "docs" / "examples" / "site.yaml"
VISITOR = ROOT / "docs" / "examples" / "visitor.json"


def test_check_accepts_the_readme_example(capsys):
    assert main(["check", str(EXAMPLE)]) == 0
    out = capsys.readouterr().out
    assert "continue-search" in out and "needs consent" in out
    assert out.strip().endswith("ok: 3 rules, 0 warnings")


def test_the_readme_shows_the_example_rule_file_as_it_is():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert "```yaml\n" + EXAMPLE.read_text(encoding="utf-8") + "```" in readme
    assert "etalage check docs/examples/site.yaml" in readme


def test_check_reports_errors_with_file_and_line(tmp_path, capsys):
    broken = tmp_path / "site.yaml"
    broken.write_text(EXAMPLE.read_text().replace("$lt: 7", "'$gte ': 7"))
    assert main(["check", str(broken)]) == 1
    err = capsys.readouterr().err
    assert f"{broken}:14: rules[0].when: unknown operator '$gte '" in err


def test_check_reports_missing_fragments(tmp_path, capsys):
    rules = tmp_path / "site.yaml"
    rules.write_text(EXAMPLE.read_text())
    assert main(["check", str(rules)]) == 1
    assert "hero/continue_search.html" in capsys.readouterr().err


def rules_with_fragment_a(folder: Path, text: str) -> Path:
    """A rule file `text` in `folder`, beside a fragments folder holding ``a.html``."""
    (folder / "fragments").mkdir()
    (folder / "fragments" / "a.html").write_text("A")
    rules = folder / "site.yaml"
    rules.write_text(text)
    return rules


def test_check_warns_about_shadowed_rules_and_missing_slots(tmp_path, capsys):
    rules = rules_with_fragment_a(
        tmp_path,
        "version: 1\nrules:\n"
        "  - {id: always, slot: hero, fragment: a.html, priority: 5}\n"
        "  - {id: never, slot: hero, fragment: a.html, when: {device.type: mobile}}\n"
        "  - {id: lost, slot: sidebar, fragment: a.html}\n"
    )
    site = tmp_path / "site"
    site.mkdir()
    (site / "index.html").write_text('<div data-slot="hero">x</div>')
    assert main(["check", str(rules), "--site", str(site)]) == 0
    out = capsys.readouterr().out
    assert "rule 'never' can never win" in out
    assert "slot 'sidebar'" in out and "not found in any page" in out
    assert "contextual" in out


def test_an_unconditioned_rule_that_needs_consent_shadows_lower_ones_that_do(tmp_path, capsys):
    rules = rules_with_fragment_a(
        tmp_path,
        "version: 1\nrules:\n"
        "  - {id: sort, slot: nav, reorder: {by: interest}, priority: 5}\n"
        "  - {id: hideit, slot: nav, hide: true, when: {visits.count: {$gte: 2}}}\n"
        "  - {id: phones, slot: nav, fragment: a.html, when: {device.type: mobile}}\n"
    )
    assert main(["check", str(rules)]) == 0
    out = capsys.readouterr().out
    assert "rule 'hideit' can never win: rule 'sort'" in out
    assert "for every consenting visitor" in out
    assert "rule 'phones' can never win" not in out  # it still wins without consent


def test_a_slot_found_only_in_fragments_or_templates_is_still_missing(tmp_path, capsys):
    site = tmp_path / "site"
    (site / "rules").mkdir(parents=True)
    (site / "fragments").mkdir()
    (site / "templates").mkdir()
    (site / "fragments" / "a.html").write_text('<div data-slot="sidebar">in a fragment</div>')
    (site / "templates" / "base.html").write_text('<div data-slot="sidebar">{{ x }}</div>')
    (site / "index.html").write_text('<div data-slot="hero">x</div>')
    rules = site / "rules" / "site.yaml"
    rules.write_text(
        "version: 1\nsite: {fragments: ../fragments}\nrules:\n"
        "  - {id: lost, slot: sidebar, fragment: a.html}\n"
    )
    assert main(["check", str(rules), "--site", str(site)]) == 0
    assert "slot 'sidebar' (rules lost) is not found in any page" in capsys.readouterr().out


def test_explain_prints_clauses_actual_values_and_the_winner(tmp_path, capsys):
    visitor = tmp_path / "v.json"
    visitor.write_text(
        json.dumps({"consent.personalization": True, "search.last.age_days": 2, "visits.count": 1})
    )
    code = main(["explain", str(EXAMPLE), "--visitor", str(visitor), "--slots", "hero"])
    assert code == 0
    out = capsys.readouterr().out
    assert "slot hero:" in out
    assert "continue-search (priority 10, needs consent): matches" in out
    assert '[true ] search.last.age_days {"$exists": true, "$lt": 7}  actual=2' in out
    assert "welcome-back (priority 5, needs consent): does not match" in out
    assert "=> continue-search: You searched for this recently." in out


def test_explain_shows_the_values_inside_logical_operators(tmp_path, capsys):
    rules = rules_with_fragment_a(
        tmp_path,
        "version: 1\nrules:\n"
        "  - id: loyal\n    slot: price\n    fragment: a.html\n"
        "    when: {$or: [{lifecycle: customer}, {purchases.count: {$gte: 1}, visits.count: 3}]}\n"
    )
    visitor = tmp_path / "v.json"
    visitor.write_text(
        json.dumps({"consent.personalization": True, "lifecycle": "new", "purchases.count": 2})
    )
    assert main(["explain", str(rules), "--visitor", str(visitor)]) == 0
    out = capsys.readouterr().out
    assert "      [false] $or\n" in out
    assert '          [false] lifecycle "customer"  actual="new"' in out
    assert "          [false] $or[1]\n" in out
    assert '              [true ] purchases.count {"$gte": 1}  actual=2' in out
    assert "              [false] visits.count 3  actual=null" in out


def test_explain_without_consent_shows_the_gate(tmp_path, capsys):
    visitor = tmp_path / "v.json"
    visitor.write_text(json.dumps({"search.last.age_days": 2}))
    assert main(["explain", str(EXAMPLE), "--visitor", str(visitor), "--slots", "hero"]) == 0
    out = capsys.readouterr().out
    assert "blocked: needs consent" in out
    assert "=> default content" in out


def test_explain_derives_recency_from_a_history_at_a_given_time(capsys):
    args = ["explain", str(EXAMPLE), "--visitor", str(VISITOR), "--slots", "hero"]
    assert main([*args, "--at", "2026-12-01T10:00"]) == 0
    assert "=> continue-search" in capsys.readouterr().out
    assert main([*args, "--at", "2026-12-20T10:00"]) == 0
    assert "=> welcome-back" in capsys.readouterr().out


@pytest.mark.parametrize("bad", ["{not json", "[1, 2]"])
def test_explain_rejects_a_bad_visitor_file(tmp_path, capsys, bad):
    visitor = tmp_path / "v.json"
    visitor.write_text(bad)
    assert main(["explain", str(EXAMPLE), "--visitor", str(visitor)]) == 1
    assert "error:" in capsys.readouterr().err


def test_version(capsys):
    with pytest.raises(SystemExit) as exit_:
        main(["--version"])
    assert exit_.value.code == 0
    assert re.fullmatch(r"etalage \d+\.\d+\.\d+\S*\n", capsys.readouterr().out)


@pytest.mark.parametrize("command", ["serve", "demo", "check", "explain", "report"])
def test_every_option_has_help(command, capsys):
    with pytest.raises(SystemExit):
        main([command, "--help"])
    out = capsys.readouterr().out
    options = re.findall(r"^  (--[a-z-]+)(.*)$", out, re.MULTILINE)
    assert options
    for name, rest in options:
        if name != "--help":
            assert rest.strip() or re.search(rf"{name}.*\n\s+\S", out), f"{command} {name}"
