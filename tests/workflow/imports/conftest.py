"""The import workflow's tests run on the template with ImportMaxConcurrency lowered, so that a few
chunks show the limit."""

import pytest

from local_stack.cloudformation.template import SamTemplate, load
from support.imports import MAX_CONCURRENCY


@pytest.fixture(scope="module")
def sam_template(payment_provider: tuple[object, str]) -> SamTemplate:
    return load(
        parameter_overrides={"PaymentApiUrl": payment_provider[1], "ImportMaxConcurrency": str(MAX_CONCURRENCY)}
    )
