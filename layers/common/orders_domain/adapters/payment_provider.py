"""The payment provider's API (HTTPS, JSON): charges and refunds, each with an idempotency key
derived from the order, so that no retry, redelivery or re-execution charges or refunds twice.
Its API key is a secret, read through Powertools Parameters and cached."""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from decimal import Decimal
from typing import Any

from orders_domain.errors import PaymentDeclined, PaymentProviderError, PaymentTimeout
from orders_domain.settings import PaymentProviderAccess

API_KEY_CACHE_SECONDS = 300  # a rotated key is picked up within five minutes
TIMEOUT_SECONDS = 5.0  # for an answer; the workflow retries a timeout, the breaker counts it


class PaymentProvider:
    def __init__(self, base_url: str, api_key_secret: str, timeout: float) -> None:
        self.base_url = base_url.rstrip("/")
        self.api_key_secret = api_key_secret
        self.timeout = timeout

    def charge(self, order_id: str, amount: Decimal, payment_method: str) -> str:
        """Charge the order's total; the charge's id. Raises PaymentDeclined, PaymentProviderError
        or PaymentTimeout."""
        body = {"amount": f"{amount:.2f}", "currency": "USD", "payment_method": payment_method}
        return str(self._post("/charges", body, idempotency_key=f"charge-{order_id}")["id"])

    def refund(self, order_id: str, charge_id: str) -> str:
        """Refund the order's charge in full; the refund's id."""
        return str(self._post("/refunds", {"charge": charge_id}, idempotency_key=f"refund-{order_id}")["id"])

    def _post(self, path: str, body: dict[str, Any], idempotency_key: str) -> dict[str, Any]:
        request = urllib.request.Request(  # noqa: S310 - the URL is the template's PaymentApiUrl
            self.base_url + path,
            data=json.dumps(body).encode(),
            method="POST",
            headers={
                "Authorization": f"Bearer {self._api_key()}",
                "Idempotency-Key": idempotency_key,
                "Content-Type": "application/json",
            },
        )
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as response:  # noqa: S310
                answer: dict[str, Any] = json.loads(response.read())
                return answer
        except urllib.error.HTTPError as error:
            if error.code == 402:
                raise PaymentDeclined(_message(error)) from error
            raise PaymentProviderError(f"{path}: HTTP {error.code} {_message(error)}") from error
        except TimeoutError as error:
            raise PaymentTimeout(f"{path}: no answer within {self.timeout} s") from error
        except urllib.error.URLError as error:
            if isinstance(error.reason, TimeoutError):
                raise PaymentTimeout(f"{path}: no connection within {self.timeout} s") from error
            raise PaymentProviderError(f"{path}: {error.reason}") from error
        except ValueError as error:
            raise PaymentProviderError(f"{path}: the answer is not JSON") from error

    def _api_key(self) -> str:
        from aws_lambda_powertools.utilities import parameters  # noqa: PLC0415 - only payment functions

        return str(parameters.get_secret(self.api_key_secret, max_age=API_KEY_CACHE_SECONDS))


def payment_provider(settings: PaymentProviderAccess) -> PaymentProvider:
    return PaymentProvider(settings.payment_api_url, settings.payment_api_key_secret, TIMEOUT_SECONDS)


def _message(error: urllib.error.HTTPError) -> str:
    try:
        return str(json.loads(error.read())["error"]["message"])
    except (ValueError, KeyError, TypeError):
        return error.reason or ""
