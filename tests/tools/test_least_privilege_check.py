"""Least privilege the other way round: after the whole suite, a grant that no recorded call needed
fails `make test` unless it is listed with its reason, and a listed grant that is exercised after
all (or no longer granted) fails it too. A partial run is refused, never judged."""

import json

import pytest

from support.least_privilege import Call
from tools.least_privilege import check, grant_line, listed_unused, main

TOPIC = "arn:aws:sns:us-east-1:123456789012:orders-local-OrderReceivedTopic"
PUBLISH = grant_line("NotifyFunction", "sns:Publish", TOPIC)


@pytest.fixture
def unused_without_calls(stack):
    """What every role of the deployed template grants, as the check reports it when nothing was exercised."""
    return check(set(), {}, stack)


def test_a_grant_no_call_needed_is_reported_unless_a_call_used_it(unused_without_calls, stack):
    assert f"granted but never exercised (trim it, test it, or list it): {PUBLISH}" in unused_without_calls
    exercised = check({Call("NotifyFunction", "sns:Publish", TOPIC)}, {}, stack)
    assert set(unused_without_calls) - set(exercised) == {
        f"granted but never exercised (trim it, test it, or list it): {PUBLISH}"
    }


def test_a_listed_grant_passes_and_a_listed_grant_that_is_used_or_gone_does_not(stack):
    assert f"granted but never exercised (trim it, test it, or list it): {PUBLISH}" not in check(
        set(), {PUBLISH: "a reason"}, stack
    )
    assert check({Call("NotifyFunction", "sns:Publish", TOPIC)}, {PUBLISH: "a reason"}, stack)[-1] == (
        f"listed as unused, but exercised or no longer granted: {PUBLISH}"
    )
    gone = grant_line("NotifyFunction", "sns:Publish", TOPIC + "-Removed")
    assert (
        check(set(), {gone: "a reason"}, stack)[-1] == f"listed as unused, but exercised or no longer granted: {gone}"
    )


def test_every_kept_grant_has_a_reason():
    kept = listed_unused()
    assert kept
    assert all(len(reason) > 20 for reason in kept.values())


def test_only_a_whole_passing_run_is_judged(tmp_path, capsys):
    run, unused = tmp_path / "run.json", tmp_path / "unused.toml"
    unused.write_text("grant = []\n")
    assert main(run, unused) == 2  # no run recorded
    run.write_text(json.dumps({"whole_suite_passed": False, "calls": []}))
    assert main(run, unused) == 2
    assert capsys.readouterr().out.endswith("not the whole suite, all passed: run make test\n")
    run.write_text(json.dumps({"whole_suite_passed": True, "calls": []}))
    assert main(run, unused) == 1  # nothing exercised: every grant is reported
    assert f"least privilege: granted but never exercised (trim it, test it, or list it): {PUBLISH}\n" in (
        capsys.readouterr().out
    )
