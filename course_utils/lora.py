"""LoRA: fine-tune a frozen layer through a low-rank update ``ΔW = (α/r)·B A`` (Hu et al.
2021), with ``peft``, the library people use (written out by hand in 15_heal_with_lora).

A LoRA layer computes ``W x + (α/r)·B (A x)`` with ``A`` (r × in) random and ``B`` (out × r)
zero at the start, so training begins from the unchanged model and the update can never have
rank above ``r``: the low rank that notebook 02 found in training's updates, imposed by
construction.
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence

import torch
from torch import nn


def add_lora(
    model: nn.Module, targets: Sequence[str], rank: int = 8, alpha: float = 16.0, seed: int = 0
) -> nn.Module:
    """``model`` wrapped by ``peft`` with LoRA adapters of ``rank`` on every linear layer whose
    name ends with one of ``targets``; only the adapters train. ``model`` itself is changed in
    place by peft, so pass a copy to keep the original."""
    try:
        from peft import LoraConfig, get_peft_model
    except ImportError as error:  # pragma: no cover - depends on the environment
        raise ImportError(
            'LoRA needs peft: pip install -e ".[llm]" (or pip install "peft>=0.21,<0.22")'
        ) from error
    if not isinstance(rank, int) or rank < 1:
        raise ValueError(f"the LoRA rank must be a positive integer, got {rank!r}")
    torch.manual_seed(seed)
    config = LoraConfig(r=rank, lora_alpha=alpha, target_modules=list(targets), lora_dropout=0.0)
    with warnings.catch_warnings():  # peft 0.21 calls a method transformers 5 renamed
        warnings.filterwarnings("ignore", "`is_gradient_checkpointing`", FutureWarning)
        return get_peft_model(model, config)


def lora_updates(model: nn.Module) -> dict[str, torch.Tensor]:
    """``{layer name: (α/r)·B A}``, the dense update each LoRA adapter of a peft model adds to
    its frozen weight (the ``default`` adapter)."""
    updates = {}
    for name, module in model.named_modules():
        if hasattr(module, "lora_A") and "default" in getattr(module, "lora_A", {}):
            down = module.lora_A["default"].weight
            up = module.lora_B["default"].weight
            scale = module.scaling["default"]
            clean = name.removeprefix("base_model.model.")
            updates[clean] = (scale * up @ down).detach()
    return updates


def trainable_parameters(model: nn.Module) -> int:
    """How many numbers training may change (``requires_grad``)."""
    return sum(p.numel() for p in model.parameters() if p.requires_grad)
