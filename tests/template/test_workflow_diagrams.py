"""The workflow pictures in docs/workflows/ are drawn from the ASL (`make diagrams`): a committed
picture that disagrees with its state machine fails here."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tools.workflow_diagrams import PAGES, STATE_MACHINES, diagram, page_name, page_with_diagram

MACHINES = sorted(STATE_MACHINES.glob("*.asl.json"))


@pytest.mark.parametrize("asl", MACHINES, ids=lambda path: path.name)
def test_each_state_machine_page_shows_the_picture_of_its_asl(asl: Path) -> None:
    page = PAGES / page_name(asl)
    assert page.exists(), f"{page} is missing: run make diagrams"
    current = page.read_text()
    assert page_with_diagram(current, asl) == current, f"{page} is out of date with {asl.name}: run make diagrams"


def test_the_picture_draws_every_state_transition_catch_and_retry() -> None:
    definition = {
        "StartAt": "Charge",
        "States": {
            "Charge": {
                "Type": "Task",
                "Resource": "arn:aws:states:::lambda:invoke",
                "Parameters": {"FunctionName": "${ChargePaymentFunctionArn}"},
                "Retry": [
                    {"ErrorEquals": ["PaymentDeclined"], "MaxAttempts": 0},
                    {"ErrorEquals": ["PaymentProviderError"], "MaxAttempts": 2},
                ],
                "Catch": [{"ErrorEquals": ["States.ALL"], "Next": "Failed"}],
                "Next": "Charged",
            },
            "Charged": {
                "Type": "Choice",
                "Choices": [
                    {"Variable": "$.charge.outcome", "StringEquals": "DECLINED", "Next": "Failed"},
                    {
                        "And": [
                            {"Variable": "$.total", "NumericGreaterThanPath": "$.limit"},
                            {"Not": {"Variable": "$.approved", "IsPresent": True}},
                        ],
                        "Next": "Chunks",
                    },
                ],
                "Default": "Done",
            },
            "Chunks": {
                "Type": "Map",
                "MaxConcurrency": 4,
                "ItemProcessor": {
                    "StartAt": "Chunk",
                    "States": {
                        "Chunk": {
                            "Type": "Task",
                            "Resource": "arn:aws:states:::states:startExecution.sync:2",
                            "Parameters": {"StateMachineArn": "${ImportChunkWorkflowArn}"},
                            "End": True,
                        }
                    },
                },
                "Next": "Pause",
            },
            "Pause": {"Type": "Wait", "SecondsPath": "$.wait_seconds", "Next": "Done"},
            "Done": {"Type": "Succeed"},
            "Failed": {"Type": "Fail", "Error": "ChargeFailed"},
        },
    }
    assert diagram(definition).splitlines() == [
        "```mermaid",
        "stateDiagram-v2",
        "    [*] --> Charge",
        "    Charge : Charge",
        "    Charge : lambda invoke ChargePaymentFunction",
        "    Charge : retry PaymentProviderError up to 2 times",
        "    Charge --> Failed : catch States.ALL",
        "    Charge --> Charged",
        "    state Charged <<choice>>",
        "    Charged --> Failed : $.charge.outcome == 'DECLINED'",
        "    Charged --> Chunks : $.total > $.limit and not ($.approved present)",
        "    Charged --> Done : otherwise",
        '    state "Chunks (Map, at most 4 at once)" as Chunks {',
        "        [*] --> Chunk",
        "        Chunk : Chunk",
        "        Chunk : states startExecution.sync 2 ImportChunkWorkflow",
        "        Chunk --> [*]",
        "    }",
        "    Chunks --> Pause",
        "    Pause : Pause",
        "    Pause : Wait $.wait_seconds",
        "    Pause --> Done",
        "    Done --> [*]",
        "    Failed : Failed",
        "    Failed : Fail ChargeFailed",
        "    Failed --> [*]",
        "```",
    ]


def test_a_page_keeps_its_prose_around_the_picture(tmp_path: Path) -> None:
    asl = tmp_path / "tiny_workflow.asl.json"
    asl.write_text(json.dumps({"StartAt": "Done", "States": {"Done": {"Type": "Succeed"}}}))
    first = page_with_diagram("# Tiny\n\nWhat it does.\n", asl)
    edited = first.replace("What it does.", "What it does, said better.") + "\nMore prose.\n"
    asl.write_text(json.dumps({"StartAt": "Over", "States": {"Over": {"Type": "Succeed"}}}))
    redrawn = page_with_diagram(edited, asl)
    assert redrawn.startswith("# Tiny\n\nWhat it does, said better.\n")
    assert redrawn.endswith("\nMore prose.\n")
    assert "[*] --> Over" in redrawn
    assert "Done" not in redrawn
