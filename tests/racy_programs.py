"""Small trio programs with known races, used to test the engine (not the limiter).

Each program fails under some schedules only, and the fewest surprises
(non-default scheduling decisions) that make it fail is known: ``MINIMAL``.
"""

from __future__ import annotations

import trio


async def lost_update() -> None:
    """Three tasks increment a counter with a read-yield-write: an update is lost."""
    state = {"n": 0}

    async def increment() -> None:
        seen = state["n"]
        await trio.sleep(0)
        state["n"] = seen + 1

    async with trio.open_nursery() as nursery:
        for i in range(3):
            nursery.start_soon(increment, name=f"inc{i}")
    assert state["n"] == 3, f"lost update: counter is {state['n']}, expected 3"


async def check_then_act() -> None:
    """Two withdrawals check the balance, yield, then act: it goes negative."""
    account = {"balance": 10}

    async def withdraw(amount: int) -> None:
        if account["balance"] >= amount:
            await trio.sleep(0)  # e.g. an audit log write
            account["balance"] -= amount

    async with trio.open_nursery() as nursery:
        nursery.start_soon(withdraw, 7, name="alice")
        nursery.start_soon(withdraw, 7, name="bob")
    assert account["balance"] >= 0, f"overdrawn: balance {account['balance']}"


async def missing_wakeup() -> None:
    """The consumer re-arms its event after checking the flag: a wake-up is lost."""
    state: dict[str, object] = {"ready": False, "event": trio.Event()}

    async def consumer() -> None:
        if not state["ready"]:
            await trio.sleep(0)
            state["event"] = event = trio.Event()
            await event.wait()

    async def producer() -> None:
        state["ready"] = True
        event = state["event"]
        assert isinstance(event, trio.Event)
        event.set()

    async with trio.open_nursery() as nursery:
        nursery.start_soon(consumer, name="consumer")
        nursery.start_soon(producer, name="producer")


MINIMAL = {lost_update: 1, check_then_act: 1, missing_wakeup: 1}


async def lock_order_deadlock() -> None:
    """Two tasks take two locks in opposite orders."""
    first, second = trio.Lock(), trio.Lock()

    async def forward() -> None:
        async with first:
            await trio.sleep(0)
            async with second:
                pass

    async def backward() -> None:
        async with second:
            await trio.sleep(0)
            async with first:
                pass

    async with trio.open_nursery() as nursery:
        nursery.start_soon(forward, name="forward")
        nursery.start_soon(backward, name="backward")


async def never_yields() -> None:
    """One task spins without a checkpoint once another has run."""
    state = {"go": False}

    async def spinner() -> None:
        await trio.sleep(0)
        while not state["go"]:
            pass

    async def setter() -> None:
        await trio.sleep(1)
        state["go"] = True

    async with trio.open_nursery() as nursery:
        nursery.start_soon(spinner, name="spinner")
        nursery.start_soon(setter, name="setter")


async def raises_on_interleaving() -> None:
    """A task raises when it sees another's half-done update."""
    pair = [0, 0]

    async def writer() -> None:
        pair[0] += 1
        await trio.sleep(0)
        pair[1] += 1

    async def reader() -> None:
        if pair[0] != pair[1]:
            raise ValueError(f"torn read: {pair}")

    async with trio.open_nursery() as nursery:
        nursery.start_soon(writer, name="writer")
        nursery.start_soon(reader, name="reader")


async def timers_at_the_same_instant() -> None:
    """Two sleepers wake at the same instant; order-dependent result."""
    order: list[str] = []

    async def sleeper(name: str) -> None:
        await trio.sleep(0.5)
        order.append(name)

    async with trio.open_nursery() as nursery:
        nursery.start_soon(sleeper, "a", name="a")
        nursery.start_soon(sleeper, "b", name="b")
    assert order == ["a", "b"], f"woke in order {order}"
