"""The application as template.yaml describes it, on moto instead of AWS: used by the tests'
fixtures and by `make dev`. Nothing here is deployed."""
