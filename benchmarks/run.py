"""``python -m benchmarks.run``: measure everything on this machine's CPU (and its CUDA device
when there is one) and write ``<device>.md`` and ``<device>.json`` to ``--output``."""

from __future__ import annotations

import argparse
import sys
from dataclasses import asdict
from pathlib import Path

import torch

from benchmarks.machine import describe_machine, load_average
from benchmarks.measure import Settings, measure_test_suite, run_all
from benchmarks.report import to_json, to_markdown
from course_utils.files import write_text_atomically

DEFAULT_OUTPUT = Path(__file__).resolve().parent / "results"


def devices_for(choice: str) -> list[torch.device]:
    """``auto``: the CPU, and CUDA when available; otherwise the one device named."""
    if choice == "auto":
        return [torch.device("cpu")] + ([torch.device("cuda")] if torch.cuda.is_available() else [])
    device = torch.device(choice)
    if device.type == "cuda" and not torch.cuda.is_available():
        raise SystemExit(f"--device {choice}: CUDA is not available on this machine")
    return [device]


def _log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def main(argv: list[str] | None = None) -> list[Path]:
    """Run the benchmarks; returns the files written."""
    parser = argparse.ArgumentParser(prog="python -m benchmarks.run", description=__doc__)
    parser.add_argument(
        "--quick", action="store_true", help="few repeats and small sizes (the smoke test)"
    )
    parser.add_argument(
        "--test-suite", action="store_true", help="also time `make test` (takes minutes)"
    )
    parser.add_argument("--output", type=Path, default=DEFAULT_OUTPUT, help="folder for results")
    parser.add_argument(
        "--device", default="auto", help="auto (CPU, and CUDA when present), cpu, cuda or cuda:N"
    )
    arguments = parser.parse_args(argv)
    settings = Settings.quick_settings() if arguments.quick else Settings.full()
    documents = []
    for device in devices_for(arguments.device):
        machine = describe_machine(device)
        results = run_all(device, settings, _log)
        documents.append({"machine": machine, "settings": asdict(settings), "results": results})
        documents[-1]["load_average_at_end"] = load_average()
    if arguments.test_suite:
        _log("5. whole test suite")
        suite = measure_test_suite(_log)
        for document in documents:  # one machine-wide number, shown in every device's table
            document["results"]["test_suite"] = suite
    written = []
    for document in documents:
        name = document["machine"]["device"]
        written.append(write_text_atomically(arguments.output / f"{name}.json", to_json(document)))
        markdown = to_markdown(document)
        written.append(write_text_atomically(arguments.output / f"{name}.md", markdown))
        print(markdown)
    _log("wrote " + ", ".join(str(path) for path in written))
    return written


if __name__ == "__main__":
    main()
