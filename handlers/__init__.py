"""The Slack edge: Bolt listeners, HTTP serving, the CLI, and the one place that wires the
runtime."""
