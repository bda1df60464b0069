"""Whoever waits on the local runtime (a test waiting for a workflow to reach a state) is woken when
an invocation is queued or ends, not after a fixed poll."""

import json
import threading

from support.samples import EVENTS, UNKNOWN_IMPORT


def test_a_waiter_wakes_when_an_invocation_is_queued_and_again_when_it_ends(local_lambda):
    progress = local_lambda.progress
    progress.look()
    assert progress.sleep(0) is False  # nothing happened: the longest wait runs out

    # StartImportFunction's sample names an import that does not exist: it answers at once, starting nothing.
    event = json.loads((EVENTS / "eventbridge_import_uploaded.json").read_text())
    local_lambda.invoke_async("StartImportFunction", event)
    assert progress.sleep(60) is True  # queued: returns at once, never 60 s later
    assert local_lambda.pending.qsize() == 1

    delivery = threading.Timer(0.05, local_lambda.run_pending)
    delivery.start()
    assert progress.sleep(60) is True  # woken by the end of the invocation
    delivery.join()
    assert local_lambda.pending.qsize() == 0
    assert progress.sleep(0) is False  # and that end is not counted twice
    progress.look()

    assert local_lambda.invoke("StartImportFunction", event) == {"import_id": UNKNOWN_IMPORT, "started": False}
    assert progress.sleep(0) is True  # a synchronous invocation's end wakes a waiter too
