"""Starting the order workflow (Step Functions), at most once per order."""

import json

from orders_domain import aws


class OrderWorkflow:
    def __init__(self, state_machine_arn: str) -> None:
        self.state_machine_arn = state_machine_arn

    def start(self, order_id: str) -> bool:
        """Start the execution named after the order; False when it exists already (a repeated
        OrderCreated delivery), which is not an error."""
        try:
            aws.stepfunctions().start_execution(
                stateMachineArn=self.state_machine_arn, name=order_id, input=json.dumps({"order_id": order_id})
            )
        except aws.stepfunctions().exceptions.ExecutionAlreadyExists:
            return False
        return True
