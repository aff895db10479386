"""Persistence: the engine, the table models, migrations and every query Rolecall runs."""
