"""CloudWatch for the local stack: the metrics AWS publishes and the template's alarms evaluated.

moto keeps metric datapoints and alarms but publishes no service metric and evaluates no alarm.
Here the local services publish what their AWS counterparts publish (`metrics.MetricSink`, into
moto's own store, so that `aws cloudwatch get-metric-statistics` sees it), and `alarms.AlarmEvaluator`
evaluates every alarm as CloudWatch does (`evaluation`), sets its state in moto (`describe-alarms`)
and notifies its actions on SNS (`notifications`).

- `metrics`: the sink and its clock (injectable: tests make time pass without waiting)
- `statistics`: Sum, Average, Minimum, Maximum, SampleCount and percentiles of a period's values
- `evaluation`: periods, M out of N, comparison, TreatMissingData; the state reason
- `notifications`: the SNS message of a state change, in CloudWatch's shape
- `alarms`: the template's alarms in moto, and their evaluation over time
- `emf`: the functions' embedded metric format lines, collected per invocation
- `publishers`: AWS/Lambda, AWS/States, AWS/SQS and AWS/ApiGateway metrics of the local services
"""
