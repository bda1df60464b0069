"""The edges of the HTTP contract on both APIs: paginated lists and their cursors, bodies that are
not JSON (or are JSON meant to hurt), malformed ids, and a customer's account from invitation to
GET /me. Several cases are regressions of bugs found by fuzzing (multipart without a boundary was a
500, a form could create a user, ids with an emoji or '#' were 404s, a huge body's 422 echoed it)."""

import json
import re
import time

import pytest

from support import seed
from support.api import id_token_claims
from support.aws import table_items
from support.pages import every_page, reencoded

NOT_A_CURSOR = {"message": "next is not a cursor of this list"}
NOT_JSON = {"message": "request body is not valid JSON"}
UNSUPPORTED = {"message": "request body must be JSON (Content-Type: application/json)"}
ORDER = {"items": [{"product_id": "widget-1", "quantity": 1}], "payment_method": "pm_card_visa"}
USER = {"name": "Lin", "email": "lin@example.com"}


def place_orders(storefront, count):
    """Orders placed one after the other (a few ms apart, so that their creation times differ)."""
    placed = []
    for n in range(count):
        placed.append(seed.order(storefront, {"widget-1": n + 1}))
        time.sleep(0.003)
    return placed


def set_status(stack, order_id, status):
    """What the workflow would do to the order's status (the index follows)."""
    stack.client("dynamodb").update_item(
        TableName=stack.ref("OrdersTable"),
        Key={"order_id": {"S": order_id}},
        UpdateExpression="SET #s = :s",
        ExpressionAttributeNames={"#s": "status"},
        ExpressionAttributeValues={":s": {"S": status}},
    )


def cognito_emails(stack):
    users = stack.client("cognito-idp").list_users(UserPoolId=stack.ref("UserPool"))["Users"]
    return sorted(a["Value"] for user in users for a in user["Attributes"] if a["Name"] == "email")


@pytest.fixture
def bob(storefront, back_office):
    """The storefront, called by a second customer."""
    return storefront.as_caller(seed.customer(back_office, "Bob"))


@pytest.fixture
def widgets(back_office):
    seed.stock(back_office, "widget-1", 100)


# --- pagination -----------------------------------------------------------------------------------


def test_a_customers_orders_come_newest_first_page_by_page(storefront, customer, bob, widgets):
    placed = place_orders(storefront, 5)
    seed.order(bob, {"widget-1": 1})  # never in Ada's list

    pages = every_page(storefront, limit=2)

    assert [len(page) for page in pages] == [2, 2, 1]
    assert [order_id for page in pages for order_id in page] == placed[::-1]
    first = storefront.get("/orders", query={"limit": "2"}).body["items"][0]
    assert first == storefront.get(f"/orders/{placed[-1]}").body
    assert (first["user_id"], first["items"]) == (customer["sub"], [{"product_id": "widget-1", "quantity": 5}])


def test_a_customers_list_is_20_by_default_and_empty_without_orders(storefront, bob, widgets):
    placed = place_orders(storefront, 21)

    first = storefront.get("/orders").body

    assert [order["order_id"] for order in first["items"]] == placed[::-1][:20]
    assert first["next"] is not None
    assert bob.get("/orders").body == {"items": [], "next": None}


def test_the_back_office_lists_every_order_oldest_first(storefront, back_office, bob, widgets):
    placed = place_orders(storefront, 2)
    placed += place_orders(bob, 1)
    placed += place_orders(storefront, 1)

    pages = every_page(back_office, limit=3)

    assert [order_id for page in pages for order_id in page] == placed
    assert [len(page) for page in pages] == [3, 1]


def test_the_back_office_lists_the_orders_in_one_status(storefront, back_office, stack, widgets):
    placed = place_orders(storefront, 5)
    set_status(stack, placed[1], "REJECTED")
    set_status(stack, placed[3], "CONFIRMED")

    pending = every_page(back_office, limit=2, status="PENDING")
    rejected = back_office.get("/orders", query={"status": "REJECTED"}).body

    assert [order_id for page in pending for order_id in page] == [placed[0], placed[2], placed[4]]
    assert [(order["order_id"], order["status"]) for order in rejected["items"]] == [(placed[1], "REJECTED")]
    assert rejected["next"] is None
    assert back_office.get("/orders", query={"status": "FAILED"}).body == {"items": [], "next": None}


def test_a_limit_outside_1_to_100_is_422_on_both_lists(storefront, back_office, subtests):
    for client in (storefront, back_office):
        for limit in ("0", "101", "-1", "ten", "2.5"):
            with subtests.test(f"{client.function.spec.logical_id} limit={limit}"):
                response = client.get("/orders", query={"limit": limit})

                assert response.status == 422
                assert [detail["location"] for detail in response.body["details"]] == ["query.limit"]
        assert client.get("/orders", query={"limit": "100"}).status == 200
        assert client.get("/orders", query={"limit": "1"}).status == 200


def test_an_unknown_status_is_422(back_office):
    response = back_office.get("/orders", query={"status": "SHIPPED"})

    assert response.status == 422
    assert response.body["details"][0]["location"] == "query.status"


def test_a_garbage_or_tampered_next_is_400_json_on_both_lists(storefront, back_office, widgets):
    place_orders(storefront, 3)
    own = storefront.get("/orders", query={"limit": "1"}).body["next"]
    staffs = back_office.get("/orders", query={"limit": "1"}).body["next"]
    garbage = ["garbage!!", "e30", "W10", "bnVsbA", "ключ", "A" * 1024]

    for client, cursor in [(storefront, own), (back_office, staffs)]:
        tampered = [
            cursor[:-3],
            reencoded(cursor, order_id="x" * 300),
            reencoded(cursor, created_at=7),
            reencoded(cursor, extra="field"),
        ]
        for bad in garbage + tampered:
            response = client.get("/orders", query={"next": bad})

            assert (response.status, response.body) == (400, NOT_A_CURSOR), bad
            assert response.headers["Content-Type"] == "application/json"


def test_a_cursors_key_values_are_taken_from_1_to_256_characters(storefront, widgets):
    """The bounds of what a cursor may carry back (a forged one of the caller's own list only pages
    from elsewhere in it); lengths 1 to 20 give the encoded cursor every length modulo 4 (and 5),
    each padded back as base64 needs."""
    place_orders(storefront, 2)
    cursor = storefront.get("/orders", query={"limit": "1"}).body["next"]

    def answer(order_id):
        response = storefront.get("/orders", query={"next": reencoded(cursor, order_id=order_id)})
        return response.status, response.body if response.status == 400 else None

    assert [answer("x" * length) for length in [*range(1, 21), 256]] == [(200, None)] * 21
    assert [answer("x" * length) for length in (0, 257)] == [(400, NOT_A_CURSOR)] * 2


def test_a_cursor_of_another_list_is_400(storefront, back_office, bob, stack, widgets):
    place_orders(storefront, 2)
    place_orders(bob, 2)
    bobs_cursor = bob.get("/orders", query={"limit": "1"}).body["next"]
    pending_cursor = back_office.get("/orders", query={"status": "PENDING", "limit": "1"}).body["next"]
    all_cursor = back_office.get("/orders", query={"limit": "1"}).body["next"]
    assert None not in (bobs_cursor, pending_cursor, all_cursor)

    # Bob's cursor, and one claiming to continue Bob's list, on Ada's list.
    assert storefront.get("/orders", query={"next": bobs_cursor}).body == NOT_A_CURSOR
    forged = reencoded(bobs_cursor, user_id=storefront.claims["sub"] + "x")
    assert storefront.get("/orders", query={"next": forged}).status == 400
    # A staff list's cursor on a customer's list, and on another staff list.
    assert storefront.get("/orders", query={"next": all_cursor}).status == 400
    assert back_office.get("/orders", query={"next": bobs_cursor}).status == 400
    assert back_office.get("/orders", query={"next": pending_cursor}).status == 400
    assert back_office.get("/orders", query={"status": "REJECTED", "next": pending_cursor}).status == 400
    assert back_office.get("/orders", query={"status": "PENDING", "next": pending_cursor}).status == 200


# --- bodies ---------------------------------------------------------------------------------------


def test_multipart_without_a_boundary_is_415_and_stores_nothing(storefront, back_office, stack, widgets):
    users, accounts = table_items(stack, "UsersTable"), cognito_emails(stack)
    multipart = {"Content-Type": "multipart/form-data"}

    new_user = back_office.post("/users", raw_body='--x\r\nname="Lin"\r\n--x--\r\n', headers=multipart)
    new_order = storefront.post("/orders", raw_body=json.dumps(ORDER), headers=multipart)

    assert (new_user.status, new_user.body) == (415, UNSUPPORTED)
    assert (new_order.status, new_order.body) == (415, UNSUPPORTED)
    assert table_items(stack, "UsersTable") == users
    assert cognito_emails(stack) == accounts
    assert table_items(stack, "OrdersTable") == []


def test_a_form_cannot_create_a_user(back_office, stack):
    form = {"Content-Type": "application/x-www-form-urlencoded"}

    response = back_office.post("/users", raw_body="name=x&email=a@b.c", headers=form)

    assert (response.status, response.body) == (415, UNSUPPORTED)
    assert table_items(stack, "UsersTable") == []
    assert cognito_emails(stack) == []


def test_a_media_type_that_only_looks_like_json_is_415(storefront, back_office, stack, widgets):
    headers = {"Content-Type": "application/jsonx"}

    new_user = back_office.post("/users", raw_body=json.dumps(USER), headers=headers)
    new_stock = back_office.put("/inventory/widget-2", raw_body='{"quantity": 1, "price": 1}', headers=headers)
    new_order = storefront.post("/orders", raw_body=json.dumps(ORDER), headers=headers)

    assert [new_user.status, new_stock.status, new_order.status] == [415, 415, 415]
    assert cognito_emails(stack) == ["ada@example.com"]
    assert [item["product_id"] for item in table_items(stack, "InventoryTable")] == ["widget-1"]
    assert table_items(stack, "OrdersTable") == []


def test_json_with_a_charset_is_accepted(storefront, back_office, widgets):
    headers = {"Content-Type": "application/json; charset=utf-8"}

    new_user = back_office.post("/users", raw_body=json.dumps(USER), headers=headers)
    new_order = storefront.post("/orders", raw_body=json.dumps(ORDER), headers=headers)

    assert (new_user.status, new_user.body["email"]) == (201, "lin@example.com")
    assert (new_order.status, new_order.body["status"]) == (202, "PENDING")


def test_json_nested_10000_levels_deep_is_400(storefront, back_office, stack, widgets):
    deep = "[" * 10_000 + "]" * 10_000

    responses = [
        back_office.post("/users", raw_body=deep),
        back_office.put("/inventory/widget-2", raw_body='{"quantity": ' + deep + ', "price": 1}'),
        storefront.post("/orders", raw_body='{"items": ' + deep + ', "payment_method": "pm"}'),
    ]

    assert [(response.status, response.body) for response in responses] == [(400, NOT_JSON)] * 3
    assert table_items(stack, "OrdersTable") == []
    assert cognito_emails(stack) == ["ada@example.com"]


def test_twenty_thousand_unknown_fields_are_a_short_422(storefront, back_office, stack, widgets):
    noise = {f"field{n}": n for n in range(20_000)}

    responses = [
        back_office.post("/users", {**USER, **noise}),
        back_office.put("/inventory/widget-2", {"quantity": 1, "price": 1, **noise}),
        storefront.post("/orders", {**ORDER, **noise}),
    ]

    for response in responses:
        assert response.status == 422
        assert len(response.text.encode()) < 4096
        assert 1 <= len(response.body["details"]) <= 10
        assert response.body["details"][0] == {"location": "body.field0", "message": "Extra inputs are not permitted"}
        assert response.body["message"].endswith("(and 19997 more)")
    assert cognito_emails(stack) == ["ada@example.com"]
    assert [item["product_id"] for item in table_items(stack, "InventoryTable")] == ["widget-1"]
    assert table_items(stack, "OrdersTable") == []


# --- unknown ids ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("caller", "path", "message"),
    [
        ("anyone", "/products/nothing-here", "product nothing-here not found"),  # no token: a public route
        ("staff", "/inventory/nothing-here", "product nothing-here not found"),
        (
            "customer",
            "/orders/3f1c2a9e-0000-4c1e-9f7a-2b6d5e4c3a21",
            "order 3f1c2a9e-0000-4c1e-9f7a-2b6d5e4c3a21 not found",
        ),
        ("staff", "/users/no-such-user", "user no-such-user not found"),
    ],
    ids=["product", "stock", "order", "user"],
)
def test_an_unknown_id_is_a_404_json_error_naming_what_is_not_found(storefront, back_office, caller, path, message):
    client = {"anyone": storefront.as_caller(None), "customer": storefront, "staff": back_office}[caller]

    response = client.get(path)

    assert response.status == 404
    assert response.body == {"message": message}


# --- ids ------------------------------------------------------------------------------------------

ID_PATTERN_MESSAGE = "String should match pattern '^[A-Za-z0-9][A-Za-z0-9._:-]*$'"
BAD_IDS = ["smile\U0001f600", "nul\x00byte", "reservation#x", "reservation%23x", "new\nline"]
# Each API's routes with an id in the path, as the contract names them: a bad id is reported there.
ID_ROUTES = {
    "storefront": ["GET /products/{product_id}", "GET /orders/{order_id}"],
    "back_office": [
        "GET /users/{user_id}",
        "PUT /inventory/{product_id}",
        "GET /inventory/{product_id}",
        "GET /orders/{order_id}",
    ],
}


def with_id(template, value):
    """The route's path with `value` as its id."""
    return re.sub(r"\{\w+\}", lambda _: value, template)


def test_an_id_with_characters_outside_the_contract_is_422_like_an_over_long_id(
    storefront, back_office, stack, widgets, subtests
):
    clients = {"storefront": storefront, "back_office": back_office}
    stock = {"quantity": 1, "price": 1}

    for api, routes in ID_ROUTES.items():
        for method, template in (route.split(" ") for route in routes):
            client = clients[api]
            location = "path." + re.search(r"\{(\w+)\}", template)[1]
            body = stock if method == "PUT" else None
            too_long = client.request(method, with_id(template, "x" * 129), body)
            assert (too_long.status, too_long.body["details"][0]["location"]) == (422, location)
            for bad in BAD_IDS:
                with subtests.test(f"{method} {with_id(template, repr(bad))}"):
                    response = client.request(method, with_id(template, bad), body)

                    assert response.status == too_long.status
                    assert response.body["details"] == [{"location": location, "message": ID_PATTERN_MESSAGE}]
                    assert "smile" not in response.text  # the id is not echoed

    assert [item["product_id"] for item in table_items(stack, "InventoryTable")] == ["widget-1"]


def test_routes_without_a_body_ignore_its_content_type(storefront, back_office, customer, widgets, subtests):
    order_id = seed.order(storefront, {"widget-1": 1})
    reads = [
        (storefront, "/products/widget-1"),
        (storefront, "/me"),
        (storefront, "/orders"),
        (storefront, f"/orders/{order_id}"),
        (back_office, f"/users/{customer['sub']}"),
        (back_office, "/inventory/widget-1"),
        (back_office, "/orders"),
        (back_office, f"/orders/{order_id}"),
    ]

    for client, path in reads:
        for content_type in ("multipart/form-data", "application/x-www-form-urlencoded", "text/plain", "bogus"):
            with subtests.test(f"GET {path} as {content_type}"):
                response = client.get(path, headers={"Content-Type": content_type})

                assert response.status == 200, response.body


# --- a customer's account -------------------------------------------------------------------------


def test_an_invited_customer_is_readable_by_staff_and_sees_their_profile_at_me(storefront, back_office):
    invited = back_office.post("/users", {"name": "Lin Chen", "email": "lin@example.com"})

    assert invited.status == 201
    lin = {key: invited.body[key] for key in ("user_id", "name", "email")}
    assert lin == {"user_id": lin["user_id"], "name": "Lin Chen", "email": "lin@example.com"}
    profile = back_office.get(f"/users/{lin['user_id']}")
    assert (profile.status, profile.body) == (200, invited.body)
    me = storefront.as_caller(id_token_claims(lin["user_id"], lin["email"], lin["name"])).get("/me")
    assert (me.status, me.body) == (200, invited.body)


def test_the_customers_me_is_their_own_profile(storefront, customer):
    response = storefront.get("/me")

    assert response.status == 200
    assert response.body == {
        "user_id": customer["sub"],
        "name": "Ada",
        "email": "ada@example.com",
        "created_at": response.body["created_at"],
    }
