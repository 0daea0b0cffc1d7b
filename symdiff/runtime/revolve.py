"""Binomial checkpointing: reversing a loop of ``n`` steps while keeping only ``s`` states.

A plain reverse sweep keeps what every step computed, O(n) memory. Keeping instead a few
*snapshots* of the loop's state and recomputing the rest from the nearest one trades memory
for time; Griewank and Walther showed that with ``s`` snapshots the fewest forward steps
needed is reached by a recursive bisection whose split points follow binomial coefficients
(their *revolve* schedule): with ``t`` the smallest number such that ``C(s + t, s) >= n``,
no step is recomputed more than ``t`` times, and the total is ``t * n - C(s + t, t - 1)``.

``Revolve`` runs that schedule on callables: ``advance(j, state)`` is step ``j`` of the loop,
``reverse(j, state, adjoint)`` the adjoint of step ``j`` (it recomputes the step from the
state it starts from, then goes back). Snapshots are the only states kept between steps, so
memory is ``s`` states plus the one being advanced. A state is a tuple of the loop's values.
Like every runtime module this one imports nothing but NumPy: it is plain code to read.
"""

import numpy as np


def binomial(n, k):
    """The binomial coefficient C(n, k) (0 outside 0 <= k <= n), in exact integers."""
    if k < 0 or k > n:
        return 0
    k = min(k, n - k)
    out = 1
    for i in range(1, k + 1):
        out = out * (n - k + i) // i
    return out


def repetitions(steps, snapshots):
    """The smallest ``t`` with ``C(snapshots + t, snapshots) >= steps``: how many times, at
    most, the optimal schedule runs any one step forward (the sweep to the end included)."""
    if snapshots < 1:
        raise ValueError("binomial checkpointing needs at least one snapshot")
    t = 0
    while binomial(snapshots + t, snapshots) < steps:
        t += 1
    return t


def optimal_advances(steps, snapshots):
    """The fewest forward steps (without taping) that reversing ``steps`` steps takes with
    ``snapshots`` snapshots, the state before the first step counted as one of them."""
    if steps <= 1:
        return 0
    t = repetitions(steps, snapshots)
    return t * steps - binomial(snapshots + t, t - 1)


def split_point(steps, snapshots):
    """Where, counted from the segment's first step, the next snapshot of a segment of
    ``steps`` steps goes when ``snapshots`` (two or more) are free for it.

    With ``t = repetitions(steps, snapshots)`` and ``b(s, t) = C(s + t, s)``, a split ``m``
    is optimal when the tail (``steps - m`` steps, one snapshot fewer) needs at most ``t``
    repetitions, ``steps - m <= b(s - 1, t)``, and the head, whose steps were advanced once
    already, is long enough to use its ``t - 1`` in full, ``m >= b(s, t - 2)``. The smallest
    such ``m`` is taken (the tests compare its cost with an exhaustive search)."""
    t = repetitions(steps, snapshots)
    head = binomial(snapshots + t - 2, snapshots) if t >= 2 else 0
    return max(1, head, steps - binomial(snapshots - 1 + t, snapshots - 1))


class Counts:
    """What a run of the schedule did, for tests and benchmarks."""

    def __init__(self):
        self.advances = 0  # forward steps without their adjoint (sweep and recomputation)
        self.reversed = 0  # steps reversed (each one once)
        self.most_snapshots = 0  # the largest number of snapshots held at once

    def __repr__(self):
        return (
            f"Counts(advances={self.advances}, reversed={self.reversed}, "
            f"most_snapshots={self.most_snapshots})"
        )


def snapshot_copy(state):
    """A snapshot owns its arrays: a step that updated its state in place cannot spoil it."""
    return tuple(np.copy(v) if isinstance(v, np.ndarray) else v for v in state)


class Revolve:
    """The schedule for one loop of ``steps`` steps with ``snapshots`` snapshots.

    ``forward`` is the sweep to the end of the loop: it places the snapshots of the first
    descent of the schedule as it passes them and returns the final state. ``backward``
    then reverses every step once, last first, from the adjoint of that final state."""

    def __init__(self, steps, snapshots, in_place=False):
        if snapshots < 1:
            raise ValueError("binomial checkpointing needs at least one snapshot")
        self.steps = steps
        self.snapshots = snapshots
        # a step that may update its state in place gets copies: of a snapshot it restarts
        # from (used again later) and of the state before the last step (kept for its reverse)
        self.in_place = in_place
        self.counts = Counts()
        self.stored = {}  # step -> the state before it
        self.pending = []  # segments left to reverse: (first, end, snapshots)
        self.last = (0, 0)  # the descent's last segment: (first, snapshots)
        self.before_end = None  # the state before the last step

    def keep(self, j, state):
        self.stored[j] = snapshot_copy(state)
        self.counts.most_snapshots = max(self.counts.most_snapshots, len(self.stored))

    def forward(self, state, advance):
        n = self.steps
        if n == 0:
            return state
        # the first descent: snapshot at 0, then at each split of the segment left
        marks = set()
        first, free = 0, self.snapshots
        while n - first > 1 and free > 1:
            m = first + split_point(n - first, free)
            self.pending.append((first, m, free))
            marks.add(m)
            first, free = m, free - 1
        self.last = (first, free)
        self.keep(0, state)
        for j in range(n):
            if j in marks:
                self.keep(j, state)
            if j == n - 1:
                self.before_end = snapshot_copy(state) if self.in_place else state
            state = advance(j, state)
            if j < n - 1:
                self.counts.advances += 1
        return state

    def backward(self, adjoint, advance, reverse):
        n = self.steps
        if n == 0:
            return adjoint
        # the last step from the state the sweep holds; then its segment, one snapshot
        # (or none left to split with): re-advanced from its first state for every step
        adjoint = self.reverse_one(n - 1, self.before_end, adjoint, reverse)
        self.before_end = None
        first, free = self.last
        segments = [*self.pending, (first, n - 1, free)]
        while segments:
            first, end, free = segments.pop()
            while end > first:
                if end - first == 1 or free == 1:
                    state = self.restore(first)
                    for j in range(first, end - 1):
                        state = advance(j, state)
                        self.counts.advances += 1
                    adjoint = self.reverse_one(end - 1, state, adjoint, reverse)
                    end -= 1
                    continue
                m = first + split_point(end - first, free)
                state = self.restore(first)
                for j in range(first, m):
                    state = advance(j, state)
                    self.counts.advances += 1
                self.keep(m, state)
                segments.append((first, m, free))
                first, free = m, free - 1
            self.stored.pop(first, None)  # every step after this snapshot is reversed
        return adjoint

    def restore(self, j):
        state = self.stored[j]
        return snapshot_copy(state) if self.in_place else state

    def reverse_one(self, j, state, adjoint, reverse):
        self.counts.reversed += 1
        return reverse(j, state, adjoint)
