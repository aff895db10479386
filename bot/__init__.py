"""Rolecall's domain: who may do what, capture, cards, triage, planning, the digest and the
outbox every post goes through. It talks to Slack only through slack_sdk's WebClient, never Bolt,
so the same code serves HTTP, Socket Mode, the scheduler and the tests."""
