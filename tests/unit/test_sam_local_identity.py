"""Under `sam local start-api` no authorizer runs (SAM CLI skips Cognito and JWT authorizers), so the
sam-local templates wrap the API functions in the sam-local authorizer layer, which verifies the bearer
ID token against the local pool's JWKS as the authorizers do. The pool's keys are served by a moto
server, as `make dev` serves them. The deployed function, without the layer, never checks a token."""

import dataclasses
import os
import time
from typing import Any

import pytest

from local_stack.apigateway.sam_cli import only_api
from local_stack.cloudformation.template import read_source
from local_stack.lambda_runtime.functions import FunctionInstance
from local_stack.sam_local_templates import AUTHORIZER_LAYER, AUTHORIZER_SOURCE, with_local_authorizer
from local_stack.server import sam_local_env_vars
from support.api import ApiClient, route_templates
from support.aws import table_items
from support.tokens import claims_of, signed, tampered, unsigned

UNAUTHORIZED = (401, {"message": "Unauthorized"})
PASSWORD = "Local-Passw0rd!"


@pytest.fixture
def moto_endpoint(stack, moto_server) -> str:
    """moto's server on the same state as the test's stack (it serves the pool's JWKS)."""
    return moto_server


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
    """The API's function as `sam local start-api` runs it from its sam-local template: no claims in
    the event, the token in the Authorization header, SAM CLI's AWS_SAM_LOCAL, make dev's --env-vars,
    and (with `sam_local`) the handler, layer and variables that the sam-local template gives it."""
    function = "StorefrontFunction" if api == "StorefrontApi" else "BackOfficeFunction"
    spec = stack.functions[function]
    environment = {**os.environ, "AWS_SAM_LOCAL": "true"}
    environment.pop("AWS_ENDPOINT_URL", None)
    if moto_endpoint is not None:  # SAM CLI against an account has no local pool to check a token with
        environment |= sam_local_env_vars(stack, moto_endpoint)["Parameters"]
    if sam_local:
        template = with_local_authorizer(only_api(read_source(), api), api, AUTHORIZER_SOURCE)
        properties = template["Resources"][function]["Properties"]
        assert properties["Layers"] == [{"Ref": AUTHORIZER_LAYER}]
        assert template["Resources"][AUTHORIZER_LAYER]["Properties"]["ContentUri"] == str(AUTHORIZER_SOURCE)
        declared = properties["Environment"]["Variables"]
        spec = dataclasses.replace(
            spec,
            handler=properties["Handler"],
            layer_dirs=(*spec.layer_dirs, AUTHORIZER_SOURCE),
            environment=spec.environment | {"SAM_LOCAL_HANDLER": declared["SAM_LOCAL_HANDLER"]},
        )
    routes = route_templates(sam_template, api)
    return ApiClient(FunctionInstance(spec, base_environment=environment), routes, http_api=api == "StorefrontApi")


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


def test_the_deployed_function_never_trusts_a_bearer_token_itself(stack, sam_template, moto_endpoint, tokens):
    """Without the sam-local layer (as deployed), even under SAM CLI with the local pool at hand."""
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
