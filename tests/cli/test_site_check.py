"""`etalage check`: the typos it names, and the demo and the README example checking clean."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
import yaml

from etalage.cli import main
from etalage.cli.site_check import check_rules
from etalage.demo.shop_globals import fragment_globals

ROOT = Path(__file__).resolve().parents[2]
DEMO_RULES = ROOT / "demo_site" / "rules" / "shop.yaml"

RULES = """\
version: 1
rules:
  - id: continue-search
    slot: hero
    fragment: hero.html
    when: {search.last: {$exists: true}}
  - id: phones
    slot: layout
    hide: true
    when: {device.type: mobile}
  - id: sorted
    slot: nav
    reorder: {by: interest}
"""


def write_site(folder: Path, rules: str, fragments: dict[str, str]) -> Path:
    """A rule file in `folder` beside a fragments folder holding `fragments`."""
    for name, text in fragments.items():
        (folder / "fragments" / name).parent.mkdir(parents=True, exist_ok=True)
        (folder / "fragments" / name).write_text(text)
    path = folder / "site.yaml"
    path.write_text(rules)
    return path


@pytest.mark.parametrize(
    ("old", "new", "fragment", "warning"),
    [
        ("{search.last:", "{serch.last:", "Hi", "site.yaml:6: rules[0].when: unknown attribute 'serch.last' (did you mean 'search.last'?)"),
        ("{device.type: mobile}", "{device.type: phone}", "Hi", "site.yaml:10: rules[1].when: 'phone' is never a value of device.type (mobile, tablet, desktop)"),
        ("{by: interest}", "{by: interests}", "Hi", "site.yaml:13: rules[2].reorder.by: unknown attribute 'interests' (did you mean 'interest'?)"),
        ("", "", "<p>\n{{ visitr.name }}</p>", "fragments/hero.html:2: 'visitr' is undefined (did you mean 'visitor'?)"),
    ],
)  # fmt: skip
def test_each_typo_is_a_warning_with_the_likely_intent(tmp_path, capsys, old, new, fragment, warning):
    rules = write_site(tmp_path, RULES.replace(old, new, 1), {"hero.html": fragment})
    assert main(["check", str(rules)]) == 0
    out = capsys.readouterr().out
    assert f"warning: {tmp_path}/{warning}\n" in out
    assert out.strip().endswith("ok: 3 rules, 1 warnings")


def test_the_rule_file_as_written_checks_clean(tmp_path):
    rules = write_site(tmp_path, RULES, {"hero.html": "<p>{{ visitor['search.last'] }}</p>"})
    report = check_rules(rules)
    assert (report.errors, report.warnings) == ([], [])


def test_segment_conditions_are_checked_too(tmp_path):
    text = RULES.replace("rules:\n", "segments:\n  night: {time.hour: {$gte: 24}, time.weekday: 7}\nrules:\n")
    rules = write_site(tmp_path, text, {"hero.html": "Hi"})
    assert check_rules(rules).warnings == [
        f"{rules}:3: segments.night: 7 is never a value of time.weekday (0..6)"
    ]


#: The demo's rules, counted in the file itself (every one must load).
DEMO_RULE_COUNT = len(yaml.safe_load(DEMO_RULES.read_text(encoding="utf-8"))["rules"])


@pytest.mark.parametrize("names", [None, fragment_globals()], ids=["no globals", "demo globals"])
def test_the_demo_checks_clean(names):
    report = check_rules(DEMO_RULES, ROOT / "demo_site" / "pages", fragment_globals=names)
    assert (report.errors, report.warnings) == ([], [])
    assert len(report.ruleset.rules) == DEMO_RULE_COUNT


def test_the_readme_example_checks_clean():
    report = check_rules(ROOT / "docs" / "examples" / "site.yaml")
    assert (report.errors, report.warnings) == ([], [])


DEMO_FRAGMENT_RULES = [
    (rule.id, rule.action.template)
    for rule in check_rules(DEMO_RULES).ruleset.rules
    if hasattr(rule.action, "template")
]


@pytest.mark.parametrize(("rule_id", "template"), DEMO_FRAGMENT_RULES)
def test_every_demo_fragment_is_rendered_for_a_visitor_its_rule_matches(
    tmp_path, rule_id, template
):
    (tmp_path / "rules").mkdir()
    shutil.copy(DEMO_RULES, tmp_path / "rules" / "shop.yaml")
    shutil.copytree(ROOT / "demo_site" / "fragments", tmp_path / "fragments")
    fragment = tmp_path / "fragments" / template
    lines = fragment.read_text().count("\n")
    fragment.write_text(fragment.read_text() + "\n{{ rule.id.nope }}\n")
    report = check_rules(tmp_path / "rules" / "shop.yaml", fragment_globals=fragment_globals())
    [warning] = report.warnings
    assert warning.startswith(f"{fragment}:{lines + 2}: 'str object' has no attribute 'nope'")
    assert "(rendering for a " in warning


def test_check_takes_the_fragment_globals_serve_takes(capsys):
    from etalage.cli import main
    from etalage.demo import RULES

    assert main(["check", str(RULES), "--fragment-globals", "etalage.demo.shop_globals:fragment_globals"]) == 0
    assert capsys.readouterr().out.rstrip().endswith(f"ok: {DEMO_RULE_COUNT} rules, 0 warnings")
    assert main(["check", str(RULES), "--fragment-globals", "no.such:thing"]) == 1
    assert "error:" in capsys.readouterr().err
