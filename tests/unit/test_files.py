"""Atomic writes: complete file or the old one, never a half-written file."""

import os
import stat

import pytest

from course_utils.files import write_atomically, write_text_atomically
from course_utils.results import load_results, record_results


def test_write_replaces_the_file_whole(tmp_path):
    target = write_text_atomically(tmp_path / "a" / "b.txt", "first")
    write_text_atomically(target, "second")
    assert target.read_text() == "second"
    assert [p.name for p in target.parent.iterdir()] == ["b.txt"]


def test_a_failing_write_keeps_the_old_file_and_no_temporary(tmp_path):
    target = write_text_atomically(tmp_path / "keep.txt", "precious")

    def explode(stream):
        stream.write(b"half")
        raise RuntimeError("disk full")

    with pytest.raises(RuntimeError):
        write_atomically(target, explode)
    assert target.read_text() == "precious"
    assert [p.name for p in tmp_path.iterdir()] == ["keep.txt"]


def test_a_new_file_gets_the_usual_mode_and_a_replaced_one_keeps_its_own(tmp_path):
    old_umask = os.umask(0o027)
    try:
        made = write_text_atomically(tmp_path / "new.txt", "x")
        assert stat.S_IMODE(made.stat().st_mode) == 0o640  # as `open` would make it
        made.chmod(0o604)
        write_text_atomically(made, "y")
        assert stat.S_IMODE(made.stat().st_mode) == 0o604
    finally:
        os.umask(old_umask)


def test_results_merge_by_notebook(tmp_path, monkeypatch):
    monkeypatch.setenv("COURSE_ARTIFACTS_DIR", str(tmp_path))
    record_results("01_train", accuracy=0.9)
    record_results("04_truncate", rank=10)
    record_results("01_train", seconds=3)
    assert load_results() == {
        "01_train": {"accuracy": 0.9, "seconds": 3},
        "04_truncate": {"rank": 10},
    }
