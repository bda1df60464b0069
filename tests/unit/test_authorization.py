"""Who may call what: every back-office route is for staff only, every storefront route but the
product page needs a customer's ID token, and nobody sees another customer's orders. The functions
check the identity that API Gateway's authorizer verified, before they look at the request."""

from decimal import Decimal

import pytest

from support import seed
from support.api import access_token_claims, id_token_claims, route_templates
from support.aws import table_items

UNAUTHORIZED = {"message": "Unauthorized"}
FORBIDDEN = {"message": "only members of the staff group may use the back office"}
# Group names that a substring or case-insensitive match would take for "staff".
LOOK_ALIKE_GROUPS = ("staffing", "nonstaff", "Staff")


# (method, route as the template names it, body, status when staff call it)
BACK_OFFICE_ROUTES = [
    ("POST", "/users", {"name": "Lin", "email": "lin@example.com"}, 201),
    ("GET", "/users/{user_id}", None, 200),
    ("PUT", "/inventory/{product_id}", {"quantity": 7, "price": 3.5}, 200),
    ("GET", "/inventory/{product_id}", None, 200),
    ("GET", "/orders", None, 200),
    ("GET", "/orders/{order_id}", None, 200),
    ("POST", "/orders/{order_id}/approval", {"approved": True}, 409),  # the order is not awaiting approval
    ("POST", "/quotes", {"items": [{"product_id": "widget-1", "quantity": 1}]}, 200),  # the quote workflow
    ("POST", "/imports", None, 201),
    ("GET", "/imports/{import_id}", None, 200),
]
STOREFRONT_IDENTITY_ROUTES = [
    ("GET", "/me", None, 200),
    ("POST", "/orders", {"items": [{"product_id": "widget-1", "quantity": 1}], "payment_method": "pm_card_visa"}, 202),
    ("GET", "/orders", None, 200),
    ("GET", "/orders/{order_id}", None, 200),
    ("POST", "/orders/{order_id}/cancel", None, 200),  # last: the order is PENDING until then
]
STOREFRONT_PUBLIC_ROUTES = [("GET", "/products/{product_id}")]
DOCUMENTS = {("GET", "/openapi.json"), ("GET", "/swagger")}


@pytest.fixture
def placed(back_office, storefront, customer):
    """widget-1 in stock (5 at 10.00), one order of the customer and an import waiting for its file:
    the ids the routes need."""
    seed.stock(back_office, "widget-1", 5)
    order_id = seed.order(storefront, {"widget-1": 1})
    import_id = back_office.post("/imports").body["import_id"]
    return {"user_id": customer["sub"], "product_id": "widget-1", "order_id": order_id, "import_id": import_id}


def stored(stack):
    """Everything the routes could write: profiles, accounts, stock, orders and imports."""
    accounts = stack.client("cognito-idp").list_users(UserPoolId=stack.ref("UserPool"))["Users"]
    return {
        "users": table_items(stack, "UsersTable"),
        "accounts": sorted(account["Username"] for account in accounts),
        "inventory": table_items(stack, "InventoryTable"),
        "orders": table_items(stack, "OrdersTable"),
        "imports": table_items(stack, "ImportsTable"),
    }


def test_the_route_lists_name_every_route_of_both_apis(sam_template):
    back_office = {(method, route) for method, route, *_ in BACK_OFFICE_ROUTES}
    storefront = {(method, route) for method, route, *_ in STOREFRONT_IDENTITY_ROUTES} | set(STOREFRONT_PUBLIC_ROUTES)

    assert set(route_templates(sam_template, "BackOfficeApi")) == back_office | DOCUMENTS
    assert set(route_templates(sam_template, "StorefrontApi")) == storefront | DOCUMENTS


@pytest.mark.parametrize(
    ("caller", "expected"),
    [
        (None, (401, UNAUTHORIZED)),
        (access_token_claims("staff-0001", groups=("staff",)), (401, UNAUTHORIZED)),
        ("customer", (403, FORBIDDEN)),
    ],
    ids=["no token", "a staff member's access token", "a customer"],
)
def test_every_back_office_route_refuses_who_is_not_staff_and_changes_nothing(
    back_office, customer, stack, placed, subtests, caller, expected
):
    before = stored(stack)
    as_caller = back_office.as_caller(customer if caller == "customer" else caller)

    for method, route, body, _ in BACK_OFFICE_ROUTES:
        with subtests.test(f"{method} {route}"):
            response = as_caller.request(method, route.format(**placed), body)

            assert (response.status, response.body) == expected

    assert stored(stack) == before


def test_a_group_that_only_looks_like_staff_is_refused_every_back_office_route_and_changes_nothing(
    back_office, stack, placed, subtests
):
    before = stored(stack)

    for group in LOOK_ALIKE_GROUPS:
        as_member = back_office.as_caller(id_token_claims(f"{group}-0001", f"{group}@example.com", groups=(group,)))
        for method, route, body, _ in BACK_OFFICE_ROUTES:
            with subtests.test(f"{group}: {method} {route}"):
                response = as_member.request(method, route.format(**placed), body)

                assert (response.status, response.body) == (403, FORBIDDEN)

    assert stored(stack) == before


@pytest.mark.parametrize(
    ("rendered", "status"),
    [
        ("staff", 200),
        ("customers,staff", 200),  # a REST API's Cognito authorizer: the groups joined by commas
        ("[staff]", 200),  # an HTTP API's JWT authorizer: the list in brackets, spaces between
        ("[customers staff]", 200),
        ("[staffing]", 403),
        ("customers,nonstaff", 403),
        ("[customers]", 403),
    ],
)
def test_the_staff_group_is_read_from_the_claim_as_each_gateway_renders_it(back_office, placed, rendered, status):
    claims = id_token_claims("lin-0001", "lin@example.com") | {"cognito:groups": rendered}

    response = back_office.as_caller(claims).request("GET", f"/users/{placed['user_id']}")

    assert response.status == status, response.body


def test_staff_may_use_every_back_office_route(back_office, stack, placed, subtests):
    for method, route, body, status in BACK_OFFICE_ROUTES:
        with subtests.test(f"{method} {route}"):
            response = back_office.request(method, route.format(**placed), body)

            assert response.status == status, response.body

    assert [user["email"] for user in table_items(stack, "UsersTable")].count("lin@example.com") == 1
    assert seed.quantity(back_office, "widget-1") == 7


@pytest.mark.parametrize(
    "caller", [None, "access token"], ids=["no token", "the customer's access token instead of the ID token"]
)
def test_every_storefront_route_with_an_identity_answers_401_without_an_id_token_and_changes_nothing(
    storefront, customer, stack, placed, subtests, caller
):
    claims = access_token_claims(customer["sub"]) if caller else None
    before = stored(stack)

    for method, route, body, _ in STOREFRONT_IDENTITY_ROUTES:
        with subtests.test(f"{method} {route}"):
            response = storefront.as_caller(claims).request(method, route.format(**placed), body)

            assert (response.status, response.body) == (401, UNAUTHORIZED)

    assert stored(stack) == before


def test_the_customer_may_use_every_storefront_route(storefront, placed, subtests):
    for method, route, body, status in STOREFRONT_IDENTITY_ROUTES:
        with subtests.test(f"{method} {route}"):
            response = storefront.request(method, route.format(**placed), body)

            assert response.status == status, response.body


def test_a_product_is_shown_to_anyone_without_a_token(storefront, placed):
    response = storefront.as_caller(None).get("/products/widget-1")

    assert response.status == 200
    assert response.body == {"product_id": "widget-1", "quantity": 5, "price": 10}


def test_another_customers_order_is_404_exactly_like_an_unknown_order(storefront, back_office, placed):
    bob = storefront.as_caller(seed.customer(back_office, "Bob"))
    adas_order = placed["order_id"]
    unknown = "3f1c2a9e-0000-4c1e-9f7a-2b6d5e4c3a21"

    someone_elses = bob.get(f"/orders/{adas_order}")
    nobodys = bob.get(f"/orders/{unknown}")

    assert (someone_elses.status, someone_elses.body) == (404, {"message": f"order {adas_order} not found"})
    assert (nobodys.status, nobodys.body) == (404, {"message": f"order {unknown} not found"})
    assert someone_elses.headers == nobodys.headers
    assert storefront.get(f"/orders/{adas_order}").status == 200  # while Ada sees it


def test_a_customer_lists_only_their_own_orders(storefront, back_office, customer, placed):
    bob = storefront.as_caller(seed.customer(back_office, "Bob"))
    adas = [placed["order_id"], seed.order(storefront, {"widget-1": 2})]
    bobs = [seed.order(bob, {"widget-1": 3})]

    adas_list = storefront.get("/orders").body
    bobs_list = bob.get("/orders").body

    assert sorted(order["order_id"] for order in adas_list["items"]) == sorted(adas)
    assert {order["user_id"] for order in adas_list["items"]} == {customer["sub"]}
    assert [order["order_id"] for order in bobs_list["items"]] == bobs
    assert [order["items"] for order in bobs_list["items"]] == [[{"product_id": "widget-1", "quantity": 3}]]
    everyone = back_office.get("/orders").body["items"]
    assert sorted(order["order_id"] for order in everyone) == sorted(adas + bobs)


def test_a_customer_is_refused_before_the_body_is_validated(back_office, customer, stack, placed):
    before = stored(stack)
    invalid_stock = {"quantity": -1, "price": "free", "note": "x"}

    as_customer = back_office.as_caller(customer).put("/inventory/widget-1", invalid_stock)
    as_customer_bad_id = back_office.as_caller(customer).put("/inventory/no#such", invalid_stock)
    without_token = back_office.as_caller(None).post("/users", {"name": "", "email": "nope"})

    assert (as_customer.status, as_customer.body) == (403, FORBIDDEN)
    assert (as_customer_bad_id.status, as_customer_bad_id.body) == (403, FORBIDDEN)
    assert (without_token.status, without_token.body) == (401, UNAUTHORIZED)
    assert stored(stack) == before
    assert table_items(stack, "InventoryTable") == [{"product_id": "widget-1", "quantity": 5, "price": Decimal(10)}]


def test_an_access_token_is_refused_before_an_order_body_is_validated(storefront, customer, stack, placed):
    before = stored(stack)

    response = storefront.as_caller(access_token_claims(customer["sub"])).post("/orders", {"items": "widget-1"})

    assert (response.status, response.body) == (401, UNAUTHORIZED)
    assert stored(stack) == before


def test_a_storefront_request_without_a_token_is_refused_before_its_body_is_validated(storefront, stack, placed):
    before = stored(stack)

    response = storefront.as_caller(None).post("/orders", {"items": "widget-1"})

    assert (response.status, response.body) == (401, UNAUTHORIZED)
    assert stored(stack) == before
