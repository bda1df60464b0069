"""API Gateway's side of a request that SAM CLI's local emulation leaves out: the authorizers.

SAM CLI emulates only Lambda authorizers; the HTTP API's JWT authorizer and the REST API's Cognito
user-pool authorizer are skipped, so every route would run unauthenticated. Here each route's
authorizer is read from the API's definition in the transformed template (its `security` and the
`x-amazon-apigateway-authorizer` it names) and enforced as API Gateway enforces it: RS256 signature
against the pool's keys (moto's, from configuration: `iss` names AWS), issuer, expiry, audience
(JWT: `aud`, or `client_id` when there is no `aud`) or `token_use` = id (Cognito, no scopes). A
refused request gets API Gateway's 401 `{"message": "Unauthorized"}` before any function runs; an
accepted one reaches the function with the claims where API Gateway puts them.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from typing import Any

from joserfc import jwt
from joserfc.errors import JoseError
from joserfc.jwk import KeySet
from moto.utilities.utils import load_resource

from local_stack.cloudformation.deploy import Stack
from local_stack.cloudformation.template import REGION

UNAUTHORIZED = {
    "statusCode": 401,
    "headers": {"Content-Type": "application/json"},
    "body": json.dumps({"message": "Unauthorized"}),
}


def integration_failure(http_api: bool) -> dict[str, Any]:
    """What API Gateway answers when the function fails (an error, a timeout, a crash, a throttle):
    SAM CLI answers 500 for both kinds of API."""
    status, message = (500, "Internal Server Error") if http_api else (502, "Internal server error")
    return {
        "statusCode": status,
        "headers": {"Content-Type": "application/json"},
        "body": json.dumps({"message": message}),
    }


_METHODS = ("get", "put", "post", "delete", "patch", "head", "options")


@dataclass(frozen=True)
class Authorizer:
    kind: str  # "jwt" (HTTP API) or "cognito_user_pools" (REST API)
    issuers: tuple[str, ...]
    audience: tuple[str, ...] = ()


class UnauthorizedRequest(Exception):  # noqa: N818 - what the gateway answers
    pass


def pool_keys() -> KeySet:
    """The public keys of moto's user pools (one key, kid "dummy", for every pool)."""
    return KeySet.import_key_set(load_resource("cognitoidp/resources/jwks-public.json"))


class ApiAuthorizers:
    """Which authorizer guards each route of one API, and its verdict on a request."""

    def __init__(self, stack: Stack, api_logical_id: str) -> None:
        body = stack.resolve(stack.template.properties(api_logical_id)["Body"])
        schemes = body.get("securityDefinitions") or body.get("components", {}).get("securitySchemes", {})
        self.http_api = stack.template.resources[api_logical_id]["Type"] == "AWS::ApiGatewayV2::Api"
        authorizers = {name: self._authorizer(scheme) for name, scheme in schemes.items()}
        self.routes: dict[tuple[str, str], Authorizer | None] = {}
        for path, methods in body.get("paths", {}).items():
            for method, operation in methods.items():
                if method not in _METHODS:
                    continue
                names = [name for requirement in operation.get("security", []) for name in requirement]
                guard = next((authorizers[name] for name in names if name in authorizers), None)
                self.routes[(method.upper(), path)] = guard
        self.keys = pool_keys()

    @staticmethod
    def _authorizer(scheme: dict[str, Any]) -> Authorizer | None:
        config = scheme.get("x-amazon-apigateway-authorizer", {})
        if config.get("type") == "jwt":
            jwt_config = config["jwtConfiguration"]
            return Authorizer("jwt", (jwt_config["issuer"],), tuple(jwt_config.get("audience", [])))
        if config.get("type") == "cognito_user_pools":
            pools = [arn.rsplit("/", 1)[1] for arn in config["providerARNs"]]
            issuers = tuple(f"https://cognito-idp.{REGION}.amazonaws.com/{pool}" for pool in pools)
            return Authorizer("cognito_user_pools", issuers)
        return None

    def authorize(self, event: dict[str, Any]) -> dict[str, Any]:
        """The event as the function receives it, with the verified claims; raises UnauthorizedRequest."""
        if self.http_api:
            method, route = event["routeKey"].split(" ", 1)
        else:
            method, route = event["httpMethod"], event["resource"]
        guard = self.routes.get((method, route))
        if guard is None:
            return event
        headers = {name.lower(): value for name, value in (event.get("headers") or {}).items()}
        claims = self.verify(guard, headers.get("authorization", ""))
        context = event.setdefault("requestContext", {})
        if self.http_api:
            context["authorizer"] = {"jwt": {"claims": gateway_claims(claims, http_api=True), "scopes": None}}
        else:
            context["authorizer"] = {"claims": gateway_claims(claims, http_api=False)}
        return event

    def verify(self, guard: Authorizer, header: str) -> dict[str, Any]:
        token = header.removeprefix("Bearer ").strip()
        if not token:
            raise UnauthorizedRequest("no token")
        try:
            decoded = jwt.decode(token, self.keys, algorithms=["RS256"])
        except (JoseError, ValueError) as error:
            raise UnauthorizedRequest(f"bad token: {error}") from error
        claims = dict(decoded.claims)
        now = time.time()
        if claims.get("iss") not in guard.issuers:
            raise UnauthorizedRequest("wrong issuer")
        if not isinstance(claims.get("exp"), int | float) or claims["exp"] <= now:
            raise UnauthorizedRequest("expired")
        if guard.kind == "jwt":
            if isinstance(claims.get("nbf"), int | float) and claims["nbf"] > now:
                raise UnauthorizedRequest("not yet valid")
            audience = claims.get("aud", claims.get("client_id"))
            audiences = audience if isinstance(audience, list) else [audience]
            if not set(audiences) & set(guard.audience):
                raise UnauthorizedRequest("wrong audience")
        elif claims.get("token_use") != "id":
            raise UnauthorizedRequest("not an ID token")
        return claims


def gateway_claims(claims: dict[str, Any], http_api: bool) -> dict[str, str]:
    """Claims as each gateway hands them on: strings; a list becomes "[a b]" (HTTP API) or "a,b" (REST)."""
    rendered = {}
    for name, value in claims.items():
        if isinstance(value, list):
            rendered[name] = "[" + " ".join(map(str, value)) + "]" if http_api else ",".join(map(str, value))
        else:
            rendered[name] = str(value)
    return rendered
