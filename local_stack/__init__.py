"""The application as template.yaml describes it, on moto instead of AWS: what `make dev` runs
(a product feature, not a test helper), and what the tests' fixtures build on. Nothing here is deployed."""
