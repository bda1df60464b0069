"""Each fault and exactly the alarms of the template that it must fire: the table that drives
tests/workflow/test_alarms.py, and that tests/template/ checks covers every alarm of the template."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Fault:
    kind: str  # what goes wrong (the test module injects it)
    target: str  # the logical id of what it strikes
    alarms: frozenset[str]  # the alarms that go to ALARM, and none other
    over: bool = False  # the fault ended before the evaluation: its alarms are back to OK

    @property
    def id(self) -> str:
        return f"{self.kind}:{self.target}"


FUNCTIONS = (
    "StorefrontFunction",
    "BackOfficeFunction",
    "CreateProfileFunction",
    "PublishOrderEventsFunction",
    "ProcessOrderFunction",
    "NotifyFunction",
    "AnalyticsFunction",
    "ValidateOrderFunction",
    "UpdateInventoryFunction",
    "RequestApprovalFunction",
    "CheckPaymentCircuitFunction",
    "ChargePaymentFunction",
    "CloseOrderFunction",
    "ExecutionWatcherFunction",
    "ValidateQuoteFunction",
    "PriceQuoteFunction",
    "StartImportFunction",
    "PrepareImportFunction",
    "ImportChunkFunction",
    "FinishImportFunction",
)
DEAD_LETTER_QUEUES = (
    "PublishOrderEventsDLQ",
    "OrderCreatedDeliveryDLQ",
    "AsyncFailuresQueue",
    "ProcessOrderDLQ",
    "NotifyDLQ",
    "AnalyticsDLQ",
    "ShippingDLQ",
    "ConfirmationDLQ",
    "ExecutionWatcherDLQ",
    "ExecutionEventsDeliveryDLQ",
    "StartImportDLQ",
    "ImportEventsDeliveryDLQ",
)
WORKFLOWS = ("OrderWorkflow", "QuoteWorkflow", "ImportWorkflow", "ImportChunkWorkflow")
# A payment provider outage that ends before PaymentMaxWait: the charges that met it failed (a
# fault: the provider is down) and orders waited while the breaker was open. Nothing else.
PROVIDER_OUTAGE_ALARMS = frozenset({"ChargePaymentErrorsAlarm", "PaymentCircuitOpenAlarm"})


def _errors_alarm(function: str) -> str:
    return f"{function.removesuffix('Function')}ErrorsAlarm"


FAULTS = (
    # An unhandled exception: the function's Errors, whoever invoked it.
    *(Fault("crash", function, frozenset({_errors_alarm(function)})) for function in FUNCTIONS),
    # Lambda refuses an invocation: the function never runs. Lambda's account-level Throttles
    # counts every function's, so one throttle anywhere fires the one alarm. On AWS the account's
    # concurrency runs out (no function reserves any); the local runtime has no account limit (its
    # excess invocations wait), so the fault is a reserved concurrency of 0, which AWS counts alike.
    Fault("throttle", "ProcessOrderFunction", frozenset({"LambdaThrottlesAlarm"})),
    *(Fault("dead letter", queue, frozenset({f"{queue}Alarm"})) for queue in DEAD_LETTER_QUEUES),
    # An asynchronous invocation that fails every attempt: its errors, then the event in the
    # function's DLQ and the invocation record in the on-failure destination.
    Fault(
        "retries exhausted",
        "NotifyFunction",
        frozenset({"NotifyErrorsAlarm", "NotifyDLQAlarm", "AsyncFailuresQueueAlarm"}),
    ),
    *(Fault("failed execution", machine, frozenset({f"{machine}FailedAlarm"})) for machine in WORKFLOWS),
    *(Fault("timed-out execution", machine, frozenset({f"{machine}TimedOutAlarm"})) for machine in WORKFLOWS),
    # A storefront request whose DynamoDB call hangs runs past the function's timeout: an Errors
    # datapoint and the gateway's 500.
    Fault("timeout", "StorefrontApi", frozenset({"StorefrontErrorsAlarm", "Storefront5xxRateAlarm"})),
    # DynamoDB fails a back-office request: the function answers 500 itself (no function error).
    Fault("5xx", "BackOfficeApi", frozenset({"BackOffice5xxRateAlarm"})),
    # A DynamoDB call that takes 1.5 s: the request's latency, the 99th percentile of the period.
    Fault("slow", "StorefrontApi", frozenset({"StorefrontLatencyP99Alarm"})),
    Fault("slow", "BackOfficeApi", frozenset({"BackOfficeLatencyP99Alarm"})),
    Fault("provider outage", "PaymentProvider", PROVIDER_OUTAGE_ALARMS, over=True),
)
