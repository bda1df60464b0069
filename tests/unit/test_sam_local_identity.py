"""Under `sam local start-api` no authorizer runs (SAM CLI skips Cognito and JWT authorizers), so the
API functions verify the bearer ID token themselves against the local pool's JWKS — only when SAM CLI
says so (AWS_SAM_LOCAL=true). The pool's keys are served by a moto server, as `make dev` serves them."""

import os
import time
from collections.abc import Iterator
from typing import Any

import pytest
from moto.server import ThreadedMotoServer

from local_stack.functions import FunctionInstance
from local_stack.server import free_port
from support.api import ApiClient, route_templates
from support.aws import table_items
from support.tokens import claims_of, signed, tampered, unsigned

UNAUTHORIZED = (401, {"message": "Unauthorized"})
PASSWORD = "Local-Passw0rd!"


@pytest.fixture
def moto_endpoint(stack) -> Iterator[str]:
    """moto's server on the same state as the test's stack (it serves the pool's JWKS)."""
    port = free_port()
    server = ThreadedMotoServer(port=port, verbose=False)
    server.start()
    yield f"http://127.0.0.1:{port}"
    server.stop()


@pytest.fixture
def tokens(stack) -> Any:
    """tokens(email, staff=False) -> the user's ID and access tokens, issued by the stack's pool."""
    idp, pool = stack.client("cognito-idp"), stack.ref("UserPool")

    def log_in(email: str, staff: bool = False) -> dict[str, str]:
        attributes = [{"Name": "email", "Value": email}, {"Name": "name", "Value": "Sam"}]
        idp.admin_create_user(UserPoolId=pool, Username=email, UserAttributes=attributes, MessageAction="SUPPRESS")
        idp.admin_set_user_password(UserPoolId=pool, Username=email, Password=PASSWORD, Permanent=True)
        if staff:
            idp.admin_add_user_to_group(UserPoolId=pool, Username=email, GroupName="staff")
        return idp.initiate_auth(
            ClientId=stack.ref("UserPoolClient"),
            AuthFlow="USER_PASSWORD_AUTH",
            AuthParameters={"USERNAME": email, "PASSWORD": PASSWORD},
        )["AuthenticationResult"]

    return log_in


def api_under(stack, sam_template, moto_endpoint: str | None, api: str, sam_local: bool = True) -> ApiClient:
    """The API's function as `sam local start-api` runs it: no claims in the event, the token in the
    Authorization header, and (with `sam_local`) the variable SAM CLI sets."""
    function = "StorefrontFunction" if api == "StorefrontApi" else "BackOfficeFunction"
    environment = {**os.environ, "AWS_ENDPOINT_URL": moto_endpoint}
    if moto_endpoint is None:  # SAM CLI against an account: no local pool to check a token with
        environment.pop("AWS_ENDPOINT_URL")
    environment.pop("AWS_SAM_LOCAL", None)
    if sam_local:
        environment["AWS_SAM_LOCAL"] = "true"
    instance = FunctionInstance(stack.functions[function], base_environment=environment)
    return ApiClient(instance, route_templates(sam_template, api), http_api=api == "StorefrontApi", claims=None)


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def test_a_customer_token_is_the_caller_and_staff_tokens_run_the_back_office(
    stack, sam_template, moto_endpoint, tokens
):
    storefront = api_under(stack, sam_template, moto_endpoint, "StorefrontApi")
    back_office = api_under(stack, sam_template, moto_endpoint, "BackOfficeApi")
    staff, customer = tokens("staff@example.com", staff=True), tokens("sam@example.com")

    stocked = back_office.request("PUT", "/inventory/p-1", {"quantity": 3, "price": 2.5}, bearer(staff["IdToken"]))
    placed = storefront.request(
        "POST",
        "/orders",
        {"items": [{"product_id": "p-1", "quantity": 1}], "payment_method": "pm_card_visa"},
        bearer(customer["IdToken"]),
    )
    refused = back_office.request("GET", "/orders", headers=bearer(customer["IdToken"]))

    assert stocked.status == 200, stocked.body
    assert placed.status == 202, placed.body
    [order] = table_items(stack, "OrdersTable")
    assert (order["order_id"], order["user_id"]) == (placed.body["order_id"], claims_of(customer["IdToken"])["sub"])
    assert refused.status == 403


def test_every_token_the_authorizer_would_refuse_is_401(stack, sam_template, moto_endpoint, tokens):
    storefront = api_under(stack, sam_template, moto_endpoint, "StorefrontApi")
    customer = tokens("sam@example.com")
    claims, now = claims_of(customer["IdToken"]), int(time.time())
    refused = {
        "no token": {},
        "not a bearer token": {"Authorization": f"Basic {customer['IdToken']}"},
        "garbage": bearer("not-a-token"),
        "wrongly signed": bearer(tampered(customer["IdToken"])),
        "alg none": bearer(unsigned(claims)),
        "expired": bearer(signed({**claims, "iat": now - 7200, "exp": now - 3600})),
        "another pool": bearer(signed({**claims, "iss": "https://cognito-idp.us-east-1.amazonaws.com/us-east-1_x"})),
        "another app client": bearer(signed({**claims, "aud": "another-app-client"})),
        "access token": bearer(customer["AccessToken"]),
        # Signed by the pool, but without a claim that an ID token always carries.
        **{
            f"no {claim}": bearer(signed({name: value for name, value in claims.items() if name != claim}))
            for claim in ("exp", "token_use")
        },
    }

    answers = {kind: storefront.request("GET", "/orders", headers=headers) for kind, headers in refused.items()}

    assert {kind: (a.status, a.body) for kind, a in answers.items()} == dict.fromkeys(refused, UNAUTHORIZED)
    assert storefront.request("GET", "/orders", headers=bearer(customer["IdToken"])).status == 200


def test_outside_sam_local_a_bearer_token_without_claims_is_never_trusted(stack, sam_template, moto_endpoint, tokens):
    storefront = api_under(stack, sam_template, moto_endpoint, "StorefrontApi", sam_local=False)
    back_office = api_under(stack, sam_template, moto_endpoint, "BackOfficeApi", sam_local=False)
    staff = tokens("staff@example.com", staff=True)

    answer = storefront.request("GET", "/orders", headers=bearer(staff["IdToken"]))
    staff_answer = back_office.request("GET", "/orders", headers=bearer(staff["IdToken"]))

    assert (answer.status, answer.body) == UNAUTHORIZED
    assert (staff_answer.status, staff_answer.body) == UNAUTHORIZED


def test_under_sam_local_without_a_local_endpoint_a_token_is_not_checked_and_not_trusted(stack, sam_template, tokens):
    storefront = api_under(stack, sam_template, None, "StorefrontApi")
    customer = tokens("sam@example.com")

    answer = storefront.request("GET", "/orders", headers=bearer(customer["IdToken"]))

    assert (answer.status, answer.body) == UNAUTHORIZED
