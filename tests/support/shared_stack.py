"""One deployed stack per test process (each xdist worker has its own moto), reset between tests:
deploying the template takes a few seconds, a reset a few milliseconds (local_stack/reset.py)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager, nullcontext

import boto3
from moto import mock_aws
from moto.core.base_backend import BackendDict, backend_lock
from moto.core.custom_responses_mock import reset_responses_mock
from moto.core.model_instances import model_data
from moto.core.models import MockAWS, responses_mock
from moto.dynamodb.models import dynamodb_backends

from local_stack.cloudformation.deploy import ACCOUNT_ID, Stack, deploy
from local_stack.cloudformation.template import REGION, SamTemplate
from local_stack.moto_patches.speed import definitions_parsed_once
from local_stack.reset import StackReset


def empty_account() -> None:
    """moto's account as a new one: no resource of any service (what mock_aws starts with)."""
    BackendDict.reset()


@contextmanager
def account_set_aside() -> Iterator[None]:
    """An empty account for a test that wants one (moto's reset), the deployed stack kept aside
    meanwhile and put back whole afterwards: the next test that uses it needs a reset, not a new
    deployment (about a second, and random order interleaves such tests with the others)."""
    models = [model for classes in model_data.values() for model in classes.values()]
    with backend_lock:
        kept = [(backends, dict(backends)) for backends in BackendDict._instances]
        for backends, _ in kept:
            dict.clear(backends)  # not BackendDict.reset(), which would empty the kept accounts
        BackendDict._instances.clear()
        # What some services keep across accounts: S3's bucket names, Organizations' master accounts.
        kept_across = [
            (across, dict(across))
            for backends, _ in kept
            for name in ("bucket_accounts", "master_accounts")
            if isinstance(across := getattr(backends, name, None), dict)
        ]
        for across, _ in kept_across:
            across.clear()
        # What /moto-api/data.json lists: each model's instances.
        kept_instances = [(model, model.instances_tracked) for model in models]
        for model in models:
            model.instances_tracked = []
    try:
        yield
    finally:
        empty_account()  # what the test made
        with backend_lock:
            for backends, accounts in kept:
                dict.update(backends, accounts)
                BackendDict._instances.append(backends)
            for model, instances in kept_instances:
                model.instances_tracked = instances
            for across, entries in kept_across:
                across.clear()
                across.update(entries)


@contextmanager
def moto_for_a_test(shared: bool) -> Iterator[None]:
    """moto in place of AWS for one test: the shared stack's account (`shared`), or an empty one
    with the stack set aside. Each start registers moto's URL callbacks for the `requests` library
    (one per method and service URL), which only a reset removes: after a test that
    keeps the stack they are removed here, or every such test would add as many for each later
    request to be matched against (and for the collector to walk)."""
    mocked = mock_aws(config={"core": {"reset_boto3_session": False}, "stepfunctions": {"execute_state_machine": True}})
    with nullcontext() if shared else account_set_aside():
        mocked.start(reset=not shared)
        try:
            yield
        finally:
            mocked.stop(remove_data=not shared)
            if shared and MockAWS._nested_count == 0:  # no other mock still uses them
                reset_responses_mock(responses_mock)


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
