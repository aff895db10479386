"""The baseline for bench/ack_latency.py: a bare Bolt app that only acks /feedback, served by the
same HTTP stack as `rolecall serve` (uvicorn, the signature checked before parsing, Bolt on a
thread pool)."""

import os
import sys

from slack_bolt import Ack, App
from slack_sdk import WebClient
from sqlmodel import create_engine

from handlers.web import AsgiApp, Endpoint, HttpServer


def main() -> None:
    client = WebClient(token=os.environ["SLACK_BOT_TOKEN"], base_url=os.environ["SLACK_API_URL"])
    secret = os.environ["SLACK_SIGNING_SECRET"]
    app = App(client=client, signing_secret=secret, token_verification_enabled=False)

    @app.command("/feedback")
    def feedback(ack: Ack) -> None:
        ack()

    endpoint = Endpoint(app, create_engine("sqlite://"), secret)
    server = HttpServer(AsgiApp(endpoint), "127.0.0.1", 0)
    print(f"listening on http://127.0.0.1:{server.port}/slack/events", file=sys.stderr, flush=True)
    server.run()


if __name__ == "__main__":
    main()
