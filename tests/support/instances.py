"""The function instances that the tests' runtimes use (LocalLambda's `instance_for`)."""

from __future__ import annotations

import logging
import os
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest

from local_stack.lambda_runtime.functions import FunctionInstance, FunctionSpec

_instances: dict[tuple[str, tuple[tuple[str, str], ...]], FunctionInstance] = {}


def warm_instance(spec: FunctionSpec) -> FunctionInstance:
    """One instance per function and environment for the whole session: imported once, as a warm
    Lambda would be (every test's stack has the same names, so the environment is the same).
    Not while mutmut runs (make mutation): there each test's instances start cold. While it learns
    which tests reach which function ("stats"), so that what a handler runs at import (its settings,
    its repositories' constructors) counts as reached by every test that invokes it, not only by the
    first one. While it judges a mutant, because the mutant is named by MUTANT_UNDER_TEST, and an
    instance runs its handler in the environment it started with: one warmed by mutmut's clean run
    (before it forks a process per mutant) would run the original code, and every mutant survive."""
    if os.environ.get("MUTANT_UNDER_TEST"):
        return FunctionInstance(spec)
    key = (spec.logical_id, tuple(sorted(spec.environment.items())))
    if key not in _instances:
        _instances[key] = FunctionInstance(spec)
    return _instances[key]


def domain_as_loaded_by(logical_id: str) -> Any:
    """A `domain` fixture for a test module: `domain("rules.imports")` is that module of the domain
    package as the function `logical_id` loaded it (each function has its own copy of the layer)."""

    @pytest.fixture
    def domain(function: Any) -> Any:
        instance = function(logical_id)
        return lambda name: instance.module(f"orders_domain.{name}")

    return domain


class _Collected(logging.Handler):
    def __init__(self) -> None:
        super().__init__()
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)


@contextmanager
def log_records(instance: FunctionInstance) -> Iterator[list[logging.LogRecord]]:
    """The records that the instance's logger (orders_domain.observability's) emits meanwhile, as
    they are: each one's message and its keys as attributes."""
    logger = instance.module("orders_domain.observability").logger
    collected = _Collected()
    logger.addHandler(collected)
    try:
        yield collected.records
    finally:
        logger.removeHandler(collected)
