"""Mutants of the declarative parts, which no Python mutation tool touches: the template and every
state machine definition. Each operator is generated from the files themselves (every state, every
statement, every alarm), so a new retry, grant or alarm gets its mutants without editing this file.

A mutant is one small, valid change that a user would pay for: a deleted Catch or Retry, a retry
count of 0, a deleted DynamoDB condition (with the names and values only it used), a dropped
dead-letter queue or on-failure destination, an alarm that tells nobody, an action added to an IAM
statement, a dropped policy Condition, an EventBridge retry policy shortened to a minute.

Each mutant is known by a key that survives renumbering: the file, where in it (logical id, state
name, the errors a retrier or catcher handles) and a hash of the change.
"""

from __future__ import annotations

import copy
import hashlib
import json
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml
from samtranslator.yaml_helper import yaml_parse

TEMPLATE = "template.yaml"
STATE_MACHINES = "statemachine"

# An action a statement does not have, per service: a write that no code path of a reader needs.
EXTRA_ACTIONS = {
    "dynamodb": ("dynamodb:DeleteItem", "dynamodb:Scan"),
    "sqs": ("sqs:PurgeQueue",),
    "sns": ("sns:Subscribe",),
    "states": ("states:StopExecution", "states:DeleteStateMachine"),
    "s3": ("s3:DeleteObject",),
    "events": ("events:PutRule",),
    "lambda": ("lambda:UpdateFunctionCode",),
    "cognito-idp": ("cognito-idp:AdminDeleteUser",),
    "secretsmanager": ("secretsmanager:PutSecretValue",),
    "ses": ("ses:SendRawEmail",),
    "logs": ("logs:DeleteLogGroup",),
    "kms": ("kms:ScheduleKeyDeletion",),
}
FAILURE_DESTINATIONS = ("DeadLetterQueue", "DeadLetterConfig", "DestinationConfig", "RedrivePolicy")


@dataclass(frozen=True)
class Mutant:
    file: str  # relative to the project root
    location: str  # what it changes, by name
    operator: str
    change: Callable[[Any], None]  # applied to the parsed file, in place

    @property
    def key(self) -> str:
        digest = hashlib.sha256(f"{self.file}|{self.location}|{self.operator}".encode()).hexdigest()[:10]
        return f"{self.file}:{self.location}:{digest}"

    @property
    def area(self) -> str:
        return self.file if self.file != TEMPLATE else f"{TEMPLATE} ({self.operator})"

    def apply(self, root: Path) -> None:
        path = root / self.file
        document = load(path)
        self.change(document)
        path.write_text(dump(path, document))


def load(path: Path) -> Any:
    return parse(path.read_text(), path.suffix)


def parse(text: str, suffix: str) -> Any:
    return json.loads(text) if suffix == ".json" else yaml_parse(text)


def dump(path: Path, document: Any) -> str:
    """JSON as JSON; the template as YAML with intrinsics in their long form (Fn::GetAtt...)."""
    if path.suffix == ".json":
        return json.dumps(document, indent=2) + "\n"
    return str(yaml.safe_dump(document, sort_keys=False, width=200))


def mutants(root: Path) -> list[Mutant]:
    found = list(template_mutants(load(root / TEMPLATE)))
    for path in sorted((root / STATE_MACHINES).glob("*.asl.json")):
        found.extend(state_machine_mutants(f"{STATE_MACHINES}/{path.name}", load(path)))
    return found


# --- template ------------------------------------------------------------------------------------


def _at(*keys: Any) -> Callable[[Any], Any]:
    def get(document: Any) -> Any:
        for key in keys:
            document = document[key]
        return document

    return get


def template_mutants(template: dict[str, Any]) -> Iterator[Mutant]:
    for path, resource in _resources(template["Resources"], ("Resources",)):
        logical_id = path[-1]
        properties = resource.get("Properties", {})
        if resource["Type"] == "AWS::CloudWatch::Alarm" and "AlarmActions" in properties:
            yield _delete((*path, "Properties"), "AlarmActions", f"{logical_id}.AlarmActions", "alarm-tells-nobody")
        yield from _failure_destinations((*path, "Properties"), properties, logical_id)
        yield from _retry_policies((*path, "Properties"), properties, logical_id)
        yield from _policy_statements((*path, "Properties"), properties, logical_id)


def _resources(section: dict[str, Any], path: tuple[Any, ...]) -> Iterator[tuple[tuple[Any, ...], Any]]:
    """Each resource and where it is; a Fn::ForEach loop's resource once (`${Queue}Alarm`), in its body:
    a mutant of it changes every resource the loop makes."""
    for key, value in section.items():
        if key.startswith("Fn::ForEach::"):
            yield from _resources(value[2], (*path, key, 2))
        else:
            yield (*path, key), value


def _delete(parent: tuple[Any, ...], key: Any, location: str, operator: str, file: str = TEMPLATE) -> Mutant:
    def change(document: Any) -> None:
        del _at(*parent)(document)[key]

    return Mutant(file, location, operator, change)


def _walk(value: Any, path: tuple[Any, ...]) -> Iterator[tuple[tuple[Any, ...], Any]]:
    yield path, value
    if isinstance(value, dict):
        for key, item in value.items():
            yield from _walk(item, (*path, key))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from _walk(item, (*path, index))


def _name(path: tuple[Any, ...], properties_at: int, properties: Any) -> str:
    """The path below the resource's properties, a list item named by its Id where it has one (a
    rule's targets), so that keys survive reordering."""
    parts, value = [], properties
    for part in path[properties_at:]:
        value = value[part]
        named = value.get("Id") if isinstance(part, int) and isinstance(value, dict) else None
        parts.append(str(named or part))
    return ".".join(parts)


def _failure_destinations(base: tuple[Any, ...], properties: dict[str, Any], logical_id: str) -> Iterator[Mutant]:
    for path, value in _walk(properties, base):
        if isinstance(value, dict):
            for key in FAILURE_DESTINATIONS:
                if key in value:
                    location = f"{logical_id}.{_name((*path, key), len(base), properties)}"
                    yield _delete(path, key, location, "failures-go-nowhere")


def _retry_policies(base: tuple[Any, ...], properties: dict[str, Any], logical_id: str) -> Iterator[Mutant]:
    for path, value in _walk(properties, base):
        if isinstance(value, dict) and "MaximumEventAgeInSeconds" in value.get("RetryPolicy", {}):

            def shorten(document: Any, at: tuple[Any, ...] = (*path, "RetryPolicy")) -> None:
                _at(*at)(document)["MaximumEventAgeInSeconds"] = 60

            location = f"{logical_id}.{_name((*path, 'RetryPolicy'), len(base), properties)}"
            yield Mutant(TEMPLATE, location, "retry-for-a-minute", shorten)


def _statements(properties: dict[str, Any], base: tuple[Any, ...]) -> Iterator[tuple[tuple[Any, ...], Any]]:
    """Every IAM statement: inline policies of functions (Policies: - Statement:), of roles and
    state machines, and resource policies (queue, topic, bucket)."""
    for path, value in _walk(properties, base):
        if isinstance(value, dict) and "Effect" in value and "Action" in value and ("Resource" in value):
            yield path, value


def _actions(statement: dict[str, Any]) -> list[Any]:
    return statement["Action"] if isinstance(statement["Action"], list) else [statement["Action"]]


def _policy_statements(base: tuple[Any, ...], properties: dict[str, Any], logical_id: str) -> Iterator[Mutant]:
    statements = list(_statements(properties, base))
    for path, statement in statements:
        where = f"{logical_id}.{statement.get('Sid') or _name(path, len(base), properties)}"
        if "Condition" in statement:
            yield _delete(path, "Condition", f"{where}.Condition", "policy-without-condition")
        if statement["Effect"] != "Allow":
            continue
        # An action that another statement already allows on the same resource changes nothing.
        held = {a for _, other in statements if other["Resource"] == statement["Resource"] for a in _actions(other)}
        service = str(_actions(statement)[0]).split(":", 1)[0]
        extra = next((a for a in EXTRA_ACTIONS.get(service, ()) if a not in held), None)
        if extra is None:
            continue

        def grant(document: Any, at: tuple[Any, ...] = path, action: str = extra) -> None:
            target = _at(*at)(document)
            target["Action"] = [*_actions(target), action]

        yield Mutant(TEMPLATE, f"{where}+{extra}", "extra-grant", grant)


# --- state machines ------------------------------------------------------------------------------


def _states(definition: dict[str, Any], path: tuple[Any, ...] = ()) -> Iterator[tuple[tuple[Any, ...], str, Any]]:
    for name, state in definition["States"].items():
        yield (*path, "States", name), name, state
        for nested in ("Iterator", "ItemProcessor"):
            if nested in state:
                yield from _states(state[nested], (*path, "States", name, nested))
        for index, branch in enumerate(state.get("Branches", [])):
            yield from _states(branch, (*path, "States", name, "Branches", index))


def _errors(handler: dict[str, Any]) -> str:
    return "|".join(handler["ErrorEquals"])


def state_machine_mutants(file: str, definition: dict[str, Any]) -> Iterator[Mutant]:
    for path, name, state in _states(definition):
        if "Retry" in state:
            yield _delete(path, "Retry", f"{name}.Retry", "no-retry", file)
        for retrier in (r for r in state.get("Retry", []) if r.get("MaxAttempts", 3) != 0):

            def never(document: Any, at: tuple[Any, ...] = path, errors: str = _errors(retrier)) -> None:
                [match] = [r for r in _at(*at)(document)["Retry"] if _errors(r) == errors]
                match["MaxAttempts"] = 0

            yield Mutant(file, f"{name}.Retry[{_errors(retrier)}]", "retry-zero-times", never)
        for catcher in state.get("Catch", []):

            def uncaught(document: Any, at: tuple[Any, ...] = path, errors: str = _errors(catcher)) -> None:
                target = _at(*at)(document)
                target["Catch"] = [c for c in target["Catch"] if _errors(c) != errors]
                if not target["Catch"]:
                    del target["Catch"]

            yield Mutant(file, f"{name}.Catch[{_errors(catcher)}]", "catch-removed", uncaught)
        arguments = state.get("Parameters") or state.get("Arguments") or {}
        if "ConditionExpression" in arguments:
            key = "Parameters" if "Parameters" in state else "Arguments"
            yield Mutant(file, f"{name}.ConditionExpression", "unconditional-write", _unconditional(path, key))


def _unconditional(path: tuple[Any, ...], key: str) -> Callable[[Any], None]:
    """Delete the condition and the attribute names and values that only it used, so that the
    write is valid (DynamoDB rejects unused names and values) and the mutant dies for its reason."""

    def change(document: Any) -> None:
        arguments = _at(*path, key)(document)
        del arguments["ConditionExpression"]
        still_used = " ".join(str(value) for name, value in arguments.items() if name.endswith("Expression"))
        for names in ("ExpressionAttributeNames", "ExpressionAttributeValues"):
            if names in arguments:
                kept = {
                    k: v
                    for k, v in arguments[names].items()
                    if re.search(re.escape(k.removesuffix(".$")) + r"\b", still_used)
                }
                if kept:
                    arguments[names] = kept
                else:
                    del arguments[names]

    return change


def describe(mutant: Mutant) -> str:
    return f"{mutant.key} [{mutant.operator}]"


def applied(mutant: Mutant, root: Path) -> dict[str, Any]:
    """The mutated document, for tests of the operators."""
    document = copy.deepcopy(load(root / mutant.file))
    mutant.change(document)
    return dict(document)
