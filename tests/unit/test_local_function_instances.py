"""A function instance run in the tests' own process (local_stack/lambda_runtime/functions.py): like a
Lambda execution environment, it keeps its own modules (its code and layers) from one invocation to
the next, shares none with another instance or with the test, sees only its own environment, and
loads its code again once a source file changes."""

import os
import sys
import time

import pytest

from local_stack.lambda_runtime.functions import FunctionInstance, FunctionSpec

HANDLER = """
import os

import shared_counter


def lambda_handler(event, context):
    if event.get("lazy"):
        import lazy_helper  # imported by an invocation, not by the init

        return {"lazy": lazy_helper.count()}
    return {"count": shared_counter.bump(), "greeting": os.environ.get("GREETING"), "version": VERSION}


VERSION = 1
"""
COUNTER = """
calls = 0


def bump():
    global calls
    calls += 1
    return calls
"""
LAZY = """
calls = 0


def count():
    global calls
    calls += 1
    return calls
"""


@pytest.fixture
def instance_of(tmp_path):
    layer = tmp_path / "layer"
    layer.mkdir()
    (layer / "shared_counter.py").write_text(COUNTER)
    (layer / "lazy_helper.py").write_text(LAZY)

    def make(name, greeting):
        code = tmp_path / name
        code.mkdir()
        (code / "app.py").write_text(HANDLER)
        spec = FunctionSpec(
            logical_id=name,
            name=f"orders-local-{name}",
            arn=f"arn:aws:lambda:us-east-1:123456789012:function:orders-local-{name}",
            handler="app.lambda_handler",
            code_dir=code,
            layer_dirs=(layer,),
            environment={"GREETING": greeting},
            timeout=3,
            memory_size=128,
        )
        return FunctionInstance(spec, {"PATH": os.environ.get("PATH", "")})

    yield make
    sys.path[:] = [entry for entry in sys.path if not entry.startswith(str(tmp_path))]


def test_each_instance_keeps_its_own_modules_and_environment_and_leaves_the_tests_alone(instance_of, monkeypatch):
    first, second = instance_of("FirstFunction", "hello"), instance_of("SecondFunction", "bonjour")
    monkeypatch.setenv("GREETING", "the test's")

    assert first.invoke({}) == {"count": 1, "greeting": "hello", "version": 1}
    assert first.invoke({}) == {"count": 2, "greeting": "hello", "version": 1}  # warm: the same module
    assert second.invoke({}) == {"count": 1, "greeting": "bonjour", "version": 1}  # its own copy
    assert first.invoke({}) == {"count": 3, "greeting": "hello", "version": 1}

    assert {"shared_counter", "app"}.isdisjoint(sys.modules)
    assert os.environ["GREETING"] == "the test's"


def test_a_module_imported_during_an_invocation_stays_with_its_instance(instance_of):
    instance = instance_of("LazyFunction", "hello")

    assert [instance.invoke({"lazy": True}) for _ in range(3)] == [{"lazy": 1}, {"lazy": 2}, {"lazy": 3}]
    assert "lazy_helper" not in sys.modules
    assert instance_of("OtherFunction", "hi").invoke({"lazy": True}) == {"lazy": 1}


def test_an_edited_source_is_loaded_again_and_the_new_module_is_kept(instance_of):
    instance = instance_of("EditedFunction", "hello")
    assert instance.invoke({})["version"] == 1
    handler = instance.spec.code_dir / "app.py"

    time.sleep(0.01)  # a later modification time than the load
    handler.write_text(HANDLER.replace("VERSION = 1", "VERSION = 2"))

    assert instance.invoke({}) == {"count": 1, "greeting": "hello", "version": 2}  # its code again: a new init
    assert instance.invoke({}) == {"count": 2, "greeting": "hello", "version": 2}  # and warm from then on
    assert "app" not in sys.modules
