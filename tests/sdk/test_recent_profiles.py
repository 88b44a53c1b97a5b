"""RecentProfiles: profiles a store recently wrote or read, handed out as copies, bounded."""

from __future__ import annotations

from datetime import UTC, datetime

from etalage.profile import Profile
from etalage.recent_profiles import RecentProfiles

NOW = datetime(2026, 6, 1, 12, 0, tzinfo=UTC)


def profile(visitor_id: str) -> Profile:
    kept = Profile.new(NOW)
    kept.id = visitor_id
    return kept


def test_a_hit_is_a_copy_so_a_requests_changes_never_reach_the_memory() -> None:
    recent: RecentProfiles[bytes] = RecentProfiles(4)
    recent.put("v1", profile("v1"), b"raw")
    first = recent.get("v1")
    assert first is not None and first[1] == b"raw"
    first[0].prefs["name"] = "Ada"
    first[0].visits += 3
    again = recent.get("v1")
    assert again is not None and again[0].prefs == {} and again[0].visits == 0


def test_the_least_recently_used_profile_goes_first() -> None:
    recent: RecentProfiles[int] = RecentProfiles(2)
    recent.put("a", profile("a"), 1)
    recent.put("b", profile("b"), 2)
    assert recent.get("a") is not None
    recent.put("c", profile("c"), 3)
    assert (recent.keys(), recent.get("b"), len(recent)) == (["a", "c"], None, 2)


def test_zero_turns_it_off_and_discard_forgets() -> None:
    off: RecentProfiles[int] = RecentProfiles(0)
    off.put("a", profile("a"), 1)
    assert (len(off), off.get("a")) == (0, None)
    recent: RecentProfiles[int] = RecentProfiles(2)
    recent.put("a", profile("a"), 1)
    recent.discard("a")
    recent.discard("missing")
    assert recent.get("a") is None
