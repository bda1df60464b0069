"""What a client is told about a body it got wrong, wherever the body is read (the API functions,
the quote workflow's validation task): JSON parsed strictly, and bounded error bodies that never
echo the input."""

import json
from typing import Any

from orders_domain.errors import bounded

# An error body stays a few KB whatever the input: so many problems, each so long (`bounded`).
MAX_DETAILS = 10

NOT_JSON = "request body is not valid JSON"


def error_body(message: str, **extra: Any) -> dict[str, Any]:
    return {"message": bounded(message), **extra}


def invalid_body(problems: list[dict[str, Any]]) -> dict[str, Any]:
    """A 422's body naming at most MAX_DETAILS problems (pydantic's `loc` and `msg`), and how many
    there were."""
    details = [
        {"location": bounded(".".join(str(part) for part in problem["loc"])), "message": bounded(problem["msg"])}
        for problem in problems[:MAX_DETAILS]
    ]
    summary = "; ".join(f"{d['location']}: {d['message']}" for d in details[:3])
    if len(problems) > 3:
        summary += f" (and {len(problems) - 3} more)"
    return error_body(f"invalid request: {summary}", details=details)


def parse_json_body(body: str) -> Any:
    """json.loads, where every way a body fails to be standard JSON is a JSONDecodeError (a 400): also
    NaN and Infinity, integers too long for int(), and nesting too deep to parse."""

    def not_json(constant: str) -> None:
        raise ValueError(f"{constant} is not JSON")

    try:
        return json.loads(body, parse_constant=not_json)
    except json.JSONDecodeError:
        raise
    except (ValueError, RecursionError) as error:
        raise json.JSONDecodeError(f"not JSON: {type(error).__name__}", body, 0) from error
