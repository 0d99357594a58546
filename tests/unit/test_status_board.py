"""StatusBoard keeps what the session asks at every step (next step, paused steps, frames still read) as
statuses change: it must always say what a walk over every status says."""

from __future__ import annotations

import random

from osiris_tui.runtime.records import StepState
from osiris_tui.runtime.status_board import CLOSED, StatusBoard
from osiris_tui.runtime.step_status import StepStatus


def test_the_board_says_what_every_status_says() -> None:
    rng = random.Random(7)
    order = [f"s{i}" for i in range(30)]
    reads = {sid: rng.sample(order[:i], min(i, rng.randint(0, 3))) for i, sid in enumerate(order) if i % 7 != 3}
    board = StatusBoard(order, reads)
    for _ in range(3000):
        sid = rng.choice(order)
        board[sid] = StepStatus(sid, rng.choice(list(StepState)))
        open_ids = [s for s in order if board[s].state not in CLOSED]
        assert board.next_open() == (open_ids[0] if open_ids else None)
        assert board.paused == {s for s in order if board[s].state is StepState.PAUSED}
        assert board.needed() == {u for s in open_ids for u in reads.get(s, ())}


def test_a_linear_run_goes_step_by_step() -> None:
    order = [f"s{i}" for i in range(1000)]
    board = StatusBoard(order, {sid: [order[i - 1]] for i, sid in enumerate(order) if i})
    for i, sid in enumerate(order):
        assert board.next_open() == sid
        assert board.needed() == set(order[max(i - 1, 0):-1])  # what the steps still to run read
        board[sid] = StepStatus(sid, StepState.DONE)
    assert board.next_open() is None and board.needed() == set()
