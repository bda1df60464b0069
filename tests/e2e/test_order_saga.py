"""The order saga through `make dev`: payment by the fake provider over HTTP, approval, cancellation,
an outage that the circuit breaker rides out, and the confirmation email in moto's SES."""

import pytest
import requests

from support.polling import eventually


@pytest.fixture(scope="module")
def shop(local):
    staff = local.token("saga-staff@example.com", "Saga Staff", staff=True)
    customer = local.token("saga@example.com", "Saga Customer")
    for product_id, quantity, price in (("saga-small", 1000, 5), ("saga-large", 1000, 600)):
        stocked = local.back_office(
            "PUT", f"/inventory/{product_id}", staff, json={"quantity": quantity, "price": price}
        )
        assert stocked.status_code == 200
    return staff, customer


def place(local, customer, product_id, quantity=1, payment_method="pm_card_visa"):
    body = {"items": [{"product_id": product_id, "quantity": quantity}], "payment_method": payment_method}
    response = local.storefront("POST", "/orders", customer, json=body)
    assert response.status_code == 202, response.text
    return response.json()["order_id"]


def status_of(local, customer, order_id):
    order = local.storefront("GET", f"/orders/{order_id}", customer).json()
    return order["status"], order.get("reason")


def ends(local, customer, order_id, *expected, timeout=60.0):
    return eventually(lambda: status_of(local, customer, order_id) == expected, timeout=timeout)


def provider(local, path, **kwargs):
    return requests.request(
        "POST" if kwargs else "GET", local.outputs["PaymentProviderUrl"] + path, timeout=10, **kwargs
    )


def charge_answered(local, order_id, outcome):
    """ChargePaymentFunction logged this outcome for the order: its console line names the order (as its
    correlation id) and the outcome."""
    return any(
        line.startswith("[ChargePaymentFunction]") and order_id in line and f" outcome={outcome} " in f"{line} "
        for line in local.log().splitlines()
    )


def test_a_confirmed_order_is_charged_once_and_its_customer_emailed(local, shop):
    _, customer = shop
    order_id = place(local, customer, "saga-small", 2)

    assert ends(local, customer, order_id, "CONFIRMED", None)
    charges = [charge for charge in provider(local, "/__charges").json()["charges"] if charge["amount"] == "10.00"]
    assert len(charges) >= 1
    # data.json is all of moto's state: after half the e2e tier on one stack, seconds to write on a
    # busy machine (a client that gives up leaves the server a traceback that another test finds).
    emails = requests.get(f"{local.endpoint}/moto-api/data.json", timeout=60).json()["ses"]["Message"]
    [email] = [message for message in emails if order_id in message["subject"]]
    assert email["destinations"]["ToAddresses"] == ["saga@example.com"]
    assert email["subject"] == f"Your order {order_id} is confirmed"


def test_a_declined_card_is_rejected(local, shop):
    _, customer = shop
    order_id = place(local, customer, "saga-small", payment_method="pm_card_declined")

    assert ends(local, customer, order_id, "REJECTED", "PAYMENT_DECLINED")


def test_staff_approve_a_large_order_and_the_customer_cancels_another(local, shop):
    staff, customer = shop
    approved, cancelled = place(local, customer, "saga-large", 2), place(local, customer, "saga-large", 3)
    assert ends(local, customer, approved, "AWAITING_APPROVAL", None)
    assert ends(local, customer, cancelled, "AWAITING_APPROVAL", None)

    decided = local.back_office("POST", f"/orders/{approved}/approval", staff, json={"approved": True})
    withdrawn = local.storefront("POST", f"/orders/{cancelled}/cancel", customer)

    assert (decided.status_code, decided.json()["status"]) == (200, "PROCESSING")
    assert (withdrawn.status_code, withdrawn.json()["status"]) == (200, "CANCELLED")
    assert ends(local, customer, approved, "CONFIRMED", None)
    assert local.storefront("POST", f"/orders/{approved}/cancel", customer).status_code == 409
    assert local.back_office("GET", "/inventory/saga-large", staff).json()["quantity"] == 998


def test_an_outage_opens_the_breaker_and_the_order_is_confirmed_once_the_provider_is_back(local, shop):
    _, customer = shop
    assert provider(local, "/__control", json={"mode": "unavailable"}).json() == {"mode": "unavailable"}
    try:
        order_id = place(local, customer, "saga-small", 3)
        assert eventually(lambda: "payment circuit breaker CLOSED -> OPEN" in local.log(), timeout=60)
        assert status_of(local, customer, order_id) == ("PROCESSING", None)  # waiting, not failed
        # An order placed while it is open: its charge reads the circuit and leaves the provider alone.
        later = place(local, customer, "saga-small", 4)
        assert eventually(lambda: charge_answered(local, later, "CIRCUIT_NOT_CLOSED"), timeout=60)
        assert status_of(local, customer, later) == ("PROCESSING", None)
    finally:
        provider(local, "/__control", json={"mode": "ok"})

    assert ends(local, customer, order_id, "CONFIRMED", None, timeout=90)
    assert ends(local, customer, later, "CONFIRMED", None, timeout=90)
    charged = [charge["idempotency_key"] for charge in provider(local, "/__charges").json()["charges"]]
    assert (charged.count(f"charge-{order_id}"), charged.count(f"charge-{later}")) == (1, 1)
    # Closed again: by the half-open probe, or by a retry that was still under way when it opened.
    assert eventually(lambda: "OPEN -> CLOSED" in local.log())
