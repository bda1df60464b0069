"""Lambda for the local stack: functions run as Lambda runs them (`functions`: in process, isolated;
`workers`: one process per warm instance), invoked synchronously, asynchronously and by event source
mappings (`runtime`), DynamoDB stream records shaped as an event source mapping delivers them (`streams`)."""
