"""Both Swagger UIs under `make dev`, in headless Chromium, used as a person does: authorize with an
ID token from the local pool, then "Try it out" on a route, and read the response the page shows.
SWAGGER_SCREENSHOTS names a folder for a screenshot of each page afterwards."""

import json
import os
import time
from pathlib import Path

import pytest

from support.browser import Browser, chromium

pytestmark = pytest.mark.skipif(
    chromium() is None,
    reason="Debian's chromium is not installed (make test installs it when run as root: apt-get install chromium)",
)


@pytest.fixture
def browser():
    browser = Browser()
    yield browser
    browser.close()


def operation(method: str, path: str) -> str:
    """A JavaScript expression: the operation's block on the page."""
    return (
        "[...document.querySelectorAll('.opblock')].find(block => "
        f"block.querySelector('.opblock-summary-method').textContent === {json.dumps(method)} && "
        f"block.querySelector('.opblock-summary-path').dataset.path === {json.dumps(path)})"
    )


def open_swagger(browser: Browser, base_url: str, token: str) -> None:
    browser.open(f"{base_url}/swagger")
    browser.wait_for("document.querySelectorAll('.opblock').length > 0")
    browser.click(".auth-wrapper .authorize")
    browser.type_into(".modal-ux input", token)
    browser.click(".modal-ux .auth-btn-wrapper .authorize")
    browser.click(".modal-ux .btn-done")


def try_it_out(browser: Browser, method: str, path: str, **parameters: str) -> tuple[int, str, dict]:
    """Expand the operation, Try it out with its example body and `parameters`, Execute: the status,
    the request URL and the JSON body that the page shows."""
    block = operation(method, path)
    browser.wait_for(f"!!{block}")
    browser.click(".opblock-summary-control", within=block)
    browser.click(".try-out__btn", within=block)
    for name, value in parameters.items():
        browser.type_into(f"input[placeholder={json.dumps(name)}]", value, within=block)
    time.sleep(0.5)  # Swagger UI takes what was typed after a debounce of 350 ms
    browser.click(".execute", within=block)
    response = f"{block}.querySelector('.live-responses-table tr.response')"
    status = browser.wait_for(f"{response} && {response}.querySelector('.response-col_status').textContent.trim()")
    url = browser.evaluate(f"{block}.querySelector('.request-url pre').textContent.trim()")
    body = browser.evaluate(f"{response}.querySelector('.response-col_description pre.microlight').textContent")
    return int(status), url, json.loads(body)


def screenshot(browser: Browser, name: str, tmp_path: Path) -> None:
    browser.screenshot(Path(os.environ.get("SWAGGER_SCREENSHOTS", tmp_path)) / f"swagger-{name}.png")


def test_a_customer_reads_a_product_and_places_an_order_from_the_storefront_swagger_ui(local, browser, tmp_path):
    customer = local.token("swagger.customer@example.com", "Swagger Customer")
    open_swagger(browser, local.url, customer)
    assert browser.evaluate("document.querySelector('.info .title').textContent").startswith(
        "Serverless Orders storefront"
    )

    status, url, product = try_it_out(browser, "GET", "/products/{product_id}", product_id="widget-1")
    assert (status, url) == (200, f"{local.url}/products/widget-1")
    assert (product["product_id"], product["price"]) == ("widget-1", 19.99)

    status, url, accepted = try_it_out(browser, "POST", "/orders")
    assert (status, url) == (202, f"{local.url}/orders")
    assert accepted["status"] == "PENDING"
    screenshot(browser, "storefront", tmp_path)
    # The example order was placed, as the customer whose token the page sent.
    placed = local.storefront("GET", f"/orders/{accepted['order_id']}", customer).json()
    assert placed["items"] == [{"product_id": "widget-1", "quantity": 2}, {"product_id": "gadget-2", "quantity": 1}]


def test_staff_price_a_cart_from_the_back_office_swagger_ui(local, browser, tmp_path):
    staff = local.token("swagger.staff@example.com", "Swagger Staff", staff=True)
    open_swagger(browser, local.admin_url, staff)

    status, url, quote = try_it_out(browser, "POST", "/quotes")
    screenshot(browser, "back-office", tmp_path)
    assert (status, url) == (200, f"{local.admin_url}/quotes")
    assert [(line["product_id"], line["unit_price"], line["line_total"]) for line in quote["items"]] == [
        ("widget-1", 19.99, 39.98),
        ("gadget-2", 49.5, 49.5),
    ]
    assert (quote["total"], quote["approval_required"]) == (89.48, False)
