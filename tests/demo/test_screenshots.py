"""`scripts/screenshots.py`: the demo server it starts, and one real screenshot."""

from __future__ import annotations

import re
import struct
from pathlib import Path

import httpx
import pytest

from scripts import screenshots


def test_serve_demo_answers_on_a_free_port_and_stops() -> None:
    with screenshots.serve_demo() as url:
        response = httpx.get(url + "/", headers={"User-Agent": screenshots.DESKTOP_UA}, timeout=10)
        assert response.status_code == 200
        assert 'id="etalage-toolbar"' in response.text  # demo mode: time travel is on
    with pytest.raises(httpx.TransportError):
        httpx.get(url + "/", timeout=2)


def test_a_phone_screenshot_of_the_first_visit_is_a_png_of_the_phone_size(
    tmp_path: Path,
) -> None:
    [path] = screenshots.take_screenshots(
        tmp_path,
        scenarios=[("first", screenshots.first_visit)],
        devices=[screenshots.PHONE],
    )
    assert path == tmp_path / "phone-first.png"
    header = path.read_bytes()[:24]
    assert header[:8] == b"\x89PNG\r\n\x1a\n"
    width, height = struct.unpack(">II", header[16:24])
    scale = screenshots.PHONE.options["device_scale_factor"]
    viewport = screenshots.PHONE.options["viewport"]
    assert (width, height) == (viewport["width"] * scale, viewport["height"] * scale)


def test_the_readme_tour_shows_every_screenshot_and_only_screenshots_that_exist() -> None:
    root = Path(screenshots.__file__).resolve().parents[1]
    readme = (root / "README.md").read_text(encoding="utf-8")
    shown = set(re.findall(r'src="(docs/screenshots/[^"]+\.png)"', readme))
    taken = {
        f"docs/screenshots/{device.name}-{name}.png"
        for device in screenshots.DEVICES
        for name, _ in screenshots.SCENARIOS
    }
    assert shown == taken
    assert all((root / path).is_file() for path in taken)
