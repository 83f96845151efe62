"""cnnlib.conv.arithmetic against TensorFlow and Keras: conv2d vs tf.nn.conv2d,
pool2d vs keras pooling layers, output_size vs real Conv2D output shapes.

TensorFlow returns a tensor of the input's shape (not an error) for some
settings with no valid output, and can die with SIGFPE on an invalid pooling;
so references are only asked about settings whose output is non-empty, and
the invalid settings are tested against Keras's own refusal."""

import math

import numpy as np
import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from cnnlib.conv import formulas, layer, window
from cnnlib.conv.arithmetic import conv2d, output_size, padding_amounts, pool2d, pool_winners, relu

tf = pytest.importorskip("tensorflow")
keras = pytest.importorskip("keras")

SETTINGS = settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])
paddings = st.one_of(st.sampled_from(["valid", "same"]), st.integers(0, 3))


def _expected_len(n, k, s, padding, d):
    """Output length by TensorFlow's documented rules, independent of cnnlib."""
    span = d * (k - 1) + 1
    if padding == "same":
        return math.ceil(n / s)
    p = 0 if padding == "valid" else padding
    return (n + 2 * p - span) // s + 1 if n + 2 * p >= span else 0


def _tf_padding(padding):
    if isinstance(padding, str):
        return padding.upper()
    return [[0, 0], [padding, padding], [padding, padding], [0, 0]]


def _dilate(k, d):
    """The kernel that a dilation ``d`` makes of ``k`` (K_h, K_w, ...): ``d - 1`` zeros
    inserted between neighbouring taps, ((K_h - 1) d + 1, (K_w - 1) d + 1, ...)."""
    kh, kw = k.shape[:2]
    out = np.zeros(((kh - 1) * d + 1, (kw - 1) * d + 1, *k.shape[2:]), k.dtype)
    out[::d, ::d] = k
    return out


@st.composite
def conv_cases(draw, max_side=12):
    h, w = draw(st.integers(1, max_side)), draw(st.integers(1, max_side))
    c, f = draw(st.integers(1, 3)), draw(st.integers(1, 3))
    kh, kw = draw(st.integers(1, 5)), draw(st.integers(1, 5))
    s, d = draw(st.integers(1, 4)), draw(st.integers(1, 3))
    padding = draw(paddings)
    seed = draw(st.integers(0, 2**32 - 1))
    assume(_expected_len(h, kh, s, padding, d) > 0 and _expected_len(w, kw, s, padding, d) > 0)
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((h, w, c)).astype(np.float32)
    k = rng.standard_normal((kh, kw, c, f)).astype(np.float32)
    return x, k, s, padding, d


@SETTINGS
@given(conv_cases())
def test_conv2d_matches_tf(case):
    x, k, s, padding, d = case
    ours = conv2d(x, k, s, padding, d)
    if s > 1 and d > 1:  # tf.nn.conv2d refuses this pair: the zero-filled kernel instead
        ref = tf.nn.conv2d(x[None], _dilate(k, d), s, _tf_padding(padding)).numpy()[0]
    else:
        ref = tf.nn.conv2d(x[None], k, s, _tf_padding(padding), dilations=d).numpy()[0]
    assert ours.dtype == np.float32
    assert ours.shape == ref.shape
    np.testing.assert_allclose(ours, ref, rtol=1e-4, atol=1e-4)


@pytest.mark.parametrize("padding", ["valid", "same", 2])
@pytest.mark.parametrize("stride", [1, 2, 3])
@pytest.mark.parametrize("dilation", [2, 3])
def test_dilation_is_the_kernel_with_zeros_between_its_taps(padding, stride, dilation):
    """Dilation against an independent reference: an undilated tf.nn.conv2d of the kernel
    spread out with zeros. TensorFlow pads for "same" by the (dilated) kernel's extent."""
    rng = np.random.default_rng(100 * stride + dilation)
    x = rng.standard_normal((13, 11, 2)).astype(np.float32)
    k = rng.standard_normal((3, 2, 2, 4)).astype(np.float32)
    wide = _dilate(k, dilation)
    assert wide.shape[:2] == (2 * dilation + 1, dilation + 1)
    ref = tf.nn.conv2d(x[None], wide, stride, _tf_padding(padding)).numpy()[0]
    ours = conv2d(x, k, stride, padding, dilation)
    assert ours.shape == ref.shape
    np.testing.assert_allclose(ours, ref, rtol=1e-4, atol=1e-4)


@SETTINGS
@given(conv_cases(max_side=8))
def test_one_filter_and_2d_inputs_match(case):
    x, k, s, padding, d = case
    assume(not (s > 1 and d > 1))
    # one (K_h, K_w, C) filter sums over channels: one output channel
    one = conv2d(x, k[..., 0], s, padding, d)
    ref = tf.nn.conv2d(x[None], k[..., :1], s, _tf_padding(padding), dilations=d).numpy()[0, ..., 0]
    np.testing.assert_allclose(one, ref, rtol=1e-4, atol=1e-4)
    # (H, W) image with a (K_h, K_w) kernel
    flat = conv2d(x[..., 0], k[:, :, 0, 0], s, padding, d)
    ref = tf.nn.conv2d(x[None, ..., :1], k[:, :, :1, :1], s, _tf_padding(padding),
                       dilations=d).numpy()[0, ..., 0]
    assert flat.shape == ref.shape
    np.testing.assert_allclose(flat, ref, rtol=1e-4, atol=1e-4)
    # a (K_h, K_w) kernel on (H, W, C): each channel on its own, as a depthwise conv
    depth = conv2d(x, k[:, :, 0, 0], s, padding, d)
    kd = np.repeat(k[:, :, :1, :1], x.shape[2], axis=2)  # (K_h, K_w, C, 1)
    if isinstance(padding, int):
        xp, pad = np.pad(x, ((padding, padding), (padding, padding), (0, 0))), "VALID"
    else:
        xp, pad = x, padding.upper()
    if s > 1:  # depthwise_conv2d wants equal strides and no dilation with them
        ref = tf.nn.depthwise_conv2d(xp[None], kd, [1, s, s, 1], pad).numpy()[0]
    else:
        ref = tf.nn.depthwise_conv2d(xp[None], kd, [1, 1, 1, 1], pad, dilations=[d, d]).numpy()[0]
    assert depth.shape == ref.shape
    np.testing.assert_allclose(depth, ref, rtol=1e-4, atol=1e-4)


def test_conv2d_keeps_float64_and_accepts_uint8():
    x = np.arange(25, dtype=np.float64).reshape(5, 5)
    assert conv2d(x, np.ones((3, 3))).dtype == np.float64
    out = conv2d(x.astype(np.uint8), np.ones((3, 3)))
    assert out.dtype == np.float32
    np.testing.assert_allclose(out, conv2d(x, np.ones((3, 3))))


def test_no_kernel_flip():
    x = np.zeros((5, 5), np.float32)
    x[2, 2] = 1.0
    k = np.arange(9, dtype=np.float32).reshape(3, 3)
    # cross-correlation: an impulse reproduces the kernel rotated by 180 degrees
    np.testing.assert_array_equal(conv2d(x, k, padding="same")[1:4, 1:4], k[::-1, ::-1])


@st.composite
def pool_cases(draw):
    h, w, c = draw(st.integers(1, 12)), draw(st.integers(1, 12)), draw(st.integers(1, 3))
    size, s = draw(st.integers(1, 4)), draw(st.one_of(st.none(), st.integers(1, 4)))
    padding = draw(st.sampled_from(["valid", "same"]))
    stride = size if s is None else s
    assume(_expected_len(h, size, stride, padding, 1) > 0 and _expected_len(w, size, stride, padding, 1) > 0)
    x = np.random.default_rng(draw(st.integers(0, 2**32 - 1))).standard_normal((h, w, c)).astype(np.float32)
    return x, size, s, padding


@SETTINGS
@given(pool_cases())
def test_pool2d_matches_keras(case):
    x, size, s, padding = case
    for mode, pooling_layer in (("max", keras.layers.MaxPooling2D), ("avg", keras.layers.AveragePooling2D)):
        ours = pool2d(x, size, s, mode, padding)
        ref = np.asarray(pooling_layer(size, s, padding=padding)(x[None]))[0]
        assert ours.shape == ref.shape, mode
        np.testing.assert_allclose(ours, ref, rtol=1e-5, atol=1e-5, err_msg=mode)
        np.testing.assert_allclose(pool2d(x[..., 0], size, s, mode, padding), ref[..., 0],
                                   rtol=1e-5, atol=1e-5, err_msg=mode)


@SETTINGS
@given(pool_cases())
def test_pool_winners_are_the_first_maximum_of_each_window(case):
    x, size, s, padding = case
    x = np.round(x[..., 0] * 2) / 2  # coarse values: plenty of ties
    stride = size if s is None else s
    win = pool_winners(x, size, s, padding)
    pooled = pool2d(x, size, s, "max", padding)
    np.testing.assert_array_equal(x[win[..., 0], win[..., 1]], pooled)
    top = padding_amounts(x.shape[0], size, stride, padding)[0]
    left = padding_amounts(x.shape[1], size, stride, padding)[0]
    for i in range(pooled.shape[0]):
        for j in range(pooled.shape[1]):
            r0, c0 = i * stride - top, j * stride - left
            cells = [(r, c) for r in range(r0, r0 + size) for c in range(c0, c0 + size)
                     if 0 <= r < x.shape[0] and 0 <= c < x.shape[1]]
            first = max(cells, key=lambda rc: (x[rc], -cells.index(rc)))
            assert tuple(win[i, j]) == first


@settings(max_examples=100, deadline=None)
@given(n=st.integers(1, 40), k=st.integers(1, 7), s=st.integers(1, 5), d=st.integers(1, 4),
       padding=paddings)
def test_output_size_matches_keras_conv2d(n, k, s, d, padding):
    assume(s == 1 or d == 1)  # Keras refuses strides > 1 together with dilation > 1
    conv = keras.layers.Conv2D(1, k, strides=s, padding="valid" if isinstance(padding, int) else padding,
                               dilation_rate=d)
    shape = (1, n, n + 3, 1)
    if isinstance(padding, int):
        shape = keras.layers.ZeroPadding2D(padding).compute_output_shape(shape)
    try:
        expected = conv.compute_output_shape(shape)[1:3]
    except ValueError:  # Keras: "Computed output size would be negative"
        expected = None
    if expected is None or min(expected) < 1:
        with pytest.raises(ValueError, match="Received"):
            output_size(n, k, s, padding, d)
            output_size(n + 3, k, s, padding, d)
        return
    assert (output_size(n, k, s, padding, d), output_size(n + 3, k, s, padding, d)) == tuple(expected)


def test_output_size_on_a_built_layer():
    x = keras.Input((28, 30, 3))
    y = keras.layers.Conv2D(4, (5, 3), strides=2, padding="same")(x)
    assert y.shape[1:3] == (output_size(28, 5, 2, "same"), output_size(30, 3, 2, "same"))
    y = keras.layers.Conv2D(4, 3, dilation_rate=3)(x)
    assert y.shape[1:3] == (output_size(28, 3, 1, "valid", 3), output_size(30, 3, 1, "valid", 3))


@pytest.mark.parametrize("kwargs,match", [
    ({"stride": 0}, "stride=0"),
    ({"stride": -2}, "stride=-2"),
    ({"dilation": 0}, "dilation=0"),
    ({"padding": -1}, "padding=-1"),
    ({"padding": "full"}, "padding='full'"),
    ({"stride": 1.5}, "stride=1.5"),
    ({"dilation": 5}, "dilation=5"),  # 4 * (3 - 1) + 1 = 9 > 6: no output
])
def test_invalid_settings_raise_with_the_received_value(kwargs, match):
    x, k = np.ones((6, 6), np.float32), np.ones((3, 3), np.float32)
    args = {"stride": 1, "padding": "valid", "dilation": 1} | kwargs
    with pytest.raises(ValueError, match=match.replace("(", r"\(")):
        conv2d(x, k, **args)
    with pytest.raises(ValueError, match=match.replace("(", r"\(")):
        output_size(6, 3, args["stride"], args["padding"], args["dilation"])


@pytest.mark.parametrize("bad", [np.nan, np.inf, -np.inf])
def test_non_finite_kernel_is_refused(bad):
    k = np.ones((3, 3), np.float32)
    k[1, 2] = bad
    with pytest.raises(ValueError, match="finite"):
        conv2d(np.ones((5, 5)), k)
    with pytest.raises(ValueError, match="finite"):
        window.explain_position(np.ones((5, 5)), k, 0, 0)


def test_other_invalid_inputs():
    with pytest.raises(ValueError, match="channels"):
        conv2d(np.ones((5, 5, 3)), np.ones((3, 3, 2)))
    with pytest.raises(ValueError, match="image.shape"):
        conv2d(np.ones(5), np.ones((3, 3)))
    with pytest.raises(ValueError, match="kernel.shape"):
        conv2d(np.ones((5, 5)), np.ones(3))
    with pytest.raises(ValueError, match="mode='min'"):
        pool2d(np.ones((4, 4)), 2, mode="min")
    with pytest.raises(ValueError, match="pool size"):
        pool2d(np.ones((4, 4)), 0)
    with pytest.raises(ValueError, match="Received"):
        pool2d(np.ones((4, 4)), 5)  # a window larger than the map


@SETTINGS
@given(conv_cases(max_side=10))
def test_explain_position_sums_to_the_output(case):
    x, k, s, padding, d = case
    fmap = conv2d(x, k[..., 0], s, padding, d)
    rng = np.random.default_rng(0)
    for _ in range(3):
        row, col = int(rng.integers(fmap.shape[0])), int(rng.integers(fmap.shape[1]))
        e = window.explain_position(x, k[..., 0], row, col, s, padding, d)
        assert e.patch.shape == e.products.shape == k[..., 0].shape
        assert e.total == pytest.approx(float(fmap[row, col]), rel=1e-4, abs=1e-4)
        # taps on the padding read zeros; the others read the input pixel
        rows, cols = e.window.rows, e.window.cols
        for i in range(len(rows)):
            for j in range(len(cols)):
                if e.window.inside[i, j]:
                    np.testing.assert_array_equal(e.patch[i, j], x[rows[i], cols[j]])
                else:
                    assert not (0 <= rows[i] < x.shape[0] and 0 <= cols[j] < x.shape[1])
                    assert np.all(e.patch[i, j] == 0)


def test_explain_position_refuses_positions_outside_the_output():
    with pytest.raises(ValueError, match="row=4"):
        window.explain_position(np.ones((6, 6)), np.ones((3, 3)), 4, 0)
    with pytest.raises(ValueError, match="kernel.shape"):
        window.explain_position(np.ones((6, 6, 3)), np.ones((3, 3)), 0, 0)


def test_compute_layer_relu_and_pooling():
    rng = np.random.default_rng(3)
    x, k = rng.random((20, 17), dtype=np.float32), rng.standard_normal((3, 3)).astype(np.float32)
    res = layer.compute_layer(x, k, stride=2, padding=1, use_relu=True, pool_mode="max",
                                     pool_size=2, row=99, col=99)
    np.testing.assert_array_equal(res.activated, relu(res.feature_map))
    assert res.activated.min() >= 0 and res.feature_map.min() < 0
    assert res.pads == (1, 1, 1, 1) and res.padded_shape == (22, 19)
    assert res.feature_map.shape == (_expected_len(20, 3, 2, 1, 1), _expected_len(17, 3, 2, 1, 1))
    assert res.pooled.shape == (res.feature_map.shape[0] // 2, res.feature_map.shape[1] // 2)
    assert res.winners.shape == res.pooled.shape + (2,)
    # the position is clipped into the output
    assert res.explanation.total == pytest.approx(float(res.feature_map[-1, -1]), abs=1e-5)
    bad = layer.compute_layer(x, k, pool_mode="avg", pool_size=30)
    assert bad.pooled is None and "Pooling cannot run" in bad.pool_error


def test_formula_and_uncovered_pixels():
    text = formulas.formula_latex(28, 3, 2, "same", 1)
    assert "{28 + 0 + 1 - 1" in text and "{2}" in text and text.endswith(f"= {math.ceil(28 / 2)}")
    assert layer.uncovered(28, 3, 2, "valid") == (28 - 3) % 2
    assert layer.uncovered(28, 3, 1, "valid") == 0
    with pytest.raises(ValueError, match="stride=0"):
        formulas.formula_latex(28, 3, 0)
