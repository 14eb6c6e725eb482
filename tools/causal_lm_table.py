"""The perplexity table of 14_causal_lm for any number of trained checkpoints (other training
seeds), as a Markdown table: one row per seed and share removed.

    python -m tools.causal_lm_table data/causal_lm /tmp/seed1 ...

Each folder is one ``tools.train_causal_lm --output`` folder; the settings are the notebook's
(128 calibration windows, seed 0; 384 held-out windows; equal share per matrix).
"""

from __future__ import annotations

import argparse
from pathlib import Path

from course_utils.activation_aware import factorize_ranked, ranked_factors
from course_utils.allocation import equal_ratio_allocation
from course_utils.causal_lm import (
    block_linear_names,
    block_shapes,
    calibration_statistics,
    evaluation_windows,
    load_checkpoint,
    load_corpus,
    perplexity,
    training_log,
    weight_budget,
)
from course_utils.compress import linear_layer

METHODS = ("plain", "scale", "whiten")
REMOVED = (0.2, 0.4, 0.6)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("folders", type=Path, nargs="+")
    arguments = parser.parse_args()
    corpus = load_corpus()
    held_out = evaluation_windows(corpus.held_out, windows=384)
    print("| seed | removed | original | plain SVD | ASVD | whitened |")
    print("|---|---|---|---|---|---|")
    for folder in arguments.folders:
        model = load_checkpoint(folder)
        seed = training_log(folder)["training"]["seed"]
        names = block_linear_names(model)
        shapes = block_shapes(model)
        statistics = calibration_statistics(model, corpus.train, windows=128, seed=0)
        factors = {
            m: {n: ranked_factors(linear_layer(model, n).weight, m, statistics[n]) for n in names}
            for m in METHODS
        }
        energies = {n: f.singular_values**2 for n, f in factors["whiten"].items()}
        original = perplexity(model, held_out)
        ratios = {
            n: float(s.mean_absolute().max() / s.mean_absolute().median())
            for n, s in statistics.items()
        }
        worst = max(ratios, key=ratios.get)
        print(
            f"<!-- seed {seed}: largest channel / median channel {ratios[worst]:.1f}× ({worst}) -->"
        )
        for removed in REMOVED:
            ranks = equal_ratio_allocation(energies, shapes, weight_budget(shapes, removed)).ranks
            row = [
                perplexity(factorize_ranked(model, factors[m], ranks), held_out) for m in METHODS
            ]
            cells = " | ".join(f"{value:.3f}" for value in row)
            print(f"| {seed} | {removed:.0%} | {original:.3f} | {cells} |", flush=True)


if __name__ == "__main__":
    main()
