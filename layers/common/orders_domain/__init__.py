"""Serverless Orders domain, shared by every function through the common layer; nothing here knows
about Lambda events or contexts, nor about HTTP (http_bodies, beside it, does).

- models, errors: the vocabulary (Pydantic models, domain errors);
- rules/: business rules and the order saga's steps;
- persistence/: one small class per table, the imports bucket, update expressions;
- adapters/: AWS clients and services, the payment provider;
- settings, observability: what each function reads from its environment; Logger and Metrics.
"""
