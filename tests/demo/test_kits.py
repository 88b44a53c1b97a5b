"""Trip kits, the shop's elastic product: configured from the trip's date and the stated level,
priced on the server (the catalog logic, then the real app through `EtalageClient`)."""

from __future__ import annotations

import re
from datetime import UTC, datetime

import pytest

from etalage.demo import catalog, create_app, kits
from etalage.testing import EtalageClient, ManualClock

KEYS = ["test-key"]
TOTAL = re.compile(r'<strong class="total">([^<]+)</strong>')
DOLOMITES = next(t for t in catalog.TRIPS if t.slug == "dolomites-hut-trek")  # March: cold
MONT_BLANC = next(t for t in catalog.TRIPS if t.slug == "mont-blanc-north-loop")  # August


def skus(kit: kits.TripKit | None) -> list[str]:
    assert kit is not None
    return [part.product.sku for part in kit.parts]


def test_a_beginner_gets_the_gear_that_makes_a_first_trip_easier_an_expert_the_essentials() -> None:
    assert skus(kits.trip_kit(DOLOMITES, "beginner")) == ["hk-102", "hk-101", "hk-104", "hk-103"]
    assert skus(kits.trip_kit(DOLOMITES, "expert")) == ["hk-102", "hk-101", "hk-104"]
    assert skus(kits.trip_kit(DOLOMITES, None)) == skus(kits.trip_kit(DOLOMITES, "beginner"))


def test_the_trip_date_decides_the_warm_layer() -> None:
    assert "hk-104" in skus(kits.trip_kit(DOLOMITES, "expert"))
    assert "hk-104" not in skus(kits.trip_kit(MONT_BLANC, "expert"))
    kit = kits.trip_kit(DOLOMITES, "expert")
    assert kit is not None
    [warm] = [part for part in kit.parts if part.product.sku == "hk-104"]
    assert "March" in warm.why


@pytest.mark.parametrize("level", ["beginner", "standard", "expert"])
def test_the_bundle_price_is_fifteen_percent_off_its_parts(level: str) -> None:
    kit = kits.trip_kit(DOLOMITES, level)
    assert kit is not None and kit.level == level
    parts = sum(part.product.price for part in kit.parts)
    assert kit.full_price == round(parts, 2)
    assert kit.price == round(parts * 0.85, 2)


@pytest.mark.parametrize("stated", [None, "", "wizard", 3, ["expert"]])
def test_a_missing_or_unknown_level_gives_the_standard_kit(stated: object) -> None:
    assert kits.level_of(stated) == "standard"


def test_a_cart_key_names_its_kit_and_nothing_else() -> None:
    kit = kits.trip_kit(DOLOMITES, "expert")
    assert kit is not None and kits.kit_from_key(kit.sku) == kit
    for key in ("kit:dolomites-hut-trek:wizard", "kit:nowhere:expert", "hk-101", "kit:", None, 7):
        assert kits.kit_from_key(key) is None


@pytest.fixture
def client() -> EtalageClient:
    clock = ManualClock(datetime(2026, 12, 1, 10, tzinfo=UTC))
    app = create_app(secret_keys=KEYS, clock=clock)
    return EtalageClient(app, secret_keys=KEYS, clock=clock)


def state_level(client: EtalageClient, level: str) -> None:
    client.post("/_etalage/preferences", data={"level": level})


def test_the_trips_page_shows_the_kit_configured_for_the_searched_trip_and_level(
    client: EtalageClient,
) -> None:
    client.start()
    state_level(client, "expert")
    client.get("/search", params={"q": DOLOMITES.name, "date": "2027-03-14"})
    page = client.get("/trips.html").text
    expert = kits.trip_kit(DOLOMITES, "expert")
    assert expert is not None
    assert "Your Dolomites hut trek kit" in page
    assert f'<span class="member">{catalog.eur(expert.price)}</span>' in page
    assert "Carbon Trek Poles" not in page.split('data-slot="trip-kit"')[1]
    assert 'href="/_etalage/profile#rule-trip-kit"' in page


def test_checkout_charges_the_kit_the_server_configures_whatever_the_form_says(
    client: EtalageClient,
) -> None:
    client.start()
    state_level(client, "expert")
    client.get("/search", params={"q": DOLOMITES.name, "date": "2027-03-14"})
    forged = {"trip": DOLOMITES.slug, "level": "beginner", "price": "1", "sku": "kit:x:beginner"}
    client.post("/cart/add-kit", data=forged)
    expert = kits.trip_kit(DOLOMITES, "expert")
    assert expert is not None
    cart = client.get("/cart").text
    assert "Dolomites hut trek kit (expert)" in cart
    assert TOTAL.findall(cart) == [catalog.eur(expert.price)]
    done = client.post("/checkout", data={"total": "0.01"})
    assert TOTAL.findall(done.text) == [catalog.eur(expert.price)]


def test_without_consent_the_kit_is_the_standard_one(client: EtalageClient) -> None:
    client.decline()
    client.post("/cart/add-kit", data={"trip": DOLOMITES.slug})
    standard = kits.trip_kit(DOLOMITES, "standard")
    assert standard is not None
    cart = client.get("/cart").text
    assert "Dolomites hut trek kit (standard)" in cart
    assert TOTAL.findall(cart) == [catalog.eur(standard.price)]


@pytest.mark.parametrize("trip", ["", "atlantis", "<b>", "x" * 5000])
def test_an_unknown_trip_is_a_clear_400(client: EtalageClient, trip: str) -> None:
    response = client.post("/cart/add-kit", data={"trip": trip})
    assert response.status_code == 400 and response.text == "Unknown trip"


def test_a_kit_from_another_site_is_refused(client: EtalageClient) -> None:
    response = client.post(
        "/cart/add-kit", data={"trip": DOLOMITES.slug}, headers={"Origin": "https://evil.example"}
    )
    assert response.status_code == 403
