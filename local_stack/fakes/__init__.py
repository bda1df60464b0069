"""Fakes of the external services the application calls (not AWS): the payment provider."""
