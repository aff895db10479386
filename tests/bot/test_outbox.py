"""The ticker's pacing: posts to one channel are spaced, different channels are not."""

from bot.outbox import Pacer


class FakeTime:
    def __init__(self) -> None:
        self.now = 100.0
        self.slept: list[float] = []

    def monotonic(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.slept.append(round(seconds, 3))
        self.now += seconds


def test_posts_to_one_channel_wait_out_the_interval() -> None:
    clock = FakeTime()
    pacer = Pacer(interval=1.1, sleep=clock.sleep, monotonic=clock.monotonic)

    pacer.wait("C1")
    pacer.wait("C2")
    clock.now += 0.4
    pacer.wait("C1")
    clock.now += 5
    pacer.wait("C1")

    assert clock.slept == [0.7]
