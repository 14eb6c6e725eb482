"""The machine's name as the latency tables print it."""

import platform

from course_utils.machine import machine_name


def test_reads_the_model_name_and_counts_the_cpus(tmp_path):
    cpuinfo = tmp_path / "cpuinfo"
    cpuinfo.write_text(
        "processor\t: 0\nmodel name\t: Test CPU 9000\n\nprocessor\t: 1\n"
        "model name\t: Test CPU 9000\n"
    )
    assert machine_name(cpuinfo) == "Test CPU 9000, 2 logical CPUs"


def test_falls_back_to_platform_without_cpuinfo(tmp_path):
    expected = platform.processor() or platform.machine() or "unknown machine"
    assert machine_name(tmp_path / "missing") == expected
    (tmp_path / "empty").write_text("")
    assert machine_name(tmp_path / "empty") == expected
