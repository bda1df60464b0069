"""Both authorizers through `make dev`, with tokens of the local user pool: every way a token can be
wrong is API Gateway's 401 before any function runs; a customer is no member of staff; nobody sees
another customer's order."""

import re
import time
import uuid
from contextlib import suppress

import pytest

from support.api import route_templates
from support.tokens import claims_of, signed, tampered, unsigned

UNAUTHORIZED = {"message": "Unauthorized"}
FORBIDDEN = {"message": "only members of the staff group may use the back office"}
DOCUMENTS = {("GET", "/openapi.json"), ("GET", "/swagger")}
# Valid requests, so that a look-alike group let through would write something.
BODIES = {
    ("POST", "/users"): {"name": "Mallory", "email": "mallory@example.com"},
    ("PUT", "/inventory/{product_id}"): {"quantity": 9, "price": 1},
    ("POST", "/orders/{order_id}/approval"): {"approved": True},
    ("POST", "/quotes"): {"items": [{"product_id": "auth-widget", "quantity": 1}]},
}

STOREFRONT_ROUTES = [
    ("GET", "/me"),
    ("POST", "/orders"),
    ("GET", "/orders"),
    ("GET", "/orders/o-1"),
    ("POST", "/orders/o-1/cancel"),
]
BACK_OFFICE_ROUTES = [
    ("POST", "/users"),
    ("GET", "/users/u-1"),
    ("PUT", "/inventory/p-1"),
    ("GET", "/inventory/p-1"),
    ("GET", "/orders"),
    ("GET", "/orders/o-1"),
    ("POST", "/orders/o-1/approval"),
]


@pytest.fixture(scope="module")
def ada_claims(local):
    return claims_of(local.token("ada@example.com", "Ada"))


@pytest.fixture(scope="module")
def wrong_tokens(local, ada_claims):
    now = int(time.time())
    tokens = local.client("cognito-idp").initiate_auth(
        ClientId=local.outputs["UserPoolClientId"],
        AuthFlow="USER_PASSWORD_AUTH",
        AuthParameters={"USERNAME": "ada@example.com", "PASSWORD": _password("ada@example.com")},
    )["AuthenticationResult"]
    return {
        "garbage": "not-a-token",
        "malformed": "a.b.c",
        "expired": signed({**ada_claims, "iat": now - 7200, "exp": now - 3600}),
        "wrong issuer": signed({**ada_claims, "iss": "https://cognito-idp.us-east-1.amazonaws.com/us-east-1_other"}),
        "wrongly signed": tampered(tokens["IdToken"]),
        "alg none": unsigned(ada_claims),
        "access token": tokens["AccessToken"],
    }


def _password(email):
    from local_stack.token import local_password

    return local_password(email)


@pytest.mark.parametrize("kind", ["garbage", "malformed", "expired", "wrong issuer", "wrongly signed", "alg none"])
def test_a_bad_token_is_refused_by_both_gateways_before_any_function(local, wrong_tokens, kind):
    for method, path in STOREFRONT_ROUTES:
        response = local.storefront(method, path, wrong_tokens[kind], json={})
        assert (response.status_code, response.json()) == (401, UNAUTHORIZED), (kind, method, path)
    for method, path in BACK_OFFICE_ROUTES:
        response = local.back_office(method, path, wrong_tokens[kind], json={})
        assert (response.status_code, response.json()) == (401, UNAUTHORIZED), (kind, method, path)
    assert "Unauthorized" not in "".join(
        line for line in local.log().splitlines() if line.startswith(("[StorefrontFunction]", "[BackOfficeFunction]"))
    )


def test_no_token_is_401_on_every_route_but_the_public_ones(local):
    for method, path in STOREFRONT_ROUTES:
        assert local.storefront(method, path, json={}).json() == UNAUTHORIZED
    for method, path in BACK_OFFICE_ROUTES:
        assert local.back_office(method, path, json={}).status_code == 401
    for path in ("/openapi.json", "/swagger"):
        assert local.storefront("GET", path).status_code == 200
        assert local.back_office("GET", path).status_code == 200
    assert local.storefront("GET", "/products/never-stocked").status_code == 404


def test_an_access_token_is_not_an_identity_on_either_api(local, wrong_tokens):
    for method, path in STOREFRONT_ROUTES:
        response = local.storefront(method, path, wrong_tokens["access token"], json={})
        assert (response.status_code, response.json()) == (401, UNAUTHORIZED), (method, path)
    for method, path in BACK_OFFICE_ROUTES:
        response = local.back_office(method, path, wrong_tokens["access token"], json={})
        assert (response.status_code, response.json()) == (401, UNAUTHORIZED), (method, path)


def test_a_token_of_another_app_client_is_refused_by_the_storefront(local, ada_claims):
    other_client = signed({**ada_claims, "aud": "another-app-client"})

    assert local.storefront("GET", "/me", other_client).json() == UNAUTHORIZED
    # API Gateway's Cognito authorizer has no audience setting: the back office follows AWS there
    # (and the caller is no member of staff).
    assert local.back_office("GET", "/orders", other_client).status_code == 403


def test_the_bare_token_is_accepted_by_the_back_office_as_by_api_gateway(local):
    staff = local.token("grace@example.com", "Grace", staff=True)

    assert local.back_office("GET", "/orders", headers={"Authorization": staff}).status_code == 200
    assert local.back_office("GET", "/orders", staff).status_code == 200


def test_a_customer_is_forbidden_every_back_office_route_and_changes_nothing(local):
    customer = local.token("ada@example.com", "Ada")
    staff = local.token("grace@example.com", "Grace", staff=True)
    product_id = f"p-{uuid.uuid4().hex[:8]}"

    for method, path in BACK_OFFICE_ROUTES:
        response = local.back_office(method, path, customer, json={"quantity": 1, "price": 1})
        assert response.status_code == 403, (method, path)
        assert "staff" in response.json()["message"]
    refused = local.back_office("PUT", f"/inventory/{product_id}", customer, json={"quantity": 9, "price": 1})

    assert refused.status_code == 403
    assert local.back_office("GET", f"/inventory/{product_id}", staff).status_code == 404


def test_another_customers_order_is_not_found_and_not_listed(local):
    staff = local.token("grace@example.com", "Grace", staff=True)
    ada = local.token("ada@example.com", "Ada")
    eve = local.token("eve@example.com", "Eve")
    local.back_office("PUT", "/inventory/auth-widget", staff, json={"quantity": 9, "price": 1})
    body = {"items": [{"product_id": "auth-widget", "quantity": 1}], "payment_method": "pm_card_visa"}
    order_id = local.storefront("POST", "/orders", ada, json=body).json()["order_id"]

    seen_by_eve = local.storefront("GET", f"/orders/{order_id}", eve)
    unknown = local.storefront("GET", f"/orders/{uuid.uuid4()}", eve)
    listed_for_eve = local.storefront("GET", "/orders?limit=100", eve).json()["items"]

    assert seen_by_eve.status_code == unknown.status_code == 404
    assert order_id not in [order["order_id"] for order in listed_for_eve]
    assert local.storefront("GET", f"/orders/{order_id}", ada).status_code == 200


def test_preflights_need_no_token_on_either_api(local):
    headers = {"Origin": "https://shop.example", "Access-Control-Request-Method": "POST"}

    storefront = local.storefront("OPTIONS", "/orders", headers=headers)
    back_office = local.back_office("OPTIONS", "/users", headers=headers)

    assert storefront.status_code == back_office.status_code == 200
    assert storefront.headers["Access-Control-Allow-Origin"] == "*"
    assert back_office.headers["Access-Control-Allow-Origin"] == "*"


def _written_keys(local):
    """The keys of what the back office's routes could write: profiles, accounts, products (not the
    workflows' reservation markers), orders and imports."""
    dynamodb = local.client("dynamodb")

    def keys(logical_id, key):
        pages = dynamodb.get_paginator("scan").paginate(
            TableName=f"orders-local-{logical_id}", ProjectionExpression=key
        )
        return {item[key]["S"] for page in pages for item in page["Items"]}

    accounts = local.client("cognito-idp").get_paginator("list_users").paginate(UserPoolId=local.outputs["UserPoolId"])
    return {
        "users": keys("UsersTable", "user_id"),
        "accounts": {user["Username"] for page in accounts for user in page["Users"]},
        "products": {key for key in keys("InventoryTable", "product_id") if not key.startswith("reservation#")},
        "orders": keys("OrdersTable", "order_id"),
        "imports": keys("ImportsTable", "import_id"),
    }


def _member_of(local, group):
    """The ID token of a user of the local pool in `group`, through the ordinary Cognito API."""
    idp, pool = local.client("cognito-idp"), local.outputs["UserPoolId"]
    email = f"{group.lower()}-{uuid.uuid4().hex[:8]}@example.com"
    local.token(email, group)  # signed up and confirmed
    with suppress(idp.exceptions.GroupExistsException):
        idp.create_group(UserPoolId=pool, GroupName=group)
    idp.admin_add_user_to_group(UserPoolId=pool, Username=email, GroupName=group)
    token = local.token(email, group)  # logged in again: now with the group
    assert claims_of(token)["cognito:groups"] == [group]
    return token


def test_a_group_that_only_looks_like_staff_is_forbidden_every_back_office_route_and_changes_nothing(
    local, sam_template
):
    routes = sorted(set(route_templates(sam_template, "BackOfficeApi")) - DOCUMENTS)
    assert ("POST", "/quotes") in routes  # the quote workflow's own guard, not the function's
    tokens = {group: _member_of(local, group) for group in ("staffing", "nonstaff", "Staff")}
    ids = {"user_id": claims_of(tokens["Staff"])["sub"], "import_id": str(uuid.uuid4())}
    ids |= {"product_id": f"p-{uuid.uuid4().hex[:8]}", "order_id": str(uuid.uuid4())}
    before = _written_keys(local)

    answers = {}
    for group, token in tokens.items():
        for method, route in routes:
            path = re.sub(r"\{(\w+)\}", lambda parameter: ids[parameter[1]], route)
            response = local.back_office(method, path, token, json=BODIES.get((method, route)))
            answers[group, method, route] = (response.status_code, response.json())

    assert answers == dict.fromkeys(answers, (403, FORBIDDEN))
    assert _written_keys(local) == before
