"""The demo shop's A/B test: two sticky variants of the home page's guided-trips teaser, with a
control group of the rule's own (through the real demo app and middleware)."""

from __future__ import annotations

from collections import Counter

from etalage.demo import create_app
from etalage.rules.hashing import in_holdout, rule_holdout_seed, variant_bucket
from etalage.testing import EtalageClient, profile_with

KEYS = ["test-key"]
RULE = "trips-teaser-test"
SHOWN = {
    "Go further with a guide": "control",
    "Six people, one guide, no crowds": "small groups",
    "Just bring your boots": "gear included",
}


def teaser(client: EtalageClient) -> str:
    """Which teaser the home page shows."""
    page = client.get("/", headers={"Accept": "text/html"}).text
    found = [name for text, name in SHOWN.items() if text in page]
    assert len(found) == 1, found
    return found[0]


def expected(visitor: str, holdout: float, bucket_version: int) -> str:
    """The group a visitor id must land in, computed from the hashes alone."""
    if in_holdout(visitor, holdout, rule_holdout_seed(RULE, bucket_version)):
        return "control"
    return "small groups" if variant_bucket(RULE, bucket_version, visitor) < 0.5 else "gear included"


def test_each_visitor_keeps_the_variant_their_id_draws_and_a_tenth_is_the_control() -> None:
    app = create_app(secret_keys=KEYS)
    rule = app.ruleset.rule(RULE)
    assert rule is not None and rule.holdout == 0.1 and rule.bucket_version == 1
    seen: Counter[str] = Counter()
    ids = (f"ab-visitor-{n:03d}" for n in range(400))
    for visitor in [i for i in ids if not app.ruleset.in_holdout(i)][:120]:
        client = EtalageClient(app, secret_keys=KEYS)
        profile = profile_with(client.clock())
        profile.id = visitor
        client.start(profile)
        first = teaser(client)
        assert teaser(client) == first  # sticky across requests
        assert first == expected(visitor, 0.1, 1)
        seen[first] += 1
    assert set(seen) == {"control", "small groups", "gear included"}
    assert seen["small groups"] > 30 and seen["gear included"] > 30


def test_a_visitor_without_consent_sees_the_shops_own_teaser() -> None:
    client = EtalageClient(create_app(secret_keys=KEYS), secret_keys=KEYS)
    assert teaser(client) == "control"
    client.decline()
    assert teaser(client) == "control"
