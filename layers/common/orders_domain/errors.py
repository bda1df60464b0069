"""Domain errors. The API maps each to an HTTP status in one place. The workflow's tasks turn the
business outcomes among them (out of stock, declined, no longer the workflow's) into results; only
faults leave a task as errors, whose class names Step Functions matches in Retry/Catch: no name here
may be a library's (Pydantic's ValidationError is a malformed payload, a fault)."""

MAX_TEXT = 200


def bounded(text: str) -> str:
    """A message that may quote what a client sent, cut to MAX_TEXT characters."""
    return text if len(text) <= MAX_TEXT else text[: MAX_TEXT - 1] + "…"


class DomainError(Exception):
    """Base of every error the domain raises on purpose."""


class NotFoundError(DomainError):
    """The requested resource does not exist."""


class ConflictError(DomainError):
    """The request contradicts what is already stored."""


class InvalidCursor(DomainError):  # noqa: N818 - named for what the client sent
    """A list's `next` that this list did not issue (or was altered)."""


class InvalidField(DomainError):  # noqa: N818 - named for what the client sent
    """A value the schema allows that the system of record refuses (e.g. Cognito's email rules)."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field


class OutOfStock(DomainError):  # noqa: N818 - named for the outcome (the task's result)
    """Not enough stock for at least one line of the order."""


class OrderNotProcessing(DomainError):  # noqa: N818 - named for the outcome (the task's result)
    """The order left the workflow's hands (cancelled, or decided by staff): the step does nothing."""


class PaymentDeclined(DomainError):  # noqa: N818 - named for the outcome (the task's result)
    """The payment provider refused the payment method: a business outcome, never retried."""


class PaymentProviderError(DomainError):
    """The payment provider answered with an error of its own (5xx, unreadable): retried."""


class PaymentTimeout(DomainError):  # noqa: N818 - the workflow retries it by this name
    """The payment provider did not answer in time: retried, counted apart from errors."""


class ConfigurationError(Exception):
    """The function's environment is incomplete: a deployment mistake, never the client's."""
