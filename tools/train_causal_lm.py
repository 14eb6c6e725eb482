"""Train the course's byte-level Llama on the shipped docstrings and write the checkpoint that
14_causal_lm loads (``data/causal_lm/`` by default). About 3,000 steps: minutes on a CPU.

    python -m tools.train_causal_lm [--seed 0] [--output data/causal_lm]
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import torch

from course_utils.causal_lm import (
    TRAINING_SETTINGS,
    build_model,
    evaluation_windows,
    load_corpus,
    perplexity,
    save_checkpoint,
    train_causal_lm,
)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seed", type=int, default=TRAINING_SETTINGS["seed"])
    parser.add_argument("--steps", type=int, default=TRAINING_SETTINGS["steps"])
    parser.add_argument("--output", type=Path, default=Path("data/causal_lm"))
    arguments = parser.parse_args()
    corpus = load_corpus()
    model = build_model(seed=arguments.seed)
    settings = {k: v for k, v in TRAINING_SETTINGS.items() if k not in ("seed", "steps")}
    started = time.perf_counter()
    losses = train_causal_lm(
        model, corpus.train, seed=arguments.seed, steps=arguments.steps, **settings
    )
    seconds = time.perf_counter() - started
    held_out = perplexity(model, evaluation_windows(corpus.held_out))
    save_checkpoint(
        model,
        losses,
        arguments.output,
        seed=arguments.seed,
        steps=arguments.steps,
        torch_version=torch.__version__,
        threads=torch.get_num_threads(),
        seconds_measured_under_load=round(seconds, 1),
        held_out_perplexity=round(held_out, 4),
    )
    print(f"{seconds:.0f} s; held-out perplexity per byte {held_out:.4f} -> {arguments.output}")


if __name__ == "__main__":
    main()
