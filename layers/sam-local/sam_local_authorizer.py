"""API Gateway's authorizers under `sam local start-api`, which runs no Cognito or JWT authorizer (a
SAM CLI limitation). This layer is only in the per-API templates that `python -m local_stack.sam_local_templates`
writes for `start-api`, never in what `sam deploy` ships; there it wraps the API function's handler
(SAM_LOCAL_HANDLER) and does what the authorizer does on AWS: it checks the bearer ID token — its RS256
signature against the JWKS of the local user pool (make dev's, at AWS_ENDPOINT_URL), its expiry, the
pool as issuer and the app client as audience — and hands its claims to the function where the gateway
puts them. A token that fails any of these gives no claims: the function answers 401, as on AWS.
"""

from __future__ import annotations

import importlib
import os
from collections.abc import Callable
from functools import cache
from typing import Any

import jwt


@cache
def _signing_keys() -> jwt.PyJWKClient:
    """The local pool's keys, fetched once per execution environment (moto serves the pool's JWKS)."""
    return jwt.PyJWKClient(
        f"{os.environ['AWS_ENDPOINT_URL']}/{os.environ['USER_POOL_ID']}/.well-known/jwks.json", timeout=5
    )


def bearer_claims(authorization: str | None) -> dict[str, Any]:
    """The verified claims of `Authorization: Bearer <ID token>`, or {}."""
    scheme, _, token = (authorization or "").partition(" ")
    if scheme.lower() != "bearer" or not token or "AWS_ENDPOINT_URL" not in os.environ:
        return {}
    try:
        claims: dict[str, Any] = jwt.decode(
            token,
            _signing_keys().get_signing_key_from_jwt(token),
            algorithms=["RS256"],
            audience=os.environ["USER_POOL_CLIENT_ID"],
            options={"require": ["exp", "iss", "sub", "aud", "token_use"]},
        )
    except jwt.PyJWTError:
        return {}
    return claims if str(claims["iss"]).endswith(f"/{os.environ['USER_POOL_ID']}") else {}


@cache
def _function_handler() -> Callable[[dict[str, Any], Any], Any]:
    module, name = os.environ["SAM_LOCAL_HANDLER"].rsplit(".", 1)
    handler: Callable[[dict[str, Any], Any], Any] = getattr(importlib.import_module(module), name)
    return handler


def handler(event: dict[str, Any], context: Any) -> Any:
    """The function's handler, given the claims that the API's authorizer would have verified:
    `requestContext.authorizer.jwt.claims` (HTTP API, payload 2.0) or `.claims` (REST API)."""
    headers = {name.lower(): value for name, value in (event.get("headers") or {}).items()}
    claims = bearer_claims(headers.get("authorization"))
    request_context = event.setdefault("requestContext", {})
    if claims and not request_context.get("authorizer"):
        http_api = event.get("version") == "2.0"
        request_context["authorizer"] = {"jwt": {"claims": claims, "scopes": None}} if http_api else {"claims": claims}
    return _function_handler()(event, context)
