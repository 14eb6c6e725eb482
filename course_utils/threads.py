"""Running many small CPU products on one thread (used by `RankSweep.accuracies`, the sweep of
04_truncate and 11_activation_aware, and by the rank explorer of 04_truncate).

PyTorch splits each product over all cores. For products that take a few milliseconds,
between stretches of Python work, the other threads mostly wait for the next one, and on a
two-core laptop their waiting competes with the Python thread itself: one thread is faster."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import torch


@contextmanager
def one_cpu_thread(device: torch.device | str = "cpu") -> Iterator[None]:
    """Run the block with ``torch.set_num_threads(1)`` when ``device`` is the CPU, and restore
    the previous thread count afterwards, also after an error. On a GPU nothing changes."""
    if torch.device(device).type != "cpu":
        yield
        return
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        yield
    finally:
        torch.set_num_threads(threads)
