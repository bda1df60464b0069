"""Business rules: what an order, a quote, an import and the payment circuit breaker may do, and
the steps of the order saga. They reach data and services through persistence and adapters."""
