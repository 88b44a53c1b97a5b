"""The demo shop's server routes and packaging, through Starlette's TestClient (no browser)."""

from __future__ import annotations

import glob
import re
import tomllib
from pathlib import Path

import pytest

from etalage.demo import catalog, create_app
from etalage.testing import EtalageClient

DEMO = Path(catalog.__file__).resolve().parent
ROOT = DEMO.parent
TOTAL = re.compile(r'<strong class="total">([^<]+)</strong>')


@pytest.fixture
def client() -> EtalageClient:
    """A person's browser in the shop; ``client.start()`` makes it a consenting visitor outside
    the 10 % holdout."""
    return EtalageClient(create_app(secret_keys=["test-key"]), secret_keys=["test-key"])


def test_search_page_renders_with_the_shop_templates_and_the_card_partial(
    client: EtalageClient,
) -> None:
    response = client.get("/search", params={"q": "tent", "date": "2027-03-14"})
    assert response.status_code == 200
    assert "Results for “tent”" in response.text
    assert "/product/cp-201.html" in response.text
    assert "for your trip on 14 March 2027" in response.text


def test_search_page_ignores_a_date_that_is_not_an_iso_date(client: EtalageClient) -> None:
    response = client.get("/search", params={"q": "tent", "date": "soon<b>"})
    assert response.status_code == 200
    assert "for your trip on" not in response.text


def test_checkout_charges_the_member_price_from_the_signed_profile_not_the_form(
    client: EtalageClient,
) -> None:
    client.start()
    client.post("/cart/add", data={"sku": "cp-203", "qty": "1"})
    first = client.post("/checkout", data={"total": "0.01"})
    assert TOTAL.findall(first.text) == ["€49.00"]

    product = client.get("/product/hk-103.html").text
    shown = catalog.member_price(119.0)
    assert f'<span class="member">{catalog.eur(shown)}</span>' in product
    client.post("/cart/add", data={"sku": "hk-103", "qty": "3", "price": "1"})
    cart = client.get("/cart").text
    assert TOTAL.findall(cart) == [catalog.eur(round(shown * 3, 2))]
    done = client.post("/checkout", data={"total": "1.00", "price": "0.01", "discount": "1"})
    assert TOTAL.findall(done.text) == [catalog.eur(round(shown * 3, 2))]


def test_account_form_is_filled_in_with_the_stated_preferences(client: EtalageClient) -> None:
    page = client.get("/account.html").text
    assert 'name="name" maxlength="60" autocomplete="given-name" value=""' in page
    client.start()
    client.post(
        "/_etalage/preferences",
        data={"name": "Anna <b>", "channel": "sms", "level": "expert", "interests": "water"},
    )
    page = client.get("/account.html").text
    assert 'value="Anna &lt;b&gt;"' in page
    assert 'value="sms" checked' in page and 'value="expert" checked' in page
    assert 'value="water" checked' in page and 'value="hiking" checked' not in page
    assert 'href="/_etalage/profile#rule-preferences-form"' in page


def test_package_data_ships_every_file_the_demo_reads() -> None:
    config = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    patterns = config["tool"]["setuptools"]["package-data"]["etalage.demo"]
    shipped = {
        path
        for pattern in patterns
        for path in glob.glob(pattern, root_dir=DEMO, recursive=True)
        if (DEMO / path).is_file()
    }
    needed = {
        path.relative_to(DEMO).as_posix()
        for folder in ("pages", "templates", "fragments", "rules")
        for path in (DEMO / folder).rglob("*")
        if path.is_file()
    }
    assert needed - shipped == set()
    assert {"templates/base.html", "fragments/_card.html", "fragments/contact/_about.html"} <= (
        shipped
    )


def test_checkout_follows_the_loyalty_rule_in_force(tmp_path: Path) -> None:
    """Edit the rule (two purchases needed) and a one-time customer pays the normal price
    on the page and at checkout alike."""
    from etalage.demo import RULES

    text = RULES.read_text(encoding="utf-8")
    fragments = RULES.parent.parent / "fragments"
    edited = text.replace("fragments: ../fragments", f"fragments: {fragments.as_posix()}").replace(
        "when: {$or: [{lifecycle: customer}, {purchases.count: {$gte: 1}}]}",
        "when: {purchases.count: {$gte: 2}}",
    )
    assert "when: {purchases.count: {$gte: 2}}" in edited
    rules = tmp_path / "shop.yaml"
    rules.write_text(edited, encoding="utf-8")
    client = EtalageClient(
        create_app(secret_keys=["test-key"], rules=rules), secret_keys=["test-key"]
    )
    client.start()
    client.post("/cart/add", data={"sku": "cp-203", "qty": "1"})
    client.post("/checkout")
    product = client.get("/product/hk-103.html").text
    assert '<span class="member">' not in product
    client.post("/cart/add", data={"sku": "hk-103", "qty": "1"})
    assert TOTAL.findall(client.post("/checkout").text) == ["€119.00"]


def test_the_profile_page_names_the_contextual_rules_even_without_consent(
    client: EtalageClient,
) -> None:
    report = client.get("/_etalage/profile", headers={"Accept": "application/json"}).json()
    assert report["stored"] is None
    assert [row["rule"] for row in report["contextual"]] == ["consent-banner"]
    assert 'id="rule-consent-banner"' in client.get("/_etalage/profile").text


def test_the_department_menu_keeps_the_shops_order_whatever_the_visitor_browses(
    client: EtalageClient,
) -> None:
    menu = re.compile(
        r'<nav class="main-nav" aria-label="Departments">\s*<div class="wrap">\s*'
        r"((?:<a [^>]*>[^<]+</a>\s*)+)</div>"
    )
    links = re.compile(r'href="/category/([a-z]+)\.html"')

    def departments(html: str) -> list[str]:
        match = menu.search(html)
        assert match is not None
        return links.findall(match.group(1))

    shop_order = ["hiking", "camping", "climbing", "water"]
    assert departments(client.get("/").text) == shop_order
    client.start()
    client.get("/category/water.html")
    client.get("/category/water.html")
    home = client.get("/").text
    assert departments(home) == shop_order
    assert departments(client.get("/cart").text) == shop_order  # routes share the layout
    strip = re.findall(r'<li data-item="([a-z]+)"', home)
    assert strip[0] == "water"  # the content area is still personalized


def test_emptying_the_cart_ends_the_cart_reminder(client: EtalageClient) -> None:
    client.start()
    client.post("/cart/add", data={"sku": "hk-101", "qty": "2"})
    client.post("/cart/add", data={"sku": "cp-201", "qty": "1"})
    stored = client.get("/_etalage/profile", headers={"Accept": "application/json"}).json()
    assert stored["stored"]["cart"]["items"] == 3
    client.post("/cart/update", data={"sku": "hk-101", "qty": "1"})
    stored = client.get("/_etalage/profile", headers={"Accept": "application/json"}).json()
    assert stored["stored"]["cart"]["items"] == 2
    assert stored["stored"]["cart"]["value"] == round(
        catalog.product("hk-101").price + catalog.product("cp-201").price, 2
    )
    client.post("/cart/remove", data={"sku": "hk-101"})
    client.post("/cart/remove", data={"sku": "cp-201"})
    stored = client.get("/_etalage/profile", headers={"Accept": "application/json"}).json()
    assert stored["stored"]["cart"] == {"items": 0, "value": 0.0, "updated": None}
