"""Rolecall's domain: roles, capture, delivery and triage rules, plus the CLI entry point."""
