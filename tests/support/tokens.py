"""Tokens that the local user pool did not issue as they are: signed with moto's own key (the one
moto's Cognito signs with) but with claims of the test's choosing, or not signed at all."""

import base64
import json
from typing import Any

from joserfc import jwt
from joserfc.jwk import KeySet
from moto.utilities.utils import load_resource


def signed(claims: dict[str, Any], header: dict[str, Any] | None = None) -> str:
    keys = KeySet.import_key_set({"keys": [load_resource("cognitoidp/resources/jwks-private.json")]})
    return jwt.encode(header or {"alg": "RS256", "kid": "dummy"}, claims, keys)


def unsigned(claims: dict[str, Any]) -> str:
    def part(value: dict[str, Any]) -> str:
        return base64.urlsafe_b64encode(json.dumps(value).encode()).decode().rstrip("=")

    return f"{part({'alg': 'none', 'typ': 'JWT'})}.{part(claims)}."


def claims_of(token: str) -> dict[str, Any]:
    """The token's claims, read without verification."""
    claims: dict[str, Any] = json.loads(base64.urlsafe_b64decode(token.split(".")[1] + "=="))
    return claims


def tampered(token: str) -> str:
    """The same token with a broken signature."""
    return token[:-8] + ("A" * 8 if not token.endswith("A" * 8) else "B" * 8)
