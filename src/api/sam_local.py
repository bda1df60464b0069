"""Identity under `sam local start-api`, which runs no Cognito or JWT authorizer (a SAM CLI
limitation): a route that needs a caller would get no claims at all. Only there (SAM CLI sets
AWS_SAM_LOCAL=true; Lambda never does) and only when the gateway handed no claims, the function
checks the bearer ID token itself, as the authorizers do on AWS: its RS256 signature against the
JWKS of the local user pool (make dev's, at AWS_ENDPOINT_URL), its expiry, the pool as issuer and
the app client as audience. A token that fails any of these yields no claims: 401, as on AWS.
"""

import os
from functools import cache
from typing import Any

import jwt

from orders_domain.settings import get_settings


@cache
def _signing_keys() -> jwt.PyJWKClient:
    """The local pool's keys, fetched once per execution environment (moto serves the pool's JWKS)."""
    pool = get_settings().require("user_pool_id")
    return jwt.PyJWKClient(f"{os.environ['AWS_ENDPOINT_URL']}/{pool}/.well-known/jwks.json", timeout=5)


def bearer_claims(authorization: str | None) -> dict[str, Any]:
    """The verified claims of `Authorization: Bearer <ID token>`, or {}."""
    scheme, _, token = (authorization or "").partition(" ")
    if scheme.lower() != "bearer" or not token or "AWS_ENDPOINT_URL" not in os.environ:
        return {}
    settings = get_settings()
    try:
        claims: dict[str, Any] = jwt.decode(
            token,
            _signing_keys().get_signing_key_from_jwt(token),
            algorithms=["RS256"],
            audience=settings.require("user_pool_client_id"),
            options={"require": ["exp", "iss", "sub", "aud", "token_use"]},
        )
    except jwt.PyJWTError:
        return {}
    return claims if str(claims["iss"]).endswith(f"/{settings.require('user_pool_id')}") else {}
