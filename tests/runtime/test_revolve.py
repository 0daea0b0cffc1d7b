"""The revolve schedule: every step reversed once, in order, within the snapshots given, with
the fewest forward steps (compared with an exhaustive search and the closed form)."""

from functools import lru_cache

import numpy as np
import pytest

from symdiff.runtime.revolve import Revolve, optimal_advances, repetitions, split_point


@lru_cache(maxsize=None)
def fewest(steps: int, snapshots: int) -> int:
    """Exhaustive search: the cheapest first split_point, then both parts optimally."""
    if steps <= 1:
        return 0
    if snapshots == 1:
        return steps * (steps - 1) // 2
    return min(m + fewest(steps - m, snapshots - 1) + fewest(m, snapshots) for m in range(1, steps))


def run(steps: int, snapshots: int) -> tuple[Revolve, list[int]]:
    schedule = Revolve(steps, snapshots)
    reversed_steps: list[int] = []

    def advance(j, state):
        assert state == (j,)  # each step starts from the state its predecessor left
        return (j + 1,)

    def reverse(j, state, adjoint):
        assert state == (j,)
        reversed_steps.append(j)
        return (adjoint[0] + 1,)

    assert schedule.forward((0,), advance) == (steps,)
    assert schedule.backward((0,), advance, reverse) == (steps,)
    return schedule, reversed_steps


@pytest.mark.parametrize("snapshots", [1, 2, 3, 4, 7])
@pytest.mark.parametrize("steps", [0, 1, 2, 3, 5, 10, 17, 40])
def test_each_step_reversed_once_last_first(steps, snapshots):
    schedule, reversed_steps = run(steps, snapshots)
    assert reversed_steps == list(range(steps - 1, -1, -1))
    assert schedule.counts.reversed == steps
    assert schedule.counts.most_snapshots <= snapshots
    assert not schedule.stored  # every snapshot released at the end


def test_forward_steps_are_the_known_optimum():
    for steps in range(0, 70):
        for snapshots in range(1, 9):
            schedule, _ = run(steps, snapshots)
            assert schedule.counts.advances == fewest(steps, snapshots), (steps, snapshots)
            assert optimal_advances(steps, snapshots) == fewest(steps, snapshots)


def test_repetitions_bound_the_recomputation():
    # C(s + t, s) >= n: with 10 snapshots 1000 steps need 4 (C(13, 10) = 286, C(14, 10) = 1001)
    assert repetitions(1000, 10) == 4
    assert repetitions(1, 1) == 0 and repetitions(2, 1) == 1
    schedule, _ = run(1000, 10)
    assert schedule.counts.advances <= repetitions(1000, 10) * 1000


def test_one_snapshot_recomputes_from_the_start():
    schedule, _ = run(6, 1)
    assert schedule.counts.advances == 15  # 5 + 4 + 3 + 2 + 1


def test_split_leaves_room_on_both_sides():
    for steps in range(2, 200):
        for snapshots in range(2, 6):
            m = split_point(steps, snapshots)
            assert 1 <= m < steps


def test_snapshots_own_their_arrays():
    schedule = Revolve(3, 2)
    state = (np.zeros(2),)

    def advance(j, s):
        s[0][:] += 1.0  # a step that updates its state in place
        return s

    schedule.forward(state, advance)
    assert np.array_equal(schedule.stored[0][0], np.zeros(2))


def test_at_least_one_snapshot():
    with pytest.raises(ValueError):
        Revolve(3, 0)
