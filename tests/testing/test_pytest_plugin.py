"""`etalage.pytest_plugin` (sdk/pytest_plugin.py): fixtures any test gets by name once etalage is
installed (entry point ``pytest11: etalage``), and a plugin that costs nothing when turned off
or when the test client's dependencies are missing."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from importlib.metadata import entry_points
from pathlib import Path

from etalage.demo import RULES, create_app
from etalage.testing import START, EtalageClient, ManualClock, profile_with

ROOT = Path(__file__).resolve().parents[2]


def readme_example() -> str:
    """The example test of the README's "Testing your site", run against the demo shop."""
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    section = readme[readme.index("### Testing your site") :]
    code = section[section.index("```python\n") + 10 : section.index("```\n", 10)]
    site = code.replace("from myshop import create_app", "from etalage.demo import create_app")
    site = site.replace('rules="site/rules/site.yaml"', f"rules={str(RULES)!r}")
    assert site.count("etalage.demo") == 1 and str(RULES) in site  # the example still reads so
    return site


#: A site's own test, as the README shows it (fixtures by name, no conftest), and one without.
SITE_TEST = readme_example() + "\n\ndef test_without_the_plugin_still_runs():\n    assert True\n"


#: Warnings are errors, as here, but for Starlette's nudge towards httpx2 (see pyproject.toml).
WARNINGS = ("-W", "error", "-W", "ignore:Using `httpx` with `starlette.testclient`:UserWarning")


def run_pytest(folder: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """pytest in a fresh process on `folder` (no project conftest, no ini file)."""
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in ("PYTEST_ADDOPTS", "PYTEST_DISABLE_PLUGIN_AUTOLOAD", "PYTEST_PLUGINS")
    }
    return subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            "-q",
            "-p",
            "no:cacheprovider",
            *WARNINGS,
            *args,
            str(folder),
        ],
        cwd=folder,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_the_plugin_is_registered_by_entry_point():
    [plugin] = [e for e in entry_points(group="pytest11") if e.name == "etalage"]
    assert plugin.value == "etalage.pytest_plugin"


def test_etalage_clock_is_a_manual_clock_at_start(etalage_clock):
    assert isinstance(etalage_clock, ManualClock)
    assert etalage_clock() == START


def test_etalage_client_makes_visitors_dated_by_the_clock(etalage_clock, etalage_client):
    client = etalage_client(create_app(secret_keys=["k"], clock=etalage_clock), secret_keys=["k"])
    assert isinstance(client, EtalageClient) and client.clock is etalage_clock
    client.start(profile_with(etalage_clock.now, prefs={"name": "Ada"}))
    assert "Ada" in client.get("/category/hiking.html").text


def test_a_sites_test_uses_the_fixtures_by_name(tmp_path):
    (tmp_path / "test_site.py").write_text(SITE_TEST)
    result = run_pytest(tmp_path)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "2 passed" in result.stdout


def test_turned_off_the_fixtures_are_gone_and_the_rest_runs(tmp_path):
    (tmp_path / "test_site.py").write_text(SITE_TEST)
    result = run_pytest(tmp_path, "-p", "no:etalage")
    assert "fixture 'etalage_clock' not found" in result.stdout
    assert "1 passed, 1 error" in result.stdout


def test_the_plugin_loads_without_httpx_and_the_helpers_without_pytest():
    script = textwrap.dedent(
        """
        import sys
        sys.modules["httpx"] = sys.modules["httpx2"] = None  # as if not installed
        import etalage.pytest_plugin
        del sys.modules["httpx"], sys.modules["httpx2"]
        sys.modules["pytest"] = None
        for name in [m for m in sys.modules if m.startswith("etalage")]:
            del sys.modules[name]
        import etalage.testing
        """
    )
    result = subprocess.run(
        [sys.executable, "-W", "ignore", "-c", script], capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0, result.stderr
