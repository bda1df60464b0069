"""SnapStart (prod, the functions a person waits on): what a restored snapshot must not share with
its siblings. The snapshot is taken after init, so init must open no connection, and the restore
hook (run as awslambdaric's lambda_runtime_hooks_runner runs it) drops clients and reseeds `random`."""

import json
import os
import random
import subprocess
import sys

import pytest
from snapshot_restore_py import get_after_restore

SNAPSTART_FUNCTIONS = {"StorefrontFunction", "BackOfficeFunction", "CreateProfileFunction"}


def run_after_restore():
    for func, args, kwargs in get_after_restore():
        func(*args, **kwargs)


def test_snapstart_is_on_the_functions_a_person_waits_on_in_prod_only(sam_template):
    with_snapstart = {
        name: function["Properties"]["SnapStart"]
        for name, function in sam_template.of_type("AWS::Lambda::Function").items()
        if "SnapStart" in function["Properties"]
    }
    in_prod = {"Fn::If": ["IsProd", {"ApplyOn": "PublishedVersions"}, {"Ref": "AWS::NoValue"}]}
    assert with_snapstart == {name: in_prod for name in SNAPSTART_FUNCTIONS}
    # SnapStart excludes provisioned concurrency; none is configured anywhere.
    assert "ProvisionedConcurrencyConfig" not in json.dumps(sam_template.resources)


def test_after_restore_clients_are_made_again_and_random_is_reseeded(function):
    clients = function("StorefrontFunction").module("orders_domain.adapters.aws_clients")
    assert (clients.forget_what_the_snapshot_holds, (), {}) in get_after_restore()
    before = [clients.dynamodb(), clients.s3(), clients.stepfunctions()]
    random.seed(20261129)  # the state every environment restored from one snapshot would share
    shared_next = random.Random(20261129).random()
    run_after_restore()
    assert random.random() != shared_next
    after = [clients.dynamodb(), clients.s3(), clients.stepfunctions()]
    assert all(new is not old for new, old in zip(after, before, strict=True))


_IMPORT_WITHOUT_NETWORK = """
import socket, sys
def refuse(*args, **kwargs):
    raise OSError("init opened a connection: it would be frozen into the snapshot")
socket.socket.connect = socket.socket.connect_ex = refuse
socket.create_connection = refuse
sys.path[:0] = {paths}
import {module}
print("imported")
"""


@pytest.mark.parametrize("logical_id", sorted(SNAPSTART_FUNCTIONS))
def test_init_opens_no_connection_so_the_snapshot_holds_none(stack, logical_id):
    spec = stack.functions[logical_id]
    module = spec.handler.rsplit(".", 1)[0]
    paths = [str(spec.code_dir), *(str(layer) for layer in spec.layer_dirs)]
    environment = {
        **{key: value for key, value in os.environ.items() if key in ("PATH", "HOME")},
        **spec.environment,
        "AWS_ENDPOINT_URL": "http://127.0.0.1:9",  # nothing listens: any request would fail
        "AWS_ACCESS_KEY_ID": "snapshot",
        "AWS_SECRET_ACCESS_KEY": "snapshot",
        "AWS_DEFAULT_REGION": "us-east-1",
    }
    result = subprocess.run(
        [sys.executable, "-c", _IMPORT_WITHOUT_NETWORK.format(paths=paths, module=module)],
        env=environment,
        capture_output=True,
        text=True,
        check=False,
    )
    assert (result.returncode, result.stdout) == (0, "imported\n"), result.stderr[-2000:]
