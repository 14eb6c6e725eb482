"""one_cpu_thread: one thread inside, the old count restored afterwards, also after an error."""

from __future__ import annotations

import pytest
import torch

from course_utils.threads import one_cpu_thread


def test_one_thread_inside_and_the_count_restored_after() -> None:
    before = torch.get_num_threads()
    with one_cpu_thread("cpu"):
        assert torch.get_num_threads() == 1
    assert torch.get_num_threads() == before
    with pytest.raises(RuntimeError), one_cpu_thread(torch.device("cpu")):
        raise RuntimeError("inside")
    assert torch.get_num_threads() == before


def test_a_gpu_device_leaves_the_threads_alone() -> None:
    before = torch.get_num_threads()
    with one_cpu_thread("cuda"):  # only the device's type is read; no GPU needed
        assert torch.get_num_threads() == before
