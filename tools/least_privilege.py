"""The least-privilege judge, the other way round from the tests' recorder (tests/support/least_privilege.py):
after the whole suite (make test),

    PYTHONPATH=tests python -m tools.least_privilege

fails when a role grants something that no recorded call needed, unless UNUSED_GRANTS lists it with
its reason, and when a listed grant is exercised after all or no longer granted. It reads the calls
of the last run (RUN_FILE), and refuses a run that was not the whole suite, all passed: a partial
selection exercises less, and would make every other grant look unused.
"""

from __future__ import annotations

import json
import re
import sys
import tomllib
from pathlib import Path

import boto3
from moto import mock_aws
from moto.iam.access_control import IAMPolicyStatement, PermissionResult

from local_stack.cloudformation.deploy import Stack, deploy
from local_stack.cloudformation.template import PROJECT_ROOT, REGION, load
from support.least_privilege import role_policies
from support.least_privilege_run import RUN_FILE, Call

UNUSED_GRANTS = PROJECT_ROOT / "tools" / "least_privilege_unused.toml"


def _across_stacks(arn: str) -> str:
    """An ARN that names the same resource in every test's stack: user pool ids and the suffixes
    of secret ARNs are random."""
    return re.sub(r":secret:([\w-]+)-\w{6}$", r":secret:\1-*", re.sub(r":userpool/[\w-]+", ":userpool/UserPool", arn))


def unexercised_grants(stack: Stack, calls: set[Call]) -> list[str]:
    """Each (action, resource) a role grants that no recorded call used, its resource as every stack
    names it. Statements on '*' (log delivery, which takes no resource) are not the tests' to exercise."""
    report = []
    principals = [
        *stack.template.of_type("AWS::Lambda::Function"),
        *stack.template.of_type("AWS::StepFunctions::StateMachine"),
    ]
    for principal in principals:
        used = [call for call in calls if call.principal == principal]
        for policy in role_policies(stack, principal):
            statements = policy["Statement"] if isinstance(policy["Statement"], list) else [policy["Statement"]]
            for statement in statements:
                resources = (
                    statement["Resource"] if isinstance(statement["Resource"], list) else [statement["Resource"]]
                )
                actions = statement["Action"] if isinstance(statement["Action"], list) else [statement["Action"]]
                if resources == ["*"]:
                    continue
                for action in actions:
                    for resource in resources:
                        stable = _across_stacks(resource)
                        single = IAMPolicyStatement({"Effect": "Allow", "Action": action, "Resource": stable})
                        if not any(
                            single.is_action_permitted(call.action, _across_stacks(call.resource))
                            == PermissionResult.PERMITTED
                            for call in used
                        ):
                            report.append(grant_line(principal, action, stable))
    return sorted(set(report))


def grant_line(principal: str, action: str, resource: str) -> str:
    return f"{principal}: {action} on {resource}"


def listed_unused(path: Path = UNUSED_GRANTS) -> dict[str, str]:
    """The grants kept although no test exercises them, each with its reason."""
    grants = tomllib.loads(path.read_text())["grant"]
    return {grant_line(g["principal"], g["action"], g["resource"]): g["reason"] for g in grants}


def check(calls: set[Call], listed: dict[str, str], stack: Stack | None = None) -> list[str]:
    """What is wrong: each unexercised grant that is not listed, each listed grant that is exercised
    or not granted any more. The grants are those of `stack`, or of the template deployed afresh."""
    if stack is None:
        with mock_aws():
            return check(calls, listed, deploy(load(), boto3.session.Session(region_name=REGION)))
    unused = set(unexercised_grants(stack, calls))
    problems = [
        f"granted but never exercised (trim it, test it, or list it): {line}" for line in sorted(unused - set(listed))
    ]
    problems += [
        f"listed as unused, but exercised or no longer granted: {line}" for line in sorted(set(listed) - unused)
    ]
    return problems


def main(run_file: Path = RUN_FILE, unused_file: Path = UNUSED_GRANTS) -> int:
    if not run_file.is_file():
        print(f"least privilege: no recorded run ({run_file}): run the whole suite first (make test)")
        return 2
    run = json.loads(run_file.read_text())
    if not run["whole_suite_passed"]:
        print("least privilege: the last run was not the whole suite, all passed: run make test")
        return 2
    problems = check({Call(**call) for call in run["calls"]}, listed_unused(unused_file))
    for problem in problems:
        print(f"least privilege: {problem}")
    if not problems:
        print(
            f"least privilege: every grant is exercised by one of the {len(run['calls'])} recorded requests"
            f" or listed in {unused_file.name}"
        )
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
