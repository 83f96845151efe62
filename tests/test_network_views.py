"""What the overview draws (cnnlib.network.overview, scores, formulas, inputs, top_patches,
with cnnlib.viz.grids): maps in the colour rule of cnnlib.viz.colour, most active channels first,
the softmax's logits found wherever the model keeps them, the top patches equal to a
brute-force search, and each input prepared as its model expects."""

import numpy as np
import pytest

keras = pytest.importorskip("keras")
from keras import layers as K  # noqa: E402

from cnnlib.models import zoo  # noqa: E402
from cnnlib.network import (
    formulas,
    inputs,
    layer_outputs,
    overview,
    reader,
    recompute,
    scores,
    top_patches,
)
from cnnlib.viz import colour, grids


@pytest.fixture(scope="module")
def small():
    """A cifar_small model (conv 10, pool, dense 100, logits, softmax) and one input."""
    model = zoo.build("cifar_small", (32, 32, 3), 10)
    chain = reader.chain(model)
    x = np.random.default_rng(0).random((1, 32, 32, 3), dtype=np.float32)
    return model, chain, layer_outputs.extractor(model, chain), x


def test_overview_draws_maps_bars_and_text_and_finds_the_logits(small):
    model, chain, extractor, x = small
    ov = overview.overview(chain, extractor, x)
    assert [v.how for v in ov.views] == ["maps", "maps", "maps", "text", "bars", "bars", "bars"]
    assert [o.shape for o in ov.outputs][:3] == [(32, 32, 3), (30, 30, 10), (15, 15, 10)]
    assert not ov.outputs[1].flags.writeable  # shared by every session that looks at it
    s = ov.scores
    assert s.source == "the output of layer 'logits'" and not s.applied_here
    np.testing.assert_allclose(s.probs, np.asarray(model(x))[0], rtol=1e-6)
    np.testing.assert_allclose(s.exps / s.exps.sum(), s.probs, rtol=1e-5)
    assert s.predicted == int(np.argmax(s.probs)) and list(s.top(3))[0] == s.predicted


def test_a_layer_grid_colours_non_negative_maps_gray_and_signed_ones_diverging(small):
    _, chain, extractor, x = small
    ov = overview.overview(chain, extractor, x)
    relu = overview.grid(ov, 1)  # conv1 with its ReLU: >= 0
    assert not relu.scale.signed and relu.channels == tuple(range(10))
    assert (relu.cols, relu.rows, relu.map_hw) == (8, 2, (30, 30))
    tile = relu.picture[grids.GAP:grids.GAP + relu.tile[0], grids.GAP:grids.GAP + relu.tile[1]]
    assert (tile[..., 0] == tile[..., 1]).all() and (tile[..., 1] == tile[..., 2]).all()  # gray
    signed = grids.map_grid(np.stack([np.linspace(-2, 1, 64).reshape(8, 8)] * 3, axis=-1))
    assert signed.scale.signed and signed.scale.zmin == -2.0
    # a value of 0 gets the diverging scale's middle colour, as colour.colourise gives it
    zero = colour.colourise(np.zeros((1, 1)), signed.scale)[0, 0]
    middle = np.array(colour.DIVERGING_STOPS[5])
    assert np.abs(zero.astype(int) - middle).max() <= 1
    # the tile of an 8 x 8 map is 32 x 32: each map pixel 4 x 4, and a click maps back
    assert signed.tile == (32, 32) and signed.position(2, 31, 5) == (2, 7, 1)


def test_wide_layers_show_their_most_active_channels_first_a_page_at_a_time():
    maps = np.zeros((4, 4, 70), np.float32)
    maps[..., 7] = 5.0
    maps[..., 64] = 3.0
    maps[0, 0, 12] = -9.0  # a strong negative response counts as strong
    order = grids.channel_order(maps)
    assert list(order[:3]) == [7, 64, 12] and grids.pages(70) == 3
    assert list(grids.page_of(order, 0)[:3]) == [7, 64, 12]
    assert len(grids.page_of(order, 2)) == 70 - 64
    narrow = grids.channel_order(maps[..., :20])
    assert list(grids.page_of(narrow, 0)) == list(range(20))  # a narrow layer: in channel order
    big = grids.map_grid(np.random.default_rng(0).random((224, 224, 3)), cols=3)
    assert big.tile == (32, 32) and big.position(1, 31, 0) == (1, 217, 0)  # 7 x 7 blocks averaged


def test_the_logits_of_a_dense_softmax_and_of_a_model_without_softmax():
    rng = np.random.default_rng(1)
    x = rng.random((1, 6, 6, 1), dtype=np.float32)
    built_in = keras.Sequential([keras.Input((6, 6, 1)), K.Flatten(name="flat"),
                                 K.Dense(4, activation="softmax", name="predictions")])
    chain = reader.chain(built_in)
    s = scores.class_scores(chain, layer_outputs.layer_outputs(layer_outputs.extractor(built_in, chain), x))
    assert "before its built-in softmax" in s.source
    np.testing.assert_allclose(s.probs, np.exp(s.logits) / np.exp(s.logits).sum(), rtol=1e-5)
    raw = keras.Sequential([keras.Input((6, 6, 1)), K.Flatten(), K.Dense(4, name="scores")])
    chain = reader.chain(raw)
    big = [a * 100 for a in layer_outputs.layer_outputs(layer_outputs.extractor(raw, chain), x)]
    s = scores.class_scores(chain, big)
    assert s.applied_here and s.shift == s.logits.max()  # exp(100) would be unreadable
    assert s.exps.max() == 1.0 and s.probs.sum() == pytest.approx(1.0)
    maps = keras.Sequential([keras.Input((6, 6, 1)), K.Conv2D(2, 3, name="conv")])
    chain = reader.chain(maps)
    with pytest.raises(ValueError, match="ends in conv of shape 4 x 4 x 2, not one score per class"):
        scores.class_scores(chain, layer_outputs.layer_outputs(layer_outputs.extractor(maps, chain), x))


def test_formulas_write_the_numbers_that_make_the_value(small):
    _, chain, extractor, x = small
    outs = [o[0] for o in layer_outputs.layer_outputs(extractor, x)]
    conv = recompute.explain(chain[1], outs[0], (3, 4, 2))
    lines = formulas.formula(conv)
    assert lines[0].startswith(r"z = \sum_{c}") and formulas.num(conv.detail.total) in lines[1]
    assert lines[-1].endswith(formulas.num(conv.value))
    assert "3 x 3 x 3 filter" in formulas.sentence(conv)
    pool = recompute.explain(chain[2], outs[1], (1, 1, 0))
    assert formulas.formula(pool)[1].startswith(r"y = \max(")
    assert "winner is at row" in formulas.sentence(pool)
    dense = recompute.explain(chain[4], outs[3], (0,))
    line = formulas.formula(dense)[1]  # 2,250 inputs: the 3 largest products, then the rest
    assert line.count(r"\cdot") == 3 and "the other 2247" in line
    soft = recompute.explain(chain[6], outs[5], (4,))
    assert formulas.formula(soft)[0].startswith(r"\operatorname{softmax}")
    assert formulas.num(-0.000123456) == "(-0.0001235)" and formulas.num(1.5e-7) == r"1.5 \times 10^{-7}"


def test_top_patches_equal_a_brute_force_search(small):
    model, chain, extractor, _ = small
    images = np.random.default_rng(2).random((23, 32, 32, 3), dtype=np.float32)
    maxima = top_patches.channel_maxima(model, chain, 1, images, batch=10)  # 3 batches
    maps = layer_outputs.layer_outputs(extractor, images)[1]  # (23, 30, 30, 10)
    for channel in (0, 7):
        found = top_patches.top_patches(maxima, chain, 1, channel, k=5)
        best = maps[..., channel].reshape(23, -1).max(axis=1)
        assert [p.image for p in found] == list(np.argsort(-best, kind="stable")[:5])
        for p in found:
            assert p.value == pytest.approx(maps[p.image, p.row, p.col, channel])
            assert p.value == pytest.approx(best[p.image])
            assert (p.field.top, p.field.left, p.field.height) == (p.row, p.col, 3)  # valid 3 x 3 conv
            assert p.field.crop(images[p.image]).shape == (3, 3, 3)
    with pytest.raises(ValueError, match="channel must be from 0 to 9"):
        top_patches.top_patches(maxima, chain, 1, 10)
    with pytest.raises(ValueError, match="not a stack of feature maps"):
        top_patches.channel_maxima(model, chain, 4, images)


def test_inputs_are_prepared_as_each_model_expects():
    digit = np.zeros((28, 28, 1), np.uint8)
    digit[8:20, 12:15] = 255
    same = inputs.from_dataset(digit, (28, 28, 1))
    assert same.x.shape == (1, 28, 28, 1) and same.x.max() == 1.0 and same.picture.shape == (28, 28)
    rgb = inputs.from_dataset(digit, (32, 32, 3))  # a gray digit for a colour model: repeated, resized
    assert rgb.x.shape == (1, 32, 32, 3) and np.allclose(rgb.x[..., 0], rgb.x[..., 2])
    paper = np.full((90, 60, 3), 250, np.uint8)  # a dark digit on white paper
    paper[20:70, 25:35] = 10
    mnist = inputs.from_upload(paper, (28, 28, 1), "mnist")
    assert mnist.x.shape == (1, 28, 28, 1) and mnist.x[0, 0, 0, 0] == 0.0 and mnist.x.max() > 0.9
    assert "inverted" in mnist.steps[1][0] and len(mnist.steps) == 5
    with pytest.raises(ValueError, match="no dark-on-light"):
        inputs.from_upload(np.full((20, 20, 3), 255, np.uint8), (28, 28, 1), "mnist")
    plain = inputs.from_upload(paper, (32, 32, 3), "plain")
    assert plain.x.shape == (1, 32, 32, 3) and plain.picture.shape == (32, 32, 3)
    assert inputs.upload_style("mnist") == "mnist" and inputs.upload_style(None, vgg16=True) == "vgg16"
    assert inputs.upload_style("cifar10") == "plain"
