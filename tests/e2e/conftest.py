"""One local stack (`python -m local_stack`, as `make dev` starts it) for the e2e suite, driven over HTTP."""

import shutil
import time
from collections.abc import Iterator

import pytest

from local_stack.template import PROJECT_ROOT
from support.local_process import LocalStackProcess


def pytest_collection_modifyitems(items):
    for item in items:
        if "tests/e2e/" in str(item.fspath):
            item.add_marker(pytest.mark.xdist_group("local-stack"))  # one worker, one server


@pytest.fixture(scope="session")
def local(tmp_path_factory) -> Iterator[LocalStackProcess]:
    stack = LocalStackProcess(tmp_path_factory.mktemp("local")).wait_until_ready()
    yield stack
    assert stack.stop() == 0, stack.log()
    assert "Serverless Orders stopped." in stack.log()


def copy_project(destination, edit_template=lambda text: text):
    """A copy of the application (template, code, layers, definitions) that a test may change."""
    for folder in ("src", "layers", "statemachine"):
        shutil.copytree(PROJECT_ROOT / folder, destination / folder, ignore=shutil.ignore_patterns("__pycache__"))
    template = destination / "template.yaml"
    template.write_text(edit_template((PROJECT_ROOT / "template.yaml").read_text()))
    return template


def eventually(check, timeout=20.0, interval=0.1):
    """The value of `check()` once it is truthy, polling as a client would."""
    deadline = time.monotonic() + timeout
    while True:
        value = check()
        if value or time.monotonic() > deadline:
            return value
        time.sleep(interval)
