"""RequestApprovalFunction, as the workflow's .waitForTaskToken task invokes it: the order awaits
staff with the token, staff are asked, and the function's own answer (which the workflow discards,
but whoever invokes it by hand reads) says so. The order that is no longer the workflow's is
tests/workflow/test_order_approval.py's."""

import json

from support import seed
from support.aws import table_items

TOKEN = "AQCEAAAAKgAAAAMAAAAAAAAAAexampletoken"


def test_an_order_in_the_workflow_awaits_approval_with_the_token_and_staff_are_asked(
    stack, function, approval_requests
):
    seed.processing_order(stack, "o-1", {"gadget": 30}, total=1200)

    answer = function("RequestApprovalFunction").invoke({"order_id": "o-1", "token": TOKEN})

    assert answer == {"order_id": "o-1", "awaiting_approval": True}
    [order] = table_items(stack, "OrdersTable")
    assert (order["status"], order["approval_token"]) == ("AWAITING_APPROVAL", TOKEN)
    [notification] = approval_requests.notifications()
    assert notification["Subject"] == "Order o-1 needs approval"
    assert json.loads(notification["Message"])["total"] == "1200.00"
