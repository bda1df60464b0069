"""moto's gaps, filled in one place: `adapter` applies every patch (Lambda code run locally, EventBridge
targets, Step Functions status-change events, DynamoDB ClientRequestToken, ...), `express` adds
StartSyncExecution for Express workflows, `nested` runs nested `states:startExecution` tasks."""
