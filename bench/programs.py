"""Small trio programs the overhead and scaling sections run, and a random decision source."""

from __future__ import annotations

import random
from collections.abc import Awaitable, Callable

import trio

from fuzzer.decisions import DecisionPoint, DefaultDecisions
from targets.limiter import TokenBucket

WORKERS = 5
CHECKPOINTS = 5


async def small_program() -> None:
    """Five tasks bump a shared counter five times each, with a checkpoint per bump.

    About 35 scheduler steps: one per checkpoint, one per task exit, and the
    main task's own steps.
    """
    counter = [0]

    async def worker() -> None:
        for _ in range(CHECKPOINTS):
            counter[0] += 1
            await trio.lowlevel.checkpoint()

    async with trio.open_nursery() as nursery:
        for _ in range(WORKERS):
            nursery.start_soon(worker)
    assert counter[0] == WORKERS * CHECKPOINTS


def limiter_program(operations: int, clients: int = 4) -> Callable[[], Awaitable[None]]:
    """A program making ``operations`` acquires on the correct limiter, from ``clients`` tasks.

    Capacity and refill are ``clients``, so the queue never holds more than the
    clients and each acquire costs the same whatever the program's length;
    virtual time moves one refill interval at a time as the tasks wait.
    """

    async def main() -> None:
        async with trio.open_nursery() as nursery:
            limiter = TokenBucket(clients, clients, 1.0, nursery=nursery)
            await limiter.start()
            async with trio.open_nursery() as crowd:
                for share in _shares(operations, clients):
                    crowd.start_soon(_client, limiter, share)
            limiter.stop()

    return main


async def _client(limiter: TokenBucket, count: int) -> None:
    for _ in range(count):
        await limiter.acquire(1, timeout=4.0)


def _shares(total: int, parts: int) -> list[int]:
    """``total`` split into ``parts`` near-equal whole shares."""
    return [total // parts + (1 if i < total % parts else 0) for i in range(parts)]


class RandomDecisions(DefaultDecisions):
    """Uniformly random scheduling decisions from a seeded generator (no Hypothesis)."""

    def __init__(self, seed: int) -> None:
        super().__init__()
        self._random = random.Random(seed)

    def decide(self, point: DecisionPoint) -> int:
        return self._random.randrange(len(point.candidates))
