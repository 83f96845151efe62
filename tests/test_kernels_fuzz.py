"""Kernel values typed by a user or read from a link: whatever the text, a finite
value within kernels.MAX_VALUE or a ValueError whose message is a sentence part;
never another exception, never inf or NaN in float32 (fuzzed with hypothesis)."""

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from cnnlib.conv import kernels, layer

LIMIT = kernels.MAX_VALUE
NUMBER_TEXT = st.one_of(
    st.text(max_size=30),
    st.text(alphabet="0123456789.eE+-/ infaINFA_", max_size=30),
    st.floats().map(repr),
    st.integers(min_value=-10**400, max_value=10**400).map(str),
    st.builds(lambda a, b: f"{a}/{b}", st.floats().map(repr), st.floats().map(repr)),
)


@settings(max_examples=400, deadline=None)
@given(NUMBER_TEXT)
def test_parse_number_gives_a_finite_value_within_the_limit_or_a_value_error(text):
    try:
        value = kernels.parse_number(text, LIMIT)
    except ValueError as e:  # EmptyCellError included
        assert str(e)
        return
    assert math.isfinite(value) and abs(value) <= LIMIT
    assert np.isfinite(np.float32(value))


@settings(max_examples=200, deadline=None)
@given(st.one_of(st.floats(), st.integers(min_value=-10**400, max_value=10**400),
                 st.none(), st.booleans()))
def test_parse_number_takes_numbers_too(value):
    try:
        out = kernels.parse_number(value, LIMIT)
    except ValueError:
        assert value is None or isinstance(value, bool) or not -LIMIT <= value <= LIMIT
        return
    assert math.isfinite(out) and abs(out) <= LIMIT


@settings(max_examples=300, deadline=None)
@given(st.one_of(st.text(max_size=200),
                 st.lists(st.lists(NUMBER_TEXT, min_size=1, max_size=6), min_size=1, max_size=6)
                 .map(lambda rows: ";".join(",".join(r) for r in rows))))
def test_from_param_gives_a_usable_kernel_or_a_value_error(text):
    try:
        k = kernels.from_param(text)
    except ValueError as e:
        assert str(e)
        return
    assert k.dtype == np.float32 and k.shape[0] == k.shape[1] and k.shape[0] in kernels.CUSTOM_SIZES
    assert np.isfinite(k).all() and np.abs(k).max() <= LIMIT


@settings(max_examples=100, deadline=None)
@given(st.sampled_from(kernels.CUSTOM_SIZES).flatmap(lambda n: hnp.arrays(
    np.float64, (n, n), elements=st.floats(-LIMIT, LIMIT))))
def test_a_kernel_survives_the_link_round_trip(k):
    back = kernels.from_param(kernels.to_param(k))
    np.testing.assert_allclose(back, k.astype(np.float32), rtol=1e-5, atol=1e-30)


def test_the_limit_keeps_the_largest_layer_finite_in_float32():
    """Every tap at +-MAX_VALUE on an all-white RGB input, ReLU and max pooling: finite."""
    image = np.ones((12, 12, 3), np.float32)
    kernel = np.full((5, 5, 3), LIMIT, np.float32)
    result = layer.compute_layer(image, kernel, stride=1, padding="same", dilation=1,
                                        use_relu=True, pool_mode="max", pool_size=2,
                                        pool_stride=2, row=0, col=0)
    assert np.isfinite(result.activated).all() and result.activated.max() == pytest.approx(75e6)
    assert np.isfinite(result.pooled).all() and np.isfinite(result.explanation.products).all()
    with pytest.raises(ValueError, match=r"holds '1e308', which is not between -1,000,000 "
                                         r"and 1,000,000\. Type a number"):
        kernels.parse_kernel([["0", "1e308"]])
