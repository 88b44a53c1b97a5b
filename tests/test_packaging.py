"""The built wheel is complete: code, templates, the demo's pages, fragments and rules."""

from __future__ import annotations

import os
import subprocess
import sys
import sysconfig
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_wheel_installs_and_runs_the_demo_checks(tmp_path):
    built = subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q",
         "-w", str(tmp_path / "dist"), str(ROOT)],
        check=True, capture_output=True, text=True,
    )  # fmt: skip
    assert "BuildBackendWarning" not in built.stderr, built.stderr
    [wheel] = (tmp_path / "dist").glob("etalage-*.whl")
    names = set(zipfile.ZipFile(wheel).namelist())
    for expected in (
        "etalage/py.typed",
        "etalage/middleware/templates/profile.html",
        "etalage/cli/__init__.py",
        "etalage/cli/__main__.py",
        "etalage/demo/rules/shop.yaml",
        "etalage/demo/pages/index.html",
        "etalage/demo/pages/static/shop.css",
        "etalage/rules/conditions.py",
        "etalage/middleware/app.py",
    ):
        assert expected in names, f"{expected} missing from {wheel.name}"
    assert not [name for name in names if "screenshots" in name or "build_demo_pages" in name]
    fragments = ROOT / "demo_site" / "fragments"
    for fragment in fragments.rglob("*.html"):
        assert f"etalage/demo/fragments/{fragment.relative_to(fragments).as_posix()}" in names
    target = tmp_path / "site"
    subprocess.run(
        [sys.executable, "-m", "pip", "install", "--no-deps", "-q", "--target", str(target),
         str(wheel)],
        check=True, capture_output=True,
    )  # fmt: skip
    dependencies = sysconfig.get_paths()["purelib"]
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(target), dependencies])}
    script = (
        "import etalage, sys; from pathlib import Path;"
        "from etalage.cli import main;"
        "assert Path(etalage.__file__).is_relative_to(sys.argv[1]), etalage.__file__;"
        "import etalage.demo as d;"
        "sys.exit(main(['check', str(d.RULES), '--site', str(d.PAGES)]))"
    )
    result = subprocess.run(
        [sys.executable, "-I", "-c", f"import sys; sys.path[:0] = {env['PYTHONPATH'].split(os.pathsep)!r}; " + script, str(target)],
        capture_output=True, text=True, cwd=tmp_path,
    )  # fmt: skip
    assert result.returncode == 0, result.stdout + result.stderr
    assert "needs consent" in result.stdout
