"""Event sinks: nothing lost on a clean stop, rotation by size, reading back."""

from __future__ import annotations

import json

from etalage.events import JsonLinesSink, read_events


def test_close_flushes_every_queued_event(tmp_path):
    path = tmp_path / "events.jsonl"
    sink = JsonLinesSink(path)
    for n in range(5000):
        sink.emit({"type": "exposure", "n": n})
    sink.close()
    lines = path.read_text().splitlines()
    assert len(lines) == 5000
    assert json.loads(lines[-1]) == {"type": "exposure", "n": 4999}
    assert sink.written == 5000


def test_rotates_by_size_and_reads_back_every_file_in_order(tmp_path):
    path = tmp_path / "events.jsonl"
    sink = JsonLinesSink(path, max_bytes=2000, backups=50)
    for n in range(300):
        sink.emit({"n": n})
    sink.close()
    assert (tmp_path / "events.jsonl.1").exists()
    assert [e["n"] for e in read_events(str(path))] == list(range(300))


def test_emit_after_close_is_ignored(tmp_path):
    sink = JsonLinesSink(tmp_path / "e.jsonl")
    sink.close()
    sink.emit({"late": True})
    sink.close()
    assert read_events(str(tmp_path / "e.jsonl")) == []


def test_a_cut_line_is_skipped(tmp_path):
    path = tmp_path / "e.jsonl"
    path.write_text('{"n": 1}\n{"n": 2\n{"n": 3}\n')
    assert [e["n"] for e in read_events(str(path))] == [1, 3]
