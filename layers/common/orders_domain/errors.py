"""Domain errors. The API maps each to an HTTP status in one place; the workflow sees their class
names as Step Functions error names (Retry/Catch match on them)."""


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


class ValidationError(DomainError):
    """An order that cannot be fulfilled as placed: unknown user or product."""


class OutOfStock(DomainError):  # noqa: N818 - the workflow catches it by this name
    """Not enough stock for at least one line of the order."""


class OrderNotProcessing(DomainError):  # noqa: N818 - the workflow catches it by this name
    """The order left the workflow's hands (cancelled, or decided by staff): the step does nothing."""


class PaymentDeclined(DomainError):  # noqa: N818 - the workflow catches it by this name
    """The payment provider refused the payment method: a business outcome, never retried."""


class PaymentProviderError(DomainError):
    """The payment provider answered with an error of its own (5xx, unreadable): retried."""


class PaymentTimeout(DomainError):  # noqa: N818 - the workflow retries it by this name
    """The payment provider did not answer in time: retried, counted apart from errors."""


class ConfigurationError(Exception):
    """The function's environment is incomplete: a deployment mistake, never the client's."""
