"""Bolt listeners, one module per kind of request, each with `register(app, ...)`."""
