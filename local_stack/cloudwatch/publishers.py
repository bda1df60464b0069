"""What AWS services publish to CloudWatch, published by their local counterparts:

- AWS/Lambda per function (FunctionName): Invocations, Errors (every invocation that ends in an
  unhandled exception, a timeout or a crash), Throttles, Duration; and the function's own EMF
  metrics. `MeteredFunction` wraps a function's instance (in process) or pool (worker processes).
  Each is also published without a dimension: Lambda's aggregate across every function of the
  account and region, which the account-level throttles alarm watches.
- AWS/States per state machine (StateMachineArn): ExecutionsStarted and, when an execution ends,
  ExecutionsSucceeded/Failed/TimedOut/Aborted.
- AWS/ApiGateway per API: a REST API's 4XXError/5XXError/Count/Latency by ApiName (and ApiName,
  Stage); an HTTP API's 4xx/5xx/Count/Latency by ApiId (and ApiId, Stage). Each request counts 0
  or 1 in 4XX and 5XX, so that Average is the error rate, as on AWS.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from local_stack.cloudwatch import emf
from local_stack.cloudwatch.metrics import MetricSink
from local_stack.lambda_runtime.functions import FunctionError, FunctionSpec, Invocable, Throttled

if TYPE_CHECKING:
    from local_stack.cloudformation.deploy import Stack

ACROSS_ALL_FUNCTIONS: dict[str, str] = {}  # Lambda's account-level metrics have no dimension
EXECUTION_OUTCOMES = {
    "SUCCEEDED": "ExecutionsSucceeded",
    "FAILED": "ExecutionsFailed",
    "TIMED_OUT": "ExecutionsTimedOut",
    "ABORTED": "ExecutionsAborted",
}


class MeteredFunction:
    """A function as Lambda meters it; everything else (a test's `module()`) is the wrapped one's."""

    def __init__(self, spec: FunctionSpec, inner: Invocable, sink: MetricSink) -> None:
        self.spec = spec
        self.inner = inner
        self.sink = sink

    def invoke(self, event: Any, timeout: float | None = None) -> Any:
        started = self.sink.clock()
        with emf.collecting() as printed:
            try:
                result = self.inner.invoke(event, timeout)
            except Throttled:
                self._put("Throttles", 1)
                raise
            except FunctionError:
                self._invocation(started, failed=True)
                raise
            finally:
                for emitted in printed:
                    for namespace, name, dimensions, value, unit in emf.datapoints(emitted):
                        self.sink.put(namespace, name, dimensions, value, unit)
        self._invocation(started, failed=False)
        return result

    def __getattr__(self, name: str) -> Any:
        return getattr(self.inner, name)

    def _invocation(self, started: float, failed: bool) -> None:
        self._put("Invocations", 1)
        self._put("Errors", int(failed))
        self._put("Throttles", 0)
        self._put("Duration", (self.sink.clock() - started) * 1000, "Milliseconds")

    def _put(self, name: str, value: float, unit: str = "Count") -> None:
        for dimensions in ({"FunctionName": self.spec.name}, ACROSS_ALL_FUNCTIONS):
            self.sink.put("AWS/Lambda", name, dimensions, value, unit)


def execution_started(sink: MetricSink, state_machine_arn: str) -> None:
    sink.put("AWS/States", "ExecutionsStarted", {"StateMachineArn": state_machine_arn}, 1)


def execution_ended(sink: MetricSink, state_machine_arn: str, status: str) -> None:
    if status in EXECUTION_OUTCOMES:
        sink.put("AWS/States", EXECUTION_OUTCOMES[status], {"StateMachineArn": state_machine_arn}, 1)


class ApiMetrics:
    """One API's request metrics, with the dimensions its alarms name (from the template)."""

    def __init__(self, stack: Stack, api_logical_id: str, sink: MetricSink) -> None:
        self.sink = sink
        http_api = stack.template.resources[api_logical_id]["Type"] == "AWS::ApiGatewayV2::Api"
        if http_api:
            api = {"ApiId": str(stack.ref(api_logical_id))}
            self.client_error, self.server_error = "4xx", "5xx"
        else:
            api = {"ApiName": str(stack.resolve(stack.template.properties(api_logical_id)["Name"]))}
            self.client_error, self.server_error = "4XXError", "5XXError"
        stage_type, api_key = (
            ("AWS::ApiGatewayV2::Stage", "ApiId") if http_api else ("AWS::ApiGateway::Stage", "RestApiId")
        )
        stages = [
            str(stack.resolve(resource["Properties"]["StageName"]))
            for resource in stack.template.of_type(stage_type).values()
            if resource["Properties"].get(api_key) == {"Ref": api_logical_id}
        ]
        self.dimension_sets = [api, *({**api, "Stage": stage} for stage in stages)]

    def started(self) -> float:
        return self.sink.clock()

    def record(self, status: int, started: float) -> None:
        latency = (self.sink.clock() - started) * 1000
        for dimensions in self.dimension_sets:
            self.sink.put("AWS/ApiGateway", self.client_error, dimensions, int(400 <= status < 500))
            self.sink.put("AWS/ApiGateway", self.server_error, dimensions, int(status >= 500))
            self.sink.put("AWS/ApiGateway", "Count", dimensions, 1)
            self.sink.put("AWS/ApiGateway", "Latency", dimensions, latency, "Milliseconds")
