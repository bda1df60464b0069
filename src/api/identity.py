"""Who is calling: the claims that API Gateway's authorizer verified and handed to the function
(`requestContext.authorizer.claims` for the REST API, `.jwt.claims` for the HTTP API). The function
never checks a token itself (under `sam local start-api`, the sam-local layer plays the authorizer)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from aws_lambda_powertools.utilities.data_classes.api_gateway_proxy_event import (
    APIGatewayProxyEvent,
    APIGatewayProxyEventV2,
)
from aws_lambda_powertools.utilities.data_classes.common import BaseProxyEvent

STAFF_GROUP = "staff"


class Unauthorized(Exception):  # noqa: N818 - the HTTP status it stands for
    """No identity the API accepts (401)."""


class Forbidden(Exception):  # noqa: N818 - the HTTP status it stands for
    """An identity that may not use this route (403)."""


@dataclass(frozen=True)
class Caller:
    user_id: str  # the Cognito user's sub
    groups: frozenset[str]

    @property
    def is_staff(self) -> bool:
        return STAFF_GROUP in self.groups


def claims_of(event: BaseProxyEvent) -> dict[str, Any]:
    """The verified claims, or {} on a route without an authorizer (Powertools reads a missing or null
    authorizer, `jwt` or `claims` as empty)."""
    if isinstance(event, APIGatewayProxyEventV2):
        return dict(event.request_context.authorizer.jwt_claim)
    if isinstance(event, APIGatewayProxyEvent):
        return dict(event.request_context.authorizer.claims)
    return {}


def _groups(value: Any) -> frozenset[str]:
    """`cognito:groups` as each gateway renders it: a list, "a,b" (REST) or "[a b]" (HTTP API)."""
    if isinstance(value, list):
        return frozenset(str(group) for group in value)
    return frozenset(group for group in re.split(r"[\s,]+", str(value or "").strip("[]")) if group)


def caller_of(event: BaseProxyEvent) -> Caller:
    """The caller of a route that needs one. An HTTP API JWT authorizer also lets a pool's access
    token through (it checks `client_id` when there is no `aud`): only ID tokens identify a caller."""
    claims = claims_of(event)
    if claims.get("token_use") != "id" or not claims.get("sub"):
        raise Unauthorized
    return Caller(
        user_id=str(claims["sub"]),
        groups=_groups(claims.get("cognito:groups")),
    )


def staff_of(event: BaseProxyEvent) -> Caller:
    caller = caller_of(event)
    if not caller.is_staff:
        raise Forbidden(f"only members of the {STAFF_GROUP} group may use the back office")
    return caller
