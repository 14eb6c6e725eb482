"""A small byte-level causal language model (Hugging Face's Llama architecture) trained on the
standard library's docstrings, its held-out perplexity, and its compression with the
activation-aware factors of ``activation_aware`` (written out in 14_causal_lm).

Everything here works on any ``LlamaForCausalLM``: the block matrices are the
``q/k/v/o_proj`` and ``gate/up/down_proj`` ``nn.Linear`` layers, as in the papers' LLaMA
experiments. Bytes are the tokens (vocabulary 256), so nothing is downloaded.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

import torch
from torch import nn
from tqdm.auto import tqdm

from course_utils.activation_aware import InputStatistics, collect_input_statistics
from course_utils.compress import linear_layer, linear_layer_names
from course_utils.files import DataIntegrityError, read_checksums, sha256_of
from course_utils.paths import data_dir

CONTEXT = 128
BATCH_SIZE = 16
MODEL_SETTINGS = {
    "vocab_size": 256,
    "hidden_size": 128,
    "intermediate_size": 384,
    "num_hidden_layers": 4,
    "num_attention_heads": 4,
    "num_key_value_heads": 4,
    "max_position_embeddings": CONTEXT,
    "tie_word_embeddings": False,
    "bos_token_id": None,
    "eos_token_id": None,
    "pad_token_id": None,
}
TRAINING_SETTINGS = {
    "seed": 0,
    "steps": 3000,
    "batch_size": BATCH_SIZE,
    "context": CONTEXT,
    "lr": 2e-3,
    "warmup_steps": 100,
    "weight_decay": 0.1,
    "betas": (0.9, 0.95),
    "clip_norm": 1.0,
}
BLOCK_MATRICES = ("q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj")
WEIGHTS_FILE = "model.safetensors"
CONFIG_FILE = "config.json"
LOG_FILE = "training_log.json"


# --- the corpus -----------------------------------------------------------------------------


def _verified(folder: Path, names: Sequence[str], rebuild: str) -> None:
    sums = read_checksums(folder)
    for name in names:
        path = folder / name
        if not path.exists():
            raise FileNotFoundError(f"{path} is missing; {rebuild}")
        if sha256_of(path) != sums.get(name):
            raise DataIntegrityError(
                f"{path} does not match its SHA-256 in {folder / 'SHA256SUMS'}; {rebuild}"
            )


@dataclass(frozen=True)
class Corpus:
    """The shipped docstrings as byte tensors (uint8): training modules and held-out modules."""

    train: torch.Tensor
    held_out: torch.Tensor


def load_corpus(folder: Path | None = None) -> Corpus:
    """``data/docstrings/train.txt`` and ``heldout.txt`` as bytes, checked against their
    SHA-256 (built by ``tools/build_docstring_corpus.py``)."""
    folder = folder or data_dir() / "docstrings"
    names = ("train.txt", "heldout.txt")
    _verified(folder, names, "restore it with `git checkout -- data/docstrings`")

    def as_bytes(name: str) -> torch.Tensor:
        return torch.frombuffer(bytearray((folder / name).read_bytes()), dtype=torch.uint8)

    return Corpus(as_bytes(names[0]), as_bytes(names[1]))


def encode(text: str) -> torch.Tensor:
    """UTF-8 bytes of ``text`` as a 1-D long tensor (the model's tokens)."""
    return torch.tensor(list(text.encode("utf-8")), dtype=torch.long)


def decode(tokens: Iterable[int]) -> str:
    """Text from byte tokens; a byte sequence cut mid-character shows as �."""
    return bytes(int(t) for t in tokens).decode("utf-8", errors="replace")


def _check_length(tokens: torch.Tensor, context: int, what: str) -> None:
    if tokens.dim() != 1 or len(tokens) < context + 1:
        raise ValueError(
            f"{what} must be a 1-D byte tensor of at least context + 1 = {context + 1} bytes, "
            f"got shape {tuple(tokens.shape)}"
        )


def random_windows(
    tokens: torch.Tensor,
    count: int,
    context: int = CONTEXT,
    generator: torch.Generator | None = None,
) -> torch.Tensor:
    """``count`` windows of ``context + 1`` bytes at random offsets, shape (count, context + 1)."""
    _check_length(tokens, context, "the text")
    starts = torch.randint(0, len(tokens) - context, (count,), generator=generator)
    offsets = starts[:, None] + torch.arange(context + 1)
    return tokens[offsets].long()


def evaluation_windows(
    tokens: torch.Tensor, context: int = CONTEXT, windows: int | None = None
) -> torch.Tensor:
    """Non-overlapping windows of ``context + 1`` bytes (input and next byte), evenly spread
    over ``tokens``; all of them when ``windows`` is None."""
    _check_length(tokens, context, "the text")
    available = (len(tokens) - 1) // context
    count = available if windows is None else min(windows, available)
    picks = torch.linspace(0, available - 1, count).round().long() if count > 1 else torch.zeros(1)
    offsets = picks.long()[:, None] * context + torch.arange(context + 1)
    return tokens[offsets].long()


# --- the model ------------------------------------------------------------------------------


def model_config(**changes: object) -> object:
    """The course's ``LlamaConfig`` (byte vocabulary, width 128, 4 layers, context 128)."""
    from transformers import LlamaConfig

    return LlamaConfig(**{**MODEL_SETTINGS, **changes})


def build_model(config: object | None = None, seed: int = 0) -> nn.Module:
    """A freshly initialised ``LlamaForCausalLM`` (seeded), built from ``config``; no download."""
    from transformers import LlamaForCausalLM

    torch.manual_seed(seed)
    model = LlamaForCausalLM(config or model_config())
    return model.eval()


def block_linear_names(model: nn.Module) -> list[str]:
    """The block matrices (attention and MLP projections of every layer); the embeddings and
    the output head are left out, as the papers count compression ratios."""
    return linear_layer_names(model, lambda name: name.rsplit(".", 1)[-1] in BLOCK_MATRICES)


def next_byte_loss(model: nn.Module, windows: torch.Tensor) -> torch.Tensor:
    """Mean cross-entropy of predicting byte t+1 from bytes ≤ t, over (batch, context + 1)."""
    device = next(model.parameters()).device
    windows = windows.to(device)
    logits = model(input_ids=windows[:, :-1]).logits
    return nn.functional.cross_entropy(logits.flatten(0, 1).float(), windows[:, 1:].flatten())


@torch.no_grad()
def window_losses(model: nn.Module, windows: torch.Tensor, batch_size: int = 64) -> torch.Tensor:
    """Mean cross-entropy (nats per byte) of each window, shape (windows,), float64 on the CPU."""
    was_training = model.training
    model.eval()
    device = next(model.parameters()).device
    losses = []
    for start in range(0, len(windows), batch_size):
        chunk = windows[start : start + batch_size].to(device)
        logits = model(input_ids=chunk[:, :-1]).logits.float()
        per_byte = nn.functional.cross_entropy(
            logits.transpose(1, 2), chunk[:, 1:], reduction="none"
        )
        losses.append(per_byte.mean(1).double().cpu())
    model.train(was_training)
    return torch.cat(losses)


def perplexity(model: nn.Module, windows: torch.Tensor, batch_size: int = 64) -> float:
    """Perplexity per byte: ``exp`` of the mean cross-entropy over every predicted position."""
    return math.exp(float(window_losses(model, windows, batch_size).mean()))


def learning_rate(step: int, steps: int, lr: float, warmup_steps: int) -> float:
    """Linear warm-up, then a cosine decay to zero at ``steps``."""
    if step < warmup_steps:
        return lr * (step + 1) / warmup_steps
    progress = (step - warmup_steps) / max(1, steps - warmup_steps)
    return lr * 0.5 * (1 + math.cos(math.pi * min(1.0, progress)))


def train_causal_lm(
    model: nn.Module,
    tokens: torch.Tensor,
    *,
    seed: int = 0,
    steps: int = 3000,
    stop_after: int | None = None,
    batch_size: int = BATCH_SIZE,
    context: int = CONTEXT,
    lr: float = 2e-3,
    warmup_steps: int = 100,
    weight_decay: float = 0.1,
    betas: tuple[float, float] = (0.9, 0.95),
    clip_norm: float = 1.0,
    progress: bool = True,
    parameters: Iterable[nn.Parameter] | None = None,
) -> list[float]:
    """Train ``model`` in place with AdamW on random windows of ``tokens``; returns the loss of
    every step. The schedule spans ``steps``; ``stop_after`` ends early on the same schedule
    (so the first steps of a long run can be replayed). ``parameters``: what to train (default
    all). Batches come from a generator seeded with ``seed``: the same seed, the same bytes."""
    if steps < 1 or (stop_after is not None and not 1 <= stop_after <= steps):
        raise ValueError(
            f"steps must be ≥ 1 and stop_after in [1, steps], got {steps}, {stop_after}"
        )
    generator = torch.Generator().manual_seed(seed)
    trained = [p for p in (parameters or model.parameters()) if p.requires_grad]
    optimizer = torch.optim.AdamW(trained, lr=lr, betas=betas, weight_decay=weight_decay)
    losses = []
    model.train()
    bar = tqdm(range(stop_after or steps), desc="training", disable=not progress)
    for step in bar:
        for group in optimizer.param_groups:
            group["lr"] = learning_rate(step, steps, lr, warmup_steps)
        loss = next_byte_loss(model, random_windows(tokens, batch_size, context, generator))
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(trained, clip_norm)
        optimizer.step()
        losses.append(loss.item())
        if step % 50 == 0:
            bar.set_postfix(loss=f"{losses[-1]:.3f}")
    model.eval()
    return losses


# --- the shipped checkpoint -----------------------------------------------------------------


def checkpoint_folder() -> Path:
    return data_dir() / "causal_lm"


def save_checkpoint(
    model: nn.Module, losses: Sequence[float], folder: Path, **extra: object
) -> None:
    """Weights (safetensors), config, training log and SHA256SUMS into ``folder`` (atomically)."""
    from safetensors.torch import save_file

    from course_utils.files import write_atomically, write_text_atomically

    folder.mkdir(parents=True, exist_ok=True)
    state = {k: v.detach().cpu().contiguous() for k, v in model.state_dict().items()}
    temporary = folder / f".{WEIGHTS_FILE}.tmp"
    save_file(state, str(temporary))
    write_atomically(folder / WEIGHTS_FILE, lambda stream: stream.write(temporary.read_bytes()))
    temporary.unlink()
    write_text_atomically(folder / CONFIG_FILE, json.dumps(MODEL_SETTINGS, indent=2) + "\n")
    log = {"training": {**TRAINING_SETTINGS, **extra}, "losses": [round(x, 5) for x in losses]}
    write_text_atomically(folder / LOG_FILE, json.dumps(log) + "\n")
    names = (WEIGHTS_FILE, CONFIG_FILE, LOG_FILE)
    write_text_atomically(
        folder / "SHA256SUMS", "".join(f"{sha256_of(folder / n)}  {n}\n" for n in names)
    )


def training_log(folder: Path | None = None) -> dict:
    """The shipped training log: ``{"training": settings, "losses": [loss per step]}``."""
    folder = folder or checkpoint_folder()
    _verified(folder, (LOG_FILE,), "restore it with `git checkout -- data/causal_lm`")
    return json.loads((folder / LOG_FILE).read_text())


def load_checkpoint(folder: Path | None = None, device: torch.device | str = "cpu") -> nn.Module:
    """The shipped model: SHA-256 of every file checked, its config compared with the course's
    (a clear error if either does not match), weights loaded into a fresh ``LlamaForCausalLM``."""
    from safetensors.torch import load_file

    folder = folder or checkpoint_folder()
    restore = (
        "restore it with `git checkout -- data/causal_lm` or retrain with tools.train_causal_lm"
    )
    _verified(folder, (WEIGHTS_FILE, CONFIG_FILE, LOG_FILE), restore)
    stored = json.loads((folder / CONFIG_FILE).read_text())
    if stored != json.loads(json.dumps(MODEL_SETTINGS)):
        changed = sorted(
            k for k in set(stored) | set(MODEL_SETTINGS) if stored.get(k) != MODEL_SETTINGS.get(k)
        )
        raise ValueError(
            f"the checkpoint's config in {folder} does not match the course's model "
            f"(differs in {changed}); {restore}"
        )
    model = build_model(model_config(**stored))
    model.load_state_dict(load_file(str(folder / WEIGHTS_FILE)))
    return model.to(device).eval()


# --- compression ----------------------------------------------------------------------------


def check_removed(removed: float) -> float:
    """``removed``, the share of the block matrices' parameters to remove, must lie in (0, 1)."""
    if not isinstance(removed, int | float) or not 0 < removed < 1:
        raise ValueError(f"the share of parameters removed must lie in (0, 1), got {removed!r}")
    return float(removed)


def weight_budget(shapes: dict[str, tuple[int, int]], removed: float) -> int:
    """The numbers the block matrices may keep when ``removed`` of their parameters go: the
    budget that 13_transformer_budget's allocations share out."""
    keep = 1 - check_removed(removed)
    return int(keep * sum(m * n for m, n in shapes.values()))


def block_shapes(
    model: nn.Module, names: Sequence[str] | None = None
) -> dict[str, tuple[int, int]]:
    """``{name: (out, in)}`` of the block matrices (or of ``names``, each checked to be linear)."""
    names = block_linear_names(model) if names is None else names
    return {name: tuple(linear_layer(model, name).weight.shape) for name in names}


def calibration_statistics(
    model: nn.Module,
    tokens: torch.Tensor,
    windows: int,
    seed: int = 0,
    names: Sequence[str] | None = None,
    context: int = CONTEXT,
) -> dict[str, InputStatistics]:
    """Inputs of every block matrix over ``windows`` random windows of ``tokens`` (calibration
    text from the training modules), summed by ``collect_input_statistics``."""
    _check_length(tokens, context, "the calibration text")
    if windows < 1:
        raise ValueError(f"windows must be ≥ 1, got {windows}")
    batches = random_windows(tokens, windows, context, torch.Generator().manual_seed(seed))
    device = next(model.parameters()).device
    return collect_input_statistics(
        model,
        block_linear_names(model) if names is None else names,
        [batch[:, :-1].to(device) for batch in batches.split(32)],
        run=lambda m, batch: m(input_ids=batch),
    )


@torch.no_grad()
def generate(
    model: nn.Module,
    prompt: str,
    new_bytes: int = 200,
    context: int = CONTEXT,
    generator: torch.Generator | None = None,
) -> str:
    """Continue ``prompt`` by ``new_bytes`` bytes: greedy, or sampled when ``generator`` is
    given. The model sees at most its last ``context`` bytes (no cache: short and plain)."""
    if not prompt:
        raise ValueError("the prompt must hold at least one character")
    device = next(model.parameters()).device
    tokens = encode(prompt).to(device)[None]
    model.eval()
    for _ in range(new_bytes):
        logits = model(input_ids=tokens[:, -context:]).logits[0, -1].float()
        if generator is None:
            following = logits.argmax()
        else:
            following = torch.multinomial(logits.softmax(-1).cpu(), 1, generator=generator)[0]
        tokens = torch.cat([tokens, following.reshape(1, 1).to(device)], 1)
    return decode(tokens[0, -new_bytes:].tolist()) if new_bytes else ""


# --- comparisons on the held-out text -------------------------------------------------------


def perplexity_by_part(
    model: nn.Module, windows: torch.Tensor, parts: int = 4
) -> tuple[float, torch.Tensor]:
    """Held-out perplexity over all ``windows``, and the mean loss (nats per byte) of each of
    ``parts`` consecutive parts of them (different modules), for paired comparisons."""
    if parts < 2 or len(windows) % parts:
        raise ValueError(f"{len(windows)} windows do not split into {parts} equal parts (≥ 2)")
    losses = window_losses(model, windows)
    return math.exp(float(losses.mean())), losses.reshape(parts, -1).mean(1)


def paired_verdict(
    first: torch.Tensor, second: torch.Tensor, margin: float
) -> tuple[float, float, float, str]:
    """Mean gap ``first − second`` in loss over the same parts, its 95% interval and a call:
    "second better" (the interval above ``margin``), "first better" (below ``−margin``) or
    "too close to call", as 07_is_it_worth_it decides."""
    from course_utils.seeds import spread
    from course_utils.verdicts import verdict

    gaps = spread((first - second).tolist())
    low, high = gaps.interval()
    calls = {"ahead": "second better", "behind": "first better"}
    call = calls.get(verdict(gaps, margin), "too close to call")
    return gaps.mean, low, high, call
