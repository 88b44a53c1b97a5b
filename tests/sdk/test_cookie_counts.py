"""Day counts and the current visit in the profile cookie: kept under the byte budget, evicted
by relevance with the rest of the history."""

from __future__ import annotations

from etalage.cookie import ProfileCodec
from etalage.profile import COUNT_DAYS, DayCounts, EventEntry, Profile
from tests.sdk.test_cookie import NOW, POLICY, SECRET, ago, brimful, noise

TODAY = int(NOW.timestamp()) // 86400


def round_trip(profile: Profile) -> Profile:
    codec = ProfileCodec([SECRET])
    decoded = codec.decode(codec.encode(profile, POLICY, NOW)).profile
    assert decoded is not None
    return decoded


def test_counts_and_the_visit_are_sealed_and_read_back():
    profile = Profile(id="v", visits=1, visit_started=ago(minutes=5), last_seen=ago())
    profile.counts = {"t:hiking": DayCounts(TODAY, (3, 0, 1)), "e:purchase": DayCounts(TODAY, (1,))}
    profile.visit_pages, profile.visit_entry = 4, "/trips"
    profile.visit_referrer, profile.visit_utm_source = "news.example", "spring"
    assert round_trip(profile) == profile


def test_a_count_of_thirty_days_ago_is_evicted_as_stale():
    profile = brimful()
    profile.counts = {
        "p:/" + noise(3000 + n, 40): DayCounts(TODAY - COUNT_DAYS, (1,) * 10) for n in range(3)
    }
    decoded = round_trip(profile)
    assert decoded.counts == {}
    assert decoded.views == profile.views  # the stale counts went, not a single view


def test_counts_go_after_views_least_recently_counted_first_and_before_events():
    profile = brimful()
    profile.events = [EventEntry("signup", ago(hours=1))]
    profile.counts = {f"p:/{noise(4000 + n, 40)}": DayCounts(TODAY, (2,)) for n in range(50)}
    decoded = round_trip(profile)
    assert decoded.views == []  # the views went first ...
    kept = list(decoded.counts)
    assert 0 < len(kept) < len(profile.counts)  # ... then the counts counted longest ago
    assert kept == list(profile.counts)[-len(kept) :]
    assert decoded.events == profile.events
