"""The main job (`make course`): its summary and its errors."""

from course_utils.results import record_results
from course_utils.run_course import main, summary


def test_summary_leads_with_the_headline_numbers(tmp_path, monkeypatch):
    monkeypatch.setenv("COURSE_ARTIFACTS_DIR", str(tmp_path))
    record_results("01_train", base_test_accuracy=0.964, parameters=397_510)
    record_results("05_parameter_accounting", rank10_factorized_model_parameters=18_350)
    text = summary()
    assert text.startswith("Headline results:")
    assert "96.40%" in text and "397,510" in text and "18,350" in text
    assert "4.62%" in text  # 18,350 / 397,510
    assert "rank 10, no fine-tuning" not in text  # nothing recorded, nothing invented


def test_summary_without_results_still_prints(tmp_path, monkeypatch):
    monkeypatch.setenv("COURSE_ARTIFACTS_DIR", str(tmp_path))
    assert summary().splitlines() == [
        "Headline results:",
        "Everything recorded (artifacts/results.json):",
    ]


def test_a_missing_notebook_is_an_error_not_a_crash(tmp_path, capsys):
    assert main([str(tmp_path / "99_missing.ipynb")]) == 1
    assert "does not exist" in capsys.readouterr().err
