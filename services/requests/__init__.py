"""Requests: request fields, submission, reading, enterprise actions, routing, uploads."""
