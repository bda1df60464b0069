"""One deployed stack per test process (each xdist worker has its own moto), reset between tests:
deploying the template takes a few seconds, a reset a few milliseconds (local_stack/reset.py)."""

from __future__ import annotations

import boto3
from moto.core.base_backend import BackendDict
from moto.dynamodb.models import dynamodb_backends

from local_stack.cloudformation.deploy import ACCOUNT_ID, Stack, deploy
from local_stack.cloudformation.template import REGION, SamTemplate
from local_stack.moto_patches.adapter import definitions_parsed_once
from local_stack.reset import StackReset


def empty_account() -> None:
    """moto's account as a new one: no resource of any service (what mock_aws starts with)."""
    BackendDict.reset()


def _account() -> object:
    """A backend of the account in use: a reset of moto (any mock_aws started afresh) makes a new one."""
    return dynamodb_backends[ACCOUNT_ID][REGION]


class SharedStack:
    def __init__(self) -> None:
        self._stack: Stack | None = None
        self._reset: StackReset | None = None
        self._account: object | None = None

    def get(self, template: SamTemplate, session: boto3.session.Session) -> Stack:
        """The stack of `template` as freshly deployed: the one deployed before, reset, while moto
        still holds it; else a new deployment into an empty account."""
        if self._stack is not None and self._reset is not None and self._current(template):
            self._reset()
            return self._stack
        empty_account()
        with definitions_parsed_once():
            self._stack = deploy(template, session)
        self._reset = StackReset(self._stack)
        self._account = _account()
        return self._stack

    def _current(self, template: SamTemplate) -> bool:
        return self._stack is not None and self._stack.template is template and self._account is _account()


SHARED_STACK = SharedStack()
