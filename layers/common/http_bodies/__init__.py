"""HTTP bodies, shared by the functions that answer HTTP requests: the two API functions and the
quote workflow's tasks (API Gateway returns their answer to POST /quotes). Kept out of
orders_domain, which knows nothing of HTTP."""
