"""Calls ApiFunction's handler with API Gateway proxy events built from the samples in events/."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from local_stack.functions import FunctionInstance

EVENTS = Path(__file__).resolve().parents[2] / "events"


def load_event(name: str) -> dict[str, Any]:
    event: dict[str, Any] = json.loads((EVENTS / name).read_text())
    return event


def _route_samples() -> list[dict[str, Any]]:
    return [load_event(path.name) for path in sorted(EVENTS.glob("api_*.json"))]


@dataclass
class ApiResponse:
    status: int
    body: Any
    headers: dict[str, str]


class ApiClient:
    def __init__(self, function: FunctionInstance) -> None:
        self.function = function
        self.samples = _route_samples()

    def request(
        self,
        method: str,
        path: str,
        body: Any = None,
        headers: dict[str, str] | None = None,
        raw_body: str | None = None,
        timeout: float | None = None,
    ) -> ApiResponse:
        event = self.event_for(method, path)
        event["body"] = raw_body if raw_body is not None else (None if body is None else json.dumps(body))
        # The samples' own Idempotency-Key is for `sam local invoke`: a test sends only the keys it names.
        sample_headers = {name: value for name, value in event["headers"].items() if name != "Idempotency-Key"}
        event["headers"] = {**sample_headers, **(headers or {})}
        event["multiValueHeaders"] = {name: [value] for name, value in event["headers"].items()}
        response = self.function.invoke(event, timeout=timeout)
        text = response.get("body") or ""
        headers = {name: values[-1] for name, values in (response.get("multiValueHeaders") or {}).items()}
        headers.update(response.get("headers") or {})
        return ApiResponse(response["statusCode"], json.loads(text) if text else None, headers)

    def event_for(self, method: str, path: str) -> dict[str, Any]:
        """The sample event of the route that matches, with this path's parameters filled in."""
        for sample in self.samples:
            pattern = re.sub(r"\\\{(\w+)\\\}", r"(?P<\1>[^/]+)", re.escape(sample["resource"]))
            match = re.fullmatch(pattern, path)
            if sample["httpMethod"] == method and match:
                parameters = match.groupdict() or None
                context = {**sample["requestContext"], "path": f"/dev{path}", "httpMethod": method}
                return {**sample, "path": path, "pathParameters": parameters, "requestContext": context}
        sample = dict(self.samples[0])
        context = {**sample["requestContext"], "resourcePath": path, "httpMethod": method}
        return {
            **sample,
            "httpMethod": method,
            "path": path,
            "resource": path,
            "pathParameters": None,
            "requestContext": context,
        }

    def get(self, path: str, **kwargs: Any) -> ApiResponse:
        return self.request("GET", path, **kwargs)

    def post(self, path: str, body: Any = None, **kwargs: Any) -> ApiResponse:
        return self.request("POST", path, body, **kwargs)

    def put(self, path: str, body: Any = None, **kwargs: Any) -> ApiResponse:
        return self.request("PUT", path, body, **kwargs)
