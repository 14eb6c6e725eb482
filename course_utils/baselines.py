"""The baselines a compressed model has to beat at the same parameter budget: magnitude pruning of
one linear layer to a given number of non-zero weights (with ``torch.nn.utils.prune``), and small
networks of the same size trained from scratch, for one epoch or until their held-out accuracy
levels off (introduced in 07_is_it_worth_it)."""

from __future__ import annotations

import copy

import torch
from torch import nn
from torch.nn.utils import prune

from course_utils.compress import FactorizedLinear, linear_layer
from course_utils.data import MnistTensors, shuffled_batches
from course_utils.models import CLASS_COUNT, IMAGE_PIXELS, SimpleNN
from course_utils.training import accuracy, train


def _pruned_layers(model: nn.Module) -> list[tuple[nn.Module, str]]:
    """Every ``(module, tensor name)`` that carries a pruning reparametrization: the tensors
    ``torch.nn.utils.prune`` left a ``<name>_mask`` buffer beside a ``<name>_orig`` for."""
    if not prune.is_pruned(model):
        return []
    return [
        (module, buffer.removesuffix("_mask"))
        for module in model.modules()
        for buffer, _ in module.named_buffers(recurse=False)
        if buffer.endswith("_mask") and hasattr(module, buffer.removesuffix("_mask") + "_orig")
    ]


def _refresh_pruned_weights(model: nn.Module) -> None:
    """Store each pruned weight as a plain tensor, ``weight_orig · mask``, outside autograd.

    ``torch.nn.utils.prune`` keeps the masked weight as a computed tensor, which
    ``copy.deepcopy`` refuses to copy. The pruning hook recomputes it from ``weight_orig`` and
    ``weight_mask`` before every forward pass, so replacing it changes no result.
    """
    with torch.no_grad():
        for module, name in _pruned_layers(model):
            original = getattr(module, f"{name}_orig")
            setattr(module, name, original.detach() * getattr(module, f"{name}_mask"))


def make_pruning_permanent(model: nn.Module) -> nn.Module:
    """A copy of ``model`` with every pruning mask applied for good (``prune.remove``).

    The zeros become ordinary entries of an ordinary ``weight`` parameter, so they can be counted
    and the model saved like any other.
    """
    _refresh_pruned_weights(model)
    permanent = copy.deepcopy(model)
    for module, name in _pruned_layers(permanent):
        prune.remove(module, name)
    return permanent


def prune_to_nonzeros(
    model: nn.Module, layer_name: str, nonzeros: int, *, permanent: bool = True
) -> nn.Module:
    """A copy of ``model`` whose ``layer_name`` weight keeps only its ``nonzeros`` largest entries
    in absolute value (global magnitude pruning of that one matrix; the bias is kept).

    With ``permanent=False`` the pruning mask stays attached, so later training (for example
    ``fine_tune``) cannot revive the removed weights; call :func:`make_pruning_permanent` after it.
    """
    weight = linear_layer(model, layer_name).weight
    if isinstance(nonzeros, bool) or not isinstance(nonzeros, int):
        raise TypeError(f"nonzeros must be an integer, got {nonzeros!r}")
    if not 0 <= nonzeros <= weight.numel():
        raise ValueError(
            f"nonzeros must be from 0 to {weight.numel()} for {layer_name!r}, got {nonzeros}"
        )
    _refresh_pruned_weights(model)
    pruned = copy.deepcopy(model)
    prune.l1_unstructured(
        linear_layer(pruned, layer_name), "weight", amount=weight.numel() - nonzeros
    )
    if permanent:
        return make_pruning_permanent(pruned)
    _refresh_pruned_weights(pruned)
    return pruned


def nonzero_weights(model: nn.Module, layer_name: str) -> int:
    """Number of non-zero entries in the weight of the linear layer ``layer_name``."""
    return int(torch.count_nonzero(linear_layer(model, layer_name).weight))


def mlp_parameters(hidden_dim: int) -> int:
    """Parameters of ``SimpleNN(hidden_dim)``, the 784→h→10 network: ``795·h + 10``."""
    return (IMAGE_PIXELS + 1) * hidden_dim + (hidden_dim + 1) * CLASS_COUNT


def same_size_mlp(parameters: int) -> SimpleNN:
    """A freshly initialised 784→h→10 ``SimpleNN`` with at most ``parameters`` parameters (the
    widest such ``h``); seed torch before calling it for a reproducible start."""
    hidden_dim = (parameters - CLASS_COUNT) // (IMAGE_PIXELS + 1 + CLASS_COUNT)
    if hidden_dim < 1:
        raise ValueError(
            f"a 784→h→10 network needs at least {mlp_parameters(1)} parameters, got {parameters}"
        )
    return SimpleNN(hidden_dim)


def train_tracking_accuracy(
    model: nn.Module,
    data: MnistTensors,
    held_out: MnistTensors,
    *,
    epochs: int,
    seed: int = 0,
) -> list[float]:
    """Train ``model`` in place exactly as ``train_on_tensors(model, data, epochs=epochs,
    seed=seed)`` does (one Adam optimizer, one seeded shuffle per epoch), and return the accuracy
    on ``held_out`` after each epoch, to see where training reaches a plateau (07_is_it_worth_it).
    """
    if epochs < 1:
        raise ValueError(f"epochs must be a positive integer, got {epochs}")
    device = next(model.parameters()).device
    data, held_out = data.to(device), held_out.to(device)
    accuracies: list[float] = []

    def batches_with_checkpoints():
        for epoch in range(epochs):
            if epoch:
                accuracies.append(accuracy(model, held_out))
                model.train()  # accuracy() switched it to evaluation mode
            yield from shuffled_batches(data, 64, seed=seed + epoch)

    train(model, batches_with_checkpoints(), progress=False)
    accuracies.append(accuracy(model, held_out))
    return accuracies


def bottleneck_mlp(rank: int, hidden_dim: int = 500) -> SimpleNN:
    """A freshly initialised 784→rank→hidden→10 network: ``SimpleNN`` whose fc1 is a randomly
    initialised :class:`FactorizedLinear`. It has exactly the architecture and parameter count of
    the rank-``rank`` factorized model, but none of the trained model's weights."""
    model = SimpleNN(hidden_dim)
    model.fc1 = FactorizedLinear(IMAGE_PIXELS, hidden_dim, rank)
    return model
