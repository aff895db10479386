"""A stand-in for Slack on loopback: workspace state, the Web API over it, Block Kit limits,
and a client that sends signed requests as Slack does. Shared by the tests, `rolecall demo` and
the benchmarks; it imports nothing of Rolecall's."""
