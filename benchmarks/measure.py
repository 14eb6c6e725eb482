"""The five measurements. Each returns plain numbers (seconds, ratios, fractions) in a dict that
goes into the JSON as it is; ``report.py`` turns them into the Markdown table."""

from __future__ import annotations

import random
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
from torch import nn
from torch.utils.data import DataLoader, Subset

from course_utils.compress import factorize_layer
from course_utils.data import MnistTensors, load_mnist, mnist_dataset, mnist_loader
from course_utils.explorer import RankExplorer
from course_utils.models import CLASS_COUNT, IMAGE_PIXELS, SimpleNN
from course_utils.rank_sweep import RankSweep
from course_utils.timing import synchronize, time_call
from course_utils.training import accuracy, train, train_on_tensors

REPOSITORY_ROOT = Path(__file__).resolve().parent.parent
BATCH_SIZE = 64
HIDDEN = 500
LR = 1e-3


@dataclass(frozen=True)
class Settings:
    """Sizes and repeats; ``quick_settings()`` is the smoke test's few-second version."""

    quick: bool = False
    train_samples: int | None = None  # None: the whole training set
    seeds: tuple[int, ...] = (0, 1, 2)
    gemm_repeats: int = 200
    slider_moves: int = 50
    sweep_ranks: int = 50
    sweep_repeats: int = 5
    inference_ranks: tuple[int, ...] = (10, 50, 100, 200, 300)
    inference_batches: tuple[int, ...] = (1, 64, 10_000)

    @classmethod
    def full(cls) -> Settings:
        return cls()

    @classmethod
    def quick_settings(cls) -> Settings:
        return cls(
            quick=True,
            train_samples=3_200,
            seeds=(0,),
            gemm_repeats=20,
            slider_moves=10,
            sweep_repeats=1,
            inference_ranks=(10, 300),
        )

    def inference_repeats(self, batch: int) -> int:
        full = 200 if batch <= 64 else 15
        return max(3, full // 10) if self.quick else full


Log = Callable[[str], None]


# ---------------------------------------------------------------- 1. training epoch


def gemm_shapes(batch: int = BATCH_SIZE, hidden: int = HIDDEN) -> list[tuple]:
    """The matrix products one SimpleNN training step runs: (name, m, k, n, left transposed,
    right transposed), with the operand layouts autograd uses for ``nn.Linear``.

    fc1's input gradient is not among them: the images do not require a gradient, so autograd
    never computes it.
    """
    return [
        ("fc1 forward x·W1ᵀ", batch, IMAGE_PIXELS, hidden, False, True),
        ("fc1 weight grad g1ᵀ·x", hidden, batch, IMAGE_PIXELS, True, False),
        ("fc2 forward h·W2ᵀ", batch, hidden, CLASS_COUNT, False, True),
        ("fc2 input grad g2·W2", batch, CLASS_COUNT, hidden, False, False),
        ("fc2 weight grad g2ᵀ·h", CLASS_COUNT, batch, hidden, True, False),
    ]


def _operand(rows: int, columns: int, transposed: bool, device: torch.device) -> torch.Tensor:
    if transposed:
        return torch.rand(columns, rows, device=device).T
    return torch.rand(rows, columns, device=device)


def measure_gemms(device: torch.device, settings: Settings, log: Log) -> dict:
    """Median seconds and GFLOP/s of each product of one training step, at its real shape."""
    rows = []
    for name, m, k, n, left_transposed, right_transposed in gemm_shapes():
        left = _operand(m, k, left_transposed, device)
        right = _operand(k, n, right_transposed, device)
        timing = time_call(
            lambda left=left, right=right: left @ right,
            repeats=settings.gemm_repeats,
            warmup=10,
            device=device,
        )
        flops = 2 * m * k * n
        rows.append(
            {
                "name": name,
                "m": m,
                "k": k,
                "n": n,
                "flops": flops,
                "median_s": timing.median,
                "gflops_per_s": flops / timing.median / 1e9,
            }
        )
        log(f"  GEMM {name} {m}×{k}×{n}: {rows[-1]['gflops_per_s']:.1f} GFLOP/s")
    return {"products": rows, "step_s": sum(row["median_s"] for row in rows)}


def _recipe_loaders(settings: Settings) -> list[DataLoader]:
    if settings.train_samples is None:
        return [
            mnist_loader(train=True, batch_size=BATCH_SIZE, seed=seed) for seed in settings.seeds
        ]
    dataset = Subset(mnist_dataset(train=True), range(settings.train_samples))
    return [
        DataLoader(
            dataset,
            batch_size=BATCH_SIZE,
            shuffle=True,
            generator=torch.Generator().manual_seed(seed),
        )
        for seed in settings.seeds
    ]


def _fresh_model(seed: int, device: torch.device) -> SimpleNN:
    torch.manual_seed(seed)
    return SimpleNN(HIDDEN).to(device)


def measure_training(device: torch.device, settings: Settings, log: Log) -> tuple[dict, nn.Module]:
    """One epoch with the original recipe, with the fast path, and the GEMM floor.

    Each seed trains once per path, the two paths interleaved so that load from other
    processes falls on both alike. Returns the numbers and the fast path's seed-0 model.
    """
    train_data = load_mnist(train=True)
    if settings.train_samples is not None:
        train_data = train_data.subset(settings.train_samples)
    test_data = load_mnist(train=False)
    samples = len(train_data)
    loaders = _recipe_loaders(settings)

    # warm-up: a few batches of each path (allocator, thread pool, DataLoader workers' imports)
    warm = train_data.subset(10 * BATCH_SIZE)
    train_on_tensors(_fresh_model(0, device), warm, progress=False)
    warm_batches = (batch for _, batch in zip(range(10), iter(loaders[0]), strict=False))
    train(_fresh_model(0, device), warm_batches, lr=LR, progress=False)

    recipe_s, fast_s, recipe_acc, fast_acc = [], [], [], []
    kept_model = None
    for seed, loader in zip(settings.seeds, loaders, strict=True):
        model = _fresh_model(seed, device)
        recipe_s.append(
            time_call(
                lambda model=model, loader=loader: train(
                    model, loader, lr=LR, total_batches=len(loader), progress=False
                ),
                repeats=1,
                warmup=0,
                device=device,
            ).median
        )
        recipe_acc.append(accuracy(model, test_data))
        model = _fresh_model(seed, device)
        fast_s.append(
            time_call(
                lambda model=model, seed=seed: train_on_tensors(
                    model, train_data, batch_size=BATCH_SIZE, lr=LR, seed=seed, progress=False
                ),
                repeats=1,
                warmup=0,
                device=device,
            ).median
        )
        fast_acc.append(accuracy(model, test_data))
        if kept_model is None:
            kept_model = model
        log(
            f"  seed {seed}: recipe {recipe_s[-1]:.2f} s ({recipe_acc[-1]:.4f}), "
            f"fast {fast_s[-1]:.2f} s ({fast_acc[-1]:.4f})"
        )

    gemms = measure_gemms(device, settings, log)
    steps = samples / BATCH_SIZE  # the last, partial batch counts by its share of the work
    floor_s = gemms["step_s"] * steps
    flops_run = sum(row["flops"] for row in gemms["products"]) * steps
    forward_flops = 2 * (IMAGE_PIXELS * HIDDEN + HIDDEN * CLASS_COUNT) * samples
    reference = next(row for row in gemms["products"] if row["name"].startswith("fc1 forward"))
    recipe, fast = statistics.median(recipe_s), statistics.median(fast_s)
    results = {
        "samples": samples,
        "batch_size": BATCH_SIZE,
        "seeds": list(settings.seeds),
        "recipe_s": recipe_s,
        "fast_s": fast_s,
        "recipe_median_s": recipe,
        "fast_median_s": fast,
        "floor_s": floor_s,
        "speedup_fast_vs_recipe": recipe / fast,
        "fast_over_floor": fast / floor_s,
        "recipe_over_floor": recipe / floor_s,
        "recipe_accuracy": recipe_acc,
        "fast_accuracy": fast_acc,
        "recipe_mean_accuracy": statistics.fmean(recipe_acc),
        "fast_mean_accuracy": statistics.fmean(fast_acc),
        "accuracy_difference_points": 100
        * (statistics.fmean(fast_acc) - statistics.fmean(recipe_acc)),
        "epoch_gflop_run": flops_run / 1e9,
        "epoch_gflop_three_forwards": 3 * forward_flops / 1e9,
        "gemm_gflops_per_s_64x784x500": reference["gflops_per_s"],
        "gemms": gemms["products"],
    }
    return results, kept_model


# ---------------------------------------------------------------- 2. slider update


def measure_slider(
    model: nn.Module, test_data: MnistTensors, device: torch.device, settings: Settings, log: Log
) -> dict:
    """One move of the rank explorer's slider: rank-k predictions on the 10,000 test images from
    the cached SVD, per-class accuracy, the digits' projections, and every panel redrawn in one
    ``FigureWidget`` batch update, timed at random ranks (each rank new to the explorer's cache,
    as it is on a first drag)."""
    sweep = RankSweep(model, test_data.to(device))
    ranks = sweep_ranks(50, sweep.max_rank)
    explorer = RankExplorer(
        model, test_data, sweep=sweep, curve_ranks=ranks, curve_accuracies=sweep.accuracies(ranks)
    )
    update, timed = explorer.update, "course_utils.explorer.RankExplorer.update"
    warmup = 3
    moves = random.Random(0).choices(range(1, sweep.max_rank + 1), k=warmup + settings.slider_moves)
    upcoming = iter(moves)

    def move() -> None:
        explorer._predictions.clear()  # time the work of a rank seen for the first time
        update(next(upcoming))

    timing = time_call(move, repeats=settings.slider_moves, warmup=warmup, device=device)
    log(f"  explorer ({timed}): p50 {timing.median * 1e3:.1f} ms, p95 {timing.p95 * 1e3:.1f} ms")
    return {
        "timed": timed,
        "moves": settings.slider_moves,
        "ranks": moves[warmup:],
        "p50_s": timing.median,
        "p95_s": timing.p95,
        "p05_s": timing.p05,
    }


# ---------------------------------------------------------------- 3. rank sweep


def sweep_ranks(count: int, largest: int = HIDDEN) -> list[int]:
    """``count`` ranks spread evenly from 1 to ``largest``."""
    return sorted({round(value) for value in np.linspace(1, largest, count)})


def measure_sweep(
    model: nn.Module, test_data: MnistTensors, device: torch.device, settings: Settings, log: Log
) -> dict:
    """Test accuracy at many ranks: one SVD, projections reused (``RankSweep``), timed whole."""
    images = test_data.to(device)
    ranks = sweep_ranks(settings.sweep_ranks)
    found: dict[str, list[float]] = {}

    def sweep() -> None:
        found["accuracies"] = RankSweep(model, images).accuracies(ranks)

    total = time_call(sweep, repeats=settings.sweep_repeats, warmup=1, device=device)
    setup = time_call(
        lambda: RankSweep(model, images), repeats=settings.sweep_repeats, warmup=1, device=device
    )
    log(
        f"  sweep of {len(ranks)} ranks: {total.median:.3f} s "
        f"(SVD + projection {setup.median:.3f} s)"
    )
    return {
        "ranks": ranks,
        "median_s": total.median,
        "setup_median_s": setup.median,
        "accuracy_at_first_and_last": [found["accuracies"][0], found["accuracies"][-1]],
    }


# ---------------------------------------------------------------- 4. inference


def measure_inference(
    model: nn.Module, test_data: MnistTensors, device: torch.device, settings: Settings, log: Log
) -> dict:
    """Median latency of the dense model and of fc1 factorized at several ranks."""
    model = model.to(device).eval()
    factorized = {
        rank: factorize_layer(model, "fc1", rank).eval() for rank in settings.inference_ranks
    }
    rows = []
    for batch in settings.inference_batches:
        inputs = test_data.images[:batch].to(device)
        repeats = settings.inference_repeats(batch)

        def timed(
            network: nn.Module, inputs: torch.Tensor = inputs, repeats: int = repeats
        ) -> float:
            with torch.inference_mode():
                return time_call(
                    lambda: network(inputs), repeats=repeats, warmup=5, device=device
                ).median

        dense = timed(model)
        for rank, network in factorized.items():
            low_rank = timed(network)
            rows.append(
                {
                    "batch": batch,
                    "rank": rank,
                    "dense_s": dense,
                    "factorized_s": low_rank,
                    "dense_images_per_s": batch / dense,
                    "factorized_images_per_s": batch / low_rank,
                    "speedup": dense / low_rank,
                }
            )
            log(
                f"  batch {batch:>6} rank {rank:>3}: dense {dense * 1e3:.3f} ms, "
                f"factorized {low_rank * 1e3:.3f} ms ({dense / low_rank:.2f}×)"
            )
    stops = {}
    for batch in settings.inference_batches:
        losing = [row["rank"] for row in rows if row["batch"] == batch and row["speedup"] < 1]
        stops[str(batch)] = min(losing) if losing else None
    return {"rows": rows, "first_rank_not_faster": stops}


# ---------------------------------------------------------------- 5. test suite


def test_command() -> list[str]:
    """The README's test command, ``make test``; pytest directly where make is missing."""
    import shutil

    if shutil.which("make") and (REPOSITORY_ROOT / "Makefile").exists():
        return ["make", "test"]
    return [sys.executable, "-m", "pytest"]


def measure_test_suite(log: Log, timeout_s: float = 3600) -> dict:
    """Wall time of the whole test suite, run once (it takes minutes); failing tests named."""
    command = test_command()
    log(f"  running {' '.join(command)} …")
    start = time.perf_counter()
    try:
        finished = subprocess.run(
            command,
            cwd=REPOSITORY_ROOT,
            capture_output=True,
            text=True,
            check=False,
            timeout=timeout_s,
        )
        output, exit_code = finished.stdout, finished.returncode
    except subprocess.TimeoutExpired as expired:
        output, exit_code = expired.stdout or "", None
        if isinstance(output, bytes):
            output = output.decode(errors="replace")
    seconds = time.perf_counter() - start
    lines = [line for line in output.splitlines() if line.strip()]
    summary = lines[-1].strip("= ") if lines else ""
    if exit_code is None:
        summary = f"stopped after {timeout_s:g} s"
    failures = [line for line in lines if line.startswith(("FAILED", "ERROR"))][:20]
    log(f"  test suite: {seconds:.1f} s, exit code {exit_code} ({summary})")
    for line in failures:
        log(f"    {line}")
    return {
        "command": " ".join(command),
        "seconds": seconds,
        "exit_code": exit_code,
        "summary": summary,
        "failures": failures,
    }


def run_all(device: torch.device, settings: Settings, log: Log) -> dict:
    """Measurements 1 to 4 on ``device`` (the test suite is timed once per run, by the caller)."""
    test_data = load_mnist(train=False)
    log(f"[{device.type}] 1. training epoch")
    training, model = measure_training(device, settings, log)
    log(f"[{device.type}] 2. rank explorer update")
    slider = measure_slider(model, test_data, device, settings, log)
    log(f"[{device.type}] 3. rank sweep")
    sweep = measure_sweep(model, test_data, device, settings, log)
    log(f"[{device.type}] 4. dense vs factorized inference")
    inference = measure_inference(model, test_data, device, settings, log)
    synchronize(device)
    return {"training": training, "slider": slider, "sweep": sweep, "inference": inference}
