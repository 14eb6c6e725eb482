"""The results as a Markdown table and a JSON document, with the targets of issue 6."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass

TARGETS = {
    "speedup": 2.0,  # the course's epoch at least 2× faster than the original recipe
    "over_floor": 1.5,  # and within 1.5× of the GEMM floor
    "accuracy_points": 0.5,  # with the same test accuracy, ±0.5 points over the seeds
    "slider_p95_s": 0.050,
    "sweep_s": 2.0,
    "inference_speedup": 5.0,  # rank 10, batch 10,000
    "test_suite_s": 300.0,
}
TABLE_HEADER = "| # | Measurement | Measured | Target | Met |"


@dataclass(frozen=True)
class Row:
    """One line of the summary table; ``met`` is None where there is no target."""

    key: str
    measurement: str
    measured: str
    target: str
    met: bool | None
    value: float


def _seconds(value: float) -> str:
    return f"{value * 1e3:.1f} ms" if value < 1 else f"{value:.2f} s"


def summary_rows(results: dict) -> list[Row]:
    """The table's rows: every measurement, and each target with met or not."""
    rows = []
    training = results["training"]
    seeds = len(training["seeds"])
    rows += [
        Row(
            "1a",
            f"Epoch, original recipe (DataLoader + ToTensor), median of {seeds} seeds",
            _seconds(training["recipe_median_s"]),
            "",
            None,
            training["recipe_median_s"],
        ),
        Row(
            "1b",
            "Epoch, course fast path (`train_on_tensors`)",
            _seconds(training["fast_median_s"]),
            "",
            None,
            training["fast_median_s"],
        ),
        Row(
            "1c",
            f"Epoch, compute floor ({training['epoch_gflop_run']:.1f} GFLOP of GEMMs at the "
            f"measured rates; {training['gemm_gflops_per_s_64x784x500']:.0f} GFLOP/s at "
            "64×784×500)",
            _seconds(training["floor_s"]),
            "",
            None,
            training["floor_s"],
        ),
        Row(
            "1d",
            "Speed-up, fast path vs recipe",
            f"{training['speedup_fast_vs_recipe']:.2f}×",
            f"≥ {TARGETS['speedup']:g}×",
            training["speedup_fast_vs_recipe"] >= TARGETS["speedup"],
            training["speedup_fast_vs_recipe"],
        ),
        Row(
            "1e",
            f"Fast path / floor (recipe / floor: {training['recipe_over_floor']:.2f}×)",
            f"{training['fast_over_floor']:.2f}×",
            f"≤ {TARGETS['over_floor']:g}×",
            training["fast_over_floor"] <= TARGETS["over_floor"],
            training["fast_over_floor"],
        ),
        Row(
            "1f",
            f"Test accuracy, fast − recipe (means over {seeds} seeds: "
            f"{training['fast_mean_accuracy']:.2%} vs {training['recipe_mean_accuracy']:.2%})",
            f"{training['accuracy_difference_points']:+.2f} points",
            f"within ±{TARGETS['accuracy_points']:g} points",
            abs(training["accuracy_difference_points"]) <= TARGETS["accuracy_points"],
            training["accuracy_difference_points"],
        ),
    ]
    slider = results["slider"]
    rows.append(
        Row(
            "2",
            f"Rank explorer update, all panels, p50 / p95 over {slider['moves']} random ranks "
            f"(`{slider['timed']}`)",
            f"{slider['p50_s'] * 1e3:.1f} / {slider['p95_s'] * 1e3:.1f} ms",
            f"p95 ≤ {TARGETS['slider_p95_s'] * 1e3:g} ms",
            slider["p95_s"] <= TARGETS["slider_p95_s"],
            slider["p95_s"],
        )
    )
    sweep = results["sweep"]
    rows.append(
        Row(
            "3",
            f"Rank sweep, {len(sweep['ranks'])} ranks from 1 to {sweep['ranks'][-1]} (SVD and "
            f"projection {_seconds(sweep['setup_median_s'])} of it)",
            _seconds(sweep["median_s"]),
            f"≤ {TARGETS['sweep_s']:g} s",
            sweep["median_s"] <= TARGETS["sweep_s"],
            sweep["median_s"],
        )
    )
    inference = results["inference"]
    smallest_rank = min(row["rank"] for row in inference["rows"])
    largest_batch = max(row["batch"] for row in inference["rows"])
    headline = next(
        row
        for row in inference["rows"]
        if row["rank"] == smallest_rank and row["batch"] == largest_batch
    )
    rows.append(
        Row(
            "4",
            f"Inference speed-up, factorized vs dense, rank {headline['rank']}, "
            f"batch {headline['batch']:,}",
            f"{headline['speedup']:.2f}×",
            f"≥ {TARGETS['inference_speedup']:g}×",
            headline["speedup"] >= TARGETS["inference_speedup"],
            headline["speedup"],
        )
    )
    suite = results.get("test_suite")
    if suite is not None:
        rows.append(
            Row(
                "5",
                f"Whole test suite (`{suite['command']}`, exit code {suite['exit_code']}: "
                f"{suite['summary']})",
                _seconds(suite["seconds"]),
                f"≤ {TARGETS['test_suite_s'] / 60:g} min",
                suite["seconds"] <= TARGETS["test_suite_s"],
                suite["seconds"],
            )
        )
    return rows


def _met(met: bool | None) -> str:
    return "" if met is None else ("yes" if met else "**no**")


def _inference_table(inference: dict) -> list[str]:
    lines = [
        "| Batch | Rank | Dense latency | Factorized latency | Dense images/s | "
        "Factorized images/s | Speed-up |",
        "|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for row in inference["rows"]:
        lines.append(
            f"| {row['batch']:,} | {row['rank']} | {row['dense_s'] * 1e3:.3f} ms | "
            f"{row['factorized_s'] * 1e3:.3f} ms | {row['dense_images_per_s']:,.0f} | "
            f"{row['factorized_images_per_s']:,.0f} | {row['speedup']:.2f}× |"
        )
    lines.append("")
    for batch, rank in inference["first_rank_not_faster"].items():
        where = (
            f"stops paying at rank {rank}" if rank is not None else "faster at every rank measured"
        )
        lines.append(f"- batch {int(batch):,}: factorized {where}")
    return lines


def _gemm_table(training: dict) -> list[str]:
    lines = [
        "| Product (one training step) | m×k×n | Median | GFLOP/s |",
        "|---|---|---:|---:|",
    ]
    for row in training["gemms"]:
        lines.append(
            f"| {row['name']} | {row['m']}×{row['k']}×{row['n']} | "
            f"{row['median_s'] * 1e6:.1f} µs | {row['gflops_per_s']:.1f} |"
        )
    return lines


def to_markdown(document: dict) -> str:
    """The whole report: machine, summary table with targets, inference and GEMM details."""
    machine, results = document["machine"], document["results"]
    training = results["training"]
    quick = document["settings"]["quick"]
    lines = [
        f"# Benchmarks on {machine['device']}: {machine['device_name']}",
        "",
        f"- CPU: {machine['cpu_model']}, {machine['cpu_cores']} cores "
        f"({machine['usable_cores']} usable); torch {machine['torch']}"
        + (f" (CUDA {machine['cuda']})" if machine["cuda"] else "")
        + f", {machine['torch_threads']} threads (default, interop "
        f"{machine['torch_interop_threads']}); Python {machine['python']}",
        f"- {machine['date']}; load average at start {machine['load_average_at_start']}, "
        f"at end {document.get('load_average_at_end')}",
        f"- {'QUICK run (small sizes, few repeats): not for comparison' if quick else 'Full run'}"
        f"; training on {training['samples']:,} images, batch {training['batch_size']}, "
        f"seeds {training['seeds']}",
        "",
        TABLE_HEADER,
        "|---|---|---:|---|---|",
    ]
    for row in summary_rows(results):
        lines.append(
            f"| {row.key} | {row.measurement} | {row.measured} | {row.target} | {_met(row.met)} |"
        )
    lines += [
        "",
        "## Dense vs factorized inference (whole SimpleNN, fc1 factorized)",
        "",
        *_inference_table(results["inference"]),
        "",
        "## GEMM rates behind the floor",
        "",
        *_gemm_table(training),
        "",
        f"The floor counts only the products that run: {training['epoch_gflop_run']:.1f} GFLOP "
        "per epoch. Counting backward as twice the forward (fc1's input gradient included, "
        f"which autograd skips) gives {training['epoch_gflop_three_forwards']:.1f} GFLOP.",
        "",
    ]
    return "\n".join(lines)


def to_json(document: dict) -> str:
    """The document with the summary rows added, as indented JSON."""
    rows = [asdict(row) for row in summary_rows(document["results"])]
    return json.dumps({**document, "summary": rows}, indent=2, ensure_ascii=False) + "\n"
