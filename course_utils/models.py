"""The network the course compresses: ``SimpleNN``, a 784-500-10 MLP (introduced in 01_train)."""

from __future__ import annotations

import torch
from torch import nn

IMAGE_PIXELS = 28 * 28
CLASS_COUNT = 10


class SimpleNN(nn.Module):
    """Flatten 28×28 → ``fc1 = Linear(784, hidden)`` → ReLU → ``fc2 = Linear(hidden, 10)``."""

    def __init__(self, hidden_dim: int = 500) -> None:
        super().__init__()
        if hidden_dim <= 0:
            raise ValueError(f"hidden_dim must be a positive integer, got {hidden_dim}")
        self.hidden_dim = hidden_dim
        self.fc1 = nn.Linear(IMAGE_PIXELS, hidden_dim)
        self.fc2 = nn.Linear(hidden_dim, CLASS_COUNT)

    def forward(self, images: torch.Tensor) -> torch.Tensor:
        hidden = torch.relu(self.fc1(images.flatten(1)))
        return self.fc2(hidden)
