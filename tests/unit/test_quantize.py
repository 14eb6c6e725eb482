"""Round-to-nearest and error-feedback quantization, against cases worked by hand."""

import pytest
import torch

from course_utils.accounting import dense_bytes
from course_utils.quantize import (
    QuantizedRows,
    largest_code,
    quantize_rows,
    quantize_rows_gptq,
)


def test_a_2x3_matrix_quantized_to_4_bits_by_hand():
    # row 0: max |w| = 0.7, qmax = 7, scale 0.1: 0.7/0.1 = 7, -0.34/0.1 = -3.4 → -3,
    # 0.12/0.1 = 1.2 → 1; row 1: max |w| = 1.4, scale 0.2: -1.4 → -7, 0.46 → 2.3 → 2,
    # 0.0 → 0. Scales in float32 so the hand arithmetic is exact enough.
    weight = torch.tensor([[0.7, -0.34, 0.12], [-1.4, 0.46, 0.0]])
    quantized = quantize_rows(weight, 4, scale_dtype=torch.float32)
    assert quantized.codes.dtype == torch.int8
    assert quantized.codes.tolist() == [[7, -3, 1], [-7, 2, 0]]
    assert torch.allclose(quantized.scales, torch.tensor([0.1, 0.2]))
    expected = torch.tensor([[0.7, -0.3, 0.1], [-1.4, 0.4, 0.0]])
    assert torch.allclose(quantized.dequantize(), expected)
    assert quantized.dequantize().dtype == torch.float32


def test_codes_stay_in_the_symmetric_range_and_the_error_is_at_most_half_a_step():
    weight = torch.randn(50, 70, generator=torch.Generator().manual_seed(0))
    for bits in range(2, 9):
        quantized = quantize_rows(weight, bits)
        qmax = largest_code(bits)
        assert int(quantized.codes.abs().max()) == qmax
        error = (quantized.dequantize() - weight).abs()
        step = quantized.scales.float()[:, None]
        assert bool((error <= step / 2 + 1e-3 * step).all())


def test_an_all_zero_row_gets_zero_codes():
    quantized = quantize_rows(torch.zeros(2, 3), 8)
    assert quantized.codes.abs().sum() == 0
    assert torch.equal(quantized.dequantize(), torch.zeros(2, 3))


def test_bytes_of_a_known_shape():
    weight = torch.randn(500, 784)
    # int4: 784 codes · 4 bits = 392 bytes a row, plus a float16 scale: 500 · 394 = 197,000
    assert quantize_rows(weight, 4).nbytes() == 500 * 392 + 500 * 2 == 197_000
    assert quantize_rows(weight, 8).nbytes() == 500 * 784 + 1_000 == 393_000
    assert quantize_rows(weight, 8).nbytes(scale_bytes=4) == 394_000
    # 3 bits: 784 · 3 / 8 = 294 bytes a row; 5 columns of 3 bits: 15 bits, rounded up to 2 bytes
    assert quantize_rows(weight, 3).nbytes() == 500 * 294 + 1_000
    assert quantize_rows(torch.randn(3, 5), 3).nbytes() == 3 * 2 + 3 * 2
    for bits in (2, 3, 4, 8):
        assert quantize_rows(weight, bits).nbytes() == dense_bytes(500, 784, bits)


@pytest.mark.parametrize("bits", [1, 9, 0, 16, 4.0, True, "8"])
def test_bits_outside_2_to_8_are_refused(bits):
    with pytest.raises(ValueError, match="from 2 to 8"):
        quantize_rows(torch.randn(2, 3), bits)
    with pytest.raises(ValueError, match="from 2 to 8"):
        quantize_rows_gptq(torch.randn(2, 3), bits, torch.randn(5, 3))


@pytest.mark.parametrize(
    ("weight", "message"),
    [
        (torch.randn(6), "2-D"),
        (torch.randn(2, 3, 4), "2-D"),
        (torch.ones(2, 3, dtype=torch.int64), "floating-point"),
        (torch.tensor([[1.0, float("nan")]]), "NaN"),
    ],
)
def test_bad_weights_are_refused(weight, message):
    with pytest.raises(ValueError, match=message):
        quantize_rows(weight, 8)
    with pytest.raises(ValueError, match=message):
        quantize_rows_gptq(weight, 8, hessian=torch.eye(weight.shape[-1]))


def test_gptq_refuses_inputs_of_the_wrong_width_and_needs_exactly_one_source():
    with pytest.raises(ValueError, match=r"shape \(n, 3\)"):
        quantize_rows_gptq(torch.randn(2, 3), 4, torch.randn(5, 4))
    with pytest.raises(ValueError, match="exactly one"):
        quantize_rows_gptq(torch.randn(2, 3), 4)
    with pytest.raises(ValueError, match="damping"):
        quantize_rows_gptq(torch.randn(2, 3), 4, torch.randn(5, 3), damping=0.0)


def test_gptq_on_one_column_is_round_to_nearest():
    weight = torch.randn(4, 1)
    plain = quantize_rows(weight, 4)
    feedback = quantize_rows_gptq(weight, 4, torch.randn(10, 1))
    assert torch.equal(plain.codes, feedback.codes)
    assert torch.equal(plain.scales, feedback.scales)


def test_gptq_pushes_a_rounding_error_onto_the_next_column_by_hand():
    # Scale 0.1 at 4 bits (max 0.7, qmax 7). Inputs: x0 independent of x1, and x2 = x1, so the
    # outputs see only w0·x0 and (w1 + w2)·x1. Round-to-nearest: 0.26 → 3, 0.37 → 4, and
    # w1 + w2 = 0.63 becomes 0.7. GPTQ rounds column 1 to 0.3 (error -0.04), pushes the error
    # onto column 2 (0.37 - 0.04 = 0.33 → 3): w1 + w2 becomes 0.6, a smaller output error.
    weight = torch.tensor([[0.7, 0.26, 0.37]])
    inputs = torch.tensor([[1.0, 1, 1], [1, -1, -1], [-1, 1, 1], [-1, -1, -1]])
    rtn = quantize_rows(weight, 4, scale_dtype=torch.float32)
    gptq = quantize_rows_gptq(weight, 4, inputs, damping=1e-6, scale_dtype=torch.float32)
    assert rtn.codes.tolist() == [[7, 3, 4]]
    assert gptq.codes.tolist() == [[7, 3, 3]]
    # with uncorrelated inputs there is nothing to push the error onto: the same codes as RTN
    independent = quantize_rows_gptq(weight, 4, hessian=torch.eye(3), scale_dtype=torch.float32)
    assert independent.codes.tolist() == rtn.codes.tolist()


def test_gptq_has_a_smaller_output_error_than_round_to_nearest_on_correlated_inputs():
    generator = torch.Generator().manual_seed(0)
    mixing = torch.randn(40, 40, generator=generator)
    inputs = torch.randn(2_000, 40, generator=generator) @ mixing  # strongly correlated
    weight = torch.randn(30, 40, generator=generator)

    def output_error(quantized: QuantizedRows) -> float:
        return float((inputs @ (weight - quantized.dequantize()).T).norm())

    for bits in (3, 4):
        rtn = quantize_rows(weight, bits)
        gptq = quantize_rows_gptq(weight, bits, inputs)
        assert output_error(gptq) < 0.8 * output_error(rtn)
