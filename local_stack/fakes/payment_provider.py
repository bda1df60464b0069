"""The fake payment provider that `make dev` serves on PAYMENT_PORT, so that the order saga's
payment, refund and circuit breaker run locally against a provider that behaves like a real one:
API key, idempotency keys, declines and outages.

Contract (what the functions call with urllib; the base URL is the `PaymentApiUrl` parameter):

- `POST /v1/charges` `{"amount": "39.98", "currency": "USD", "payment_method": "pm_..."}` with
  `Authorization: Bearer <api key>` and `Idempotency-Key` → 201 the charge (`ch_...`, "succeeded");
  the payment method `pm_card_declined` → 402 `card_declined`.
- `POST /v1/refunds` `{"charge": "ch_..."}` with the same headers → 201 the refund (`re_...`);
  an unknown charge → 404, a charge refunded under another key → 400 `charge_already_refunded`.
- A repeated Idempotency-Key (per endpoint) gets the answer its first request got: the same charge,
  refund or decline, never a second one; the same key with another body → 400
  `idempotency_key_reused`, as real providers answer.
- Without the right API key → 401; without Idempotency-Key or with a malformed body → 400.
- `POST /__control {"mode": "ok"|"unavailable"|"slow"}` simulates an outage (/v1 answers 503) or a
  hang (/v1 waits until the mode changes, at most SLOW_SECONDS); `GET /__control` reads the mode;
  `GET /__charges` lists every charge and refund made, in order, each with the `idempotency_key`
  that made it (not part of the answer the client got). Both also answer under /v1, so that
  `{PaymentProviderUrl}/__control` works; they need no API key and ignore the mode.
"""

from __future__ import annotations

import json
import re
import threading
import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from werkzeug.wrappers import Request, Response

MODES = ("ok", "unavailable", "slow")
SLOW_SECONDS = 60.0
DECLINED_METHOD = "pm_card_declined"
_AMOUNT = re.compile(r"\d{1,12}(\.\d{1,2})?")
_CURRENCY = re.compile(r"[A-Z]{3}")


class PaymentError(Exception):
    """An error answer: its HTTP status and `{"error": {"code", "message"}}`."""

    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message

    def answer(self) -> Answer:
        return Answer(self.status, {"error": {"code": self.code, "message": self.message}})


@dataclass(frozen=True)
class Answer:
    status: int
    body: dict[str, Any]


@dataclass(frozen=True)
class _Remembered:
    """What an idempotency key was first answered, and for which request body."""

    request: dict[str, Any]
    answer: Answer


@dataclass
class PaymentProvider:
    """The provider as a WSGI app. `api_key` reads the key it accepts, on every request (the
    local stack reads the PaymentApiKey secret's current value; None accepts no key)."""

    api_key: Callable[[], str | None]
    mode: str = field(init=False, default="ok")
    charges: list[dict[str, Any]] = field(init=False, default_factory=list)
    refunds: list[dict[str, Any]] = field(init=False, default_factory=list)
    _answered: dict[tuple[str, str], _Remembered] = field(init=False, default_factory=dict)
    _lock: threading.Lock = field(init=False, default_factory=threading.Lock)
    _mode_changed: threading.Condition = field(init=False, default_factory=threading.Condition)

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        request = Request(environ)
        try:
            answer = self._route(request)
        except PaymentError as error:
            answer = error.answer()
        response = Response(json.dumps(answer.body), status=answer.status, content_type="application/json")
        return response(environ, start_response)

    def reset(self) -> None:
        """Answering normally, with no charge, refund or idempotency key remembered."""
        with self._lock:
            self.charges.clear()
            self.refunds.clear()
            self._answered.clear()
        self.set_mode("ok")

    def set_mode(self, mode: str) -> None:
        with self._mode_changed:
            self.mode = mode
            self._mode_changed.notify_all()

    def _route(self, request: Request) -> Answer:
        path = request.path.removeprefix("/v1")
        if path == "/__control":
            return self._control(request)
        if path == "/__charges" and request.method == "GET":
            with self._lock:
                return Answer(200, {"charges": list(self.charges), "refunds": list(self.refunds)})
        operations = {"/charges": self._charge, "/refunds": self._refund}
        if not request.path.startswith("/v1/") or path not in operations:
            raise PaymentError(404, "not_found", f"No route {request.path}.")
        self._suffer_outage()
        # As sent: a method is case-sensitive (RFC 9110), and werkzeug's request.method is upper-cased.
        if request.environ["REQUEST_METHOD"] != "POST":
            raise PaymentError(405, "method_not_allowed", f"{request.path} accepts POST only.")
        expected = self.api_key()
        if expected is None or request.headers.get("Authorization") != f"Bearer {expected}":
            raise PaymentError(401, "unauthorized", "Invalid API key.")
        key = request.headers.get("Idempotency-Key", "")
        if not key:
            raise PaymentError(400, "invalid_request", "The Idempotency-Key header is required.")
        return self._once(path, key, _json_object(request), operations[path])

    def _control(self, request: Request) -> Answer:
        if request.method == "POST":
            mode = _json_object(request).get("mode")
            if mode not in MODES:
                raise PaymentError(400, "invalid_request", f"mode must be one of {', '.join(MODES)}.")
            self.set_mode(mode)
        return Answer(200, {"mode": self.mode})

    def _once(
        self, path: str, key: str, body: dict[str, Any], operation: Callable[[dict[str, Any], str], Answer]
    ) -> Answer:
        """The operation's answer, or the answer its idempotency key already had."""
        with self._lock:
            remembered = self._answered.get((path, key))
            if remembered is None:
                try:
                    answer = operation(body, key)
                except PaymentError as error:
                    if error.status != 402:  # only outcomes (charged, refunded, declined) are remembered
                        raise
                    answer = error.answer()
                remembered = self._answered[path, key] = _Remembered(body, answer)
            elif remembered.request != body:
                raise PaymentError(
                    400, "idempotency_key_reused", "This Idempotency-Key was used with other parameters."
                )
            return remembered.answer

    def _suffer_outage(self) -> None:
        """The simulated outage: unavailable answers 503 now; slow hangs until the mode changes."""
        with self._mode_changed:
            self._mode_changed.wait_for(lambda: self.mode != "slow", timeout=SLOW_SECONDS)
            if self.mode != "ok":
                raise PaymentError(503, "unavailable", "The payment service is unavailable.")

    def _charge(self, body: dict[str, Any], key: str) -> Answer:
        amount, currency, method = body.get("amount"), body.get("currency"), body.get("payment_method")
        if not isinstance(amount, str) or not _AMOUNT.fullmatch(amount) or Decimal(amount) <= 0:
            raise PaymentError(400, "invalid_request", 'amount must be a positive decimal string, e.g. "39.98".')
        if not isinstance(currency, str) or not _CURRENCY.fullmatch(currency):
            raise PaymentError(400, "invalid_request", 'currency must be an ISO 4217 code, e.g. "USD".')
        if not isinstance(method, str) or not method:
            raise PaymentError(400, "invalid_request", "payment_method is required.")
        if method == DECLINED_METHOD:
            raise PaymentError(402, "card_declined", "Your card was declined.")
        charge = {
            "id": f"ch_{uuid.uuid4().hex[:24]}",
            "status": "succeeded",
            "amount": amount,
            "currency": currency,
            "payment_method": method,
        }
        self.charges.append(charge | {"idempotency_key": key})
        return Answer(201, charge)

    def _refund(self, body: dict[str, Any], key: str) -> Answer:
        charge_id = body.get("charge")
        if not isinstance(charge_id, str) or not charge_id:
            raise PaymentError(400, "invalid_request", "charge is required.")
        if not any(charge["id"] == charge_id for charge in self.charges):
            raise PaymentError(404, "resource_missing", f"No such charge: {charge_id}.")
        if any(refund["charge"] == charge_id for refund in self.refunds):
            raise PaymentError(400, "charge_already_refunded", f"Charge {charge_id} has already been refunded.")
        refund = {"id": f"re_{uuid.uuid4().hex[:24]}", "status": "succeeded", "charge": charge_id}
        self.refunds.append(refund | {"idempotency_key": key})
        return Answer(201, refund)


def _json_object(request: Request) -> dict[str, Any]:
    try:
        body = json.loads(request.get_data() or b"null")
    except ValueError:
        body = None
    if not isinstance(body, dict):
        raise PaymentError(400, "invalid_request", "The body must be a JSON object.")
    return body
