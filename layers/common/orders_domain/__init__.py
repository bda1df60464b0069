"""Serverless Orders domain: models, order rules, persistence and settings.

Plain typed Python shared by every function through the common layer; nothing here knows about
Lambda events or contexts.
"""
