"""The domain's data: what clients send (strictly validated) and what is stored and returned."""

from datetime import UTC, datetime
from decimal import Decimal
from enum import StrEnum
from typing import Annotated, Any

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    PlainSerializer,
    StringConstraints,
    WithJsonSchema,
)

MAX_ORDER_LINES = 25  # one reservation transaction holds every line plus its marker (limit 100)
MAX_LINE_QUANTITY = 1_000
MAX_STOCK_QUANTITY = 1_000_000_000
MAX_PRICE = Decimal("1000000")

# Ids are DynamoDB partition keys and Step Functions execution names: short, printable, no '#'
# (reservation markers use it), no '/' (path segments).
Identifier = Annotated[str, StringConstraints(min_length=1, max_length=128, pattern=r"^[A-Za-z0-9][A-Za-z0-9._:-]*$")]


def _json_number(value: Decimal) -> int | float:
    return int(value) if value == value.to_integral_value() else float(value)


def _number_only(value: Any) -> Any:
    """Accept JSON numbers only (not strings or booleans), exactly, as Decimal."""
    if isinstance(value, bool) or not isinstance(value, int | float | Decimal):
        raise ValueError("must be a number")
    return Decimal(str(value))


def _integral(value: Any) -> Any:
    """JSON has one number type: 2.0 is the integer 2 (as JSON Schema says); 2.5, "2" and true are not."""
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value


Money = Annotated[
    Decimal,
    BeforeValidator(_number_only),
    Field(ge=0, le=MAX_PRICE, decimal_places=2),
    PlainSerializer(_json_number, return_type=int | float, when_used="json"),
    # What clients send and receive: a JSON number (never a string), at most 2 decimals.
    WithJsonSchema({"type": "number", "minimum": 0, "maximum": int(MAX_PRICE), "multipleOf": 0.01}),
]
# A computed sum of money (a line's or an order's total): Money without its bound, since 25 lines of
# 1,000 units at the highest price are far above it.
Amount = Annotated[
    Decimal,
    PlainSerializer(_json_number, return_type=int | float, when_used="json"),
    WithJsonSchema({"type": "number", "minimum": 0, "multipleOf": 0.01}),
]


def _email_address(value: str) -> str:
    """A syntactically valid address (email-validator, as pydantic's EmailStr uses it), kept as the
    client wrote it. Imported on first use: only POST /users needs it, at ~60 ms of cold start."""
    from email_validator import EmailNotValidError, validate_email  # noqa: PLC0415

    try:
        validate_email(value, check_deliverability=False)
    except EmailNotValidError as error:
        raise ValueError(f"not a valid email address: {error}") from error
    return value


EmailAddress = Annotated[
    str,
    StringConstraints(max_length=254),
    AfterValidator(_email_address),
    WithJsonSchema(
        {
            "type": "string",
            "format": "email",
            "maxLength": 254,
            "description": "An address that email-validator and the user pool accept; another is a 422.",
        }
    ),
]


def utc_now() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


class Request(BaseModel):
    """A client's body: wrong types and unknown fields are errors, not guesses. Validators are built
    on first use (defer_build), so a cold start pays only for the models its request needs."""

    model_config = ConfigDict(strict=True, extra="forbid", defer_build=True)


class Record(BaseModel):
    """What the service stores and returns; read back from DynamoDB (numbers come as Decimal)."""

    model_config = ConfigDict(extra="ignore", defer_build=True)


class NewUser(Request):
    name: Annotated[
        str,
        StringConstraints(strip_whitespace=True, min_length=1, max_length=200),
        WithJsonSchema({"type": "string", "minLength": 1, "maxLength": 200, "pattern": "\\S"}),
    ]
    email: EmailAddress


class User(Record):
    """A customer's profile; user_id is the Cognito user's sub."""

    user_id: str
    name: str
    email: str
    created_at: str


class StockUpdate(Request):
    quantity: Annotated[int, Field(ge=0, le=MAX_STOCK_QUANTITY), BeforeValidator(_integral)]
    price: Money


class StockItem(Record):
    product_id: str
    quantity: int
    price: Money


class OrderLine(Request):
    product_id: Identifier
    quantity: Annotated[int, Field(ge=1, le=MAX_LINE_QUANTITY), BeforeValidator(_integral)]


PaymentMethod = Annotated[str, StringConstraints(min_length=1, max_length=128)]


def _one_line_per_product(items: list[OrderLine]) -> list[OrderLine]:
    products = [line.product_id for line in items]
    if len(set(products)) != len(products):
        raise ValueError("each product_id may appear only once")
    return items


# The lines of a cart, as an order and a quote take them.
CartItems = Annotated[
    list[OrderLine],
    Field(
        min_length=1,
        max_length=MAX_ORDER_LINES,
        description="One line per product: a product_id that appears twice is a 422 naming body.items.",
    ),
    AfterValidator(_one_line_per_product),
]


class NewOrder(Request):
    """What a customer sends; the customer is the caller (the token's sub), never a field."""

    items: CartItems
    payment_method: PaymentMethod


class QuoteRequest(Request):
    """What staff send to price a cart: the items of an order, nothing else."""

    items: CartItems


class OrderStatus(StrEnum):
    PENDING = "PENDING"
    PROCESSING = "PROCESSING"
    AWAITING_APPROVAL = "AWAITING_APPROVAL"
    CONFIRMED = "CONFIRMED"
    REJECTED = "REJECTED"
    CANCELLED = "CANCELLED"
    FAILED = "FAILED"

    @property
    def is_terminal(self) -> bool:
        return self in TERMINAL_STATUSES


TERMINAL_STATUSES = frozenset({OrderStatus.CONFIRMED, OrderStatus.REJECTED, OrderStatus.CANCELLED, OrderStatus.FAILED})
OPEN_STATUSES = frozenset(OrderStatus) - TERMINAL_STATUSES


class RejectionReason(StrEnum):
    VALIDATION_FAILED = "VALIDATION_FAILED"
    OUT_OF_STOCK = "OUT_OF_STOCK"
    PAYMENT_DECLINED = "PAYMENT_DECLINED"
    NOT_APPROVED = "NOT_APPROVED"
    APPROVAL_TIMEOUT = "APPROVAL_TIMEOUT"


class FailureReason(StrEnum):
    PAYMENT_UNAVAILABLE = "PAYMENT_UNAVAILABLE"
    PROCESSING_ERROR = "PROCESSING_ERROR"  # an error after retries that the workflow caught
    EXECUTION_FAILED = "EXECUTION_FAILED"  # the execution itself ended outside the workflow's paths
    EXECUTION_TIMED_OUT = "EXECUTION_TIMED_OUT"
    EXECUTION_ABORTED = "EXECUTION_ABORTED"


class PaymentStatus(StrEnum):
    CHARGED = "CHARGED"
    REFUNDED = "REFUNDED"


class Approval(Record):
    """A member of staff's decision on a large order."""

    approved: bool
    by: str  # the staff member's sub
    at: str
    comment: str | None = None


class ApprovalDecision(Request):
    approved: bool
    comment: Annotated[str, StringConstraints(max_length=1000)] | None = None


class Line(Record):
    product_id: str
    quantity: int


class Order(Record):
    order_id: str
    user_id: str
    items: list[Line]
    status: OrderStatus
    reason: str | None = None
    total: Amount | None = None
    payment_status: PaymentStatus | None = None
    approval: Approval | None = None
    created_at: str
    updated_at: str


class OrderRecord(Order):
    """The stored order with what only the saga reads; never returned to a client."""

    payment_method: str | None = None
    charge_id: str | None = None
    approval_token: str | None = None

    def public(self) -> Order:
        return Order.model_validate(self.model_dump(include=set(Order.model_fields)))


class Page[T](BaseModel):
    """One page of a list: `next` is the opaque cursor of the following page, null on the last."""

    items: list[T]
    next: str | None


class PricedLine(Line):
    price: Money


class QuoteLine(Record):
    """A cart's line as priced now: an unknown product has no price; `available` says whether the
    stock covers the quantity."""

    product_id: str
    quantity: int
    unit_price: Money | None = None
    line_total: Amount | None = None
    available: bool


class Quote(Record):
    items: list[QuoteLine]
    total: Amount  # of every line that has a price
    approval_required: bool


class Customer(Record):
    email: str
    name: str


class StepOutcome(StrEnum):
    """What a workflow task found, decided on by the workflow's Choice states. An outcome the
    business expects is a task's result, never a function error: Lambda counts every error in the
    function's alarmed Errors metric, so errors are left to faults (bugs, AWS, timeouts, a provider
    that is down)."""

    DONE = "DONE"  # the step did its work: the saga goes on
    INVALID = "INVALID"  # unknown user or product: REJECTED VALIDATION_FAILED
    OUT_OF_STOCK = "OUT_OF_STOCK"  # nothing reserved: REJECTED OUT_OF_STOCK
    DECLINED = "DECLINED"  # the provider refused the payment method: REJECTED PAYMENT_DECLINED
    APPROVED = "APPROVED"  # staff approved the order: on to payment
    ENDED = "ENDED"  # someone else ended the order (customer, staff, the watcher): nothing more to do
    CIRCUIT_NOT_CLOSED = "CIRCUIT_NOT_CLOSED"  # the charge did not call the provider: the breaker decides


class StepResult(Record):
    """A workflow task's answer; `message` says why, for whoever reads the execution."""

    outcome: StepOutcome
    message: str | None = None


class ValidatedOrder(StepResult):
    """The workflow's view of an order (all null unless DONE): priced lines, the total, whether
    staff must approve it (and how long they have), and whom to tell. Every field is present, so
    that the task's ResultSelector finds each one whatever the outcome."""

    user_id: str | None = None
    items: list[PricedLine] | None = None
    total: Amount | None = None
    approval_required: bool | None = None
    approval_timeout: int | None = None
    customer: Customer | None = None


class ChargeResult(StepResult):
    """ChargePayment's answer: the charge's id once charged."""

    charge_id: str | None = None


class OrderRef(Record):
    """What the workflow passes to a task that needs only the order's id."""

    order_id: str


class BreakerAnswer(Record):
    """CheckPaymentCircuit's decision as the workflow carries it ($.payment); empty until it is asked."""

    decision: str | None = None


class ChargeRequest(OrderRef):
    """ChargePayment's input: the order, and the breaker's answer when CheckPaymentCircuit has just
    let this order through (CALL, the half-open probe included); otherwise the charge reads the
    breaker itself."""

    payment: BreakerAnswer = BreakerAnswer()

    @property
    def cleared_by_breaker(self) -> bool:
        return self.payment.decision == "CALL"


class Reservation(Record):
    """The stock an order asks for, as UpdateInventory receives it; `reserved_at` is the execution's
    start, so that a retried reservation sends DynamoDB the very same transaction (its idempotency
    token is refused with other parameters)."""

    order_id: str
    items: list[Line]
    reserved_at: str


class Outcome(Record):
    """How the workflow ends an order that will not be confirmed."""

    status: OrderStatus
    reason: str


class OrderOutcome(Record):
    """What CloseOrder receives."""

    order_id: str
    outcome: Outcome
