"""The same layer looks the same on every page: the first convolutional block of the
bundled MNIST model (models/mnist.keras), on one picture, drawn through the Train live
view's path (a snapshot event, as the worker sends it), the Convolution page's trained
network section and Inside the network gives the same tiles in the same colours."""

import json

import numpy as np
import pytest
from testutil import REPO

keras = pytest.importorskip("keras")

from cnnlib.data import samples  # noqa: E402
from cnnlib.explain import feature_maps  # noqa: E402
from cnnlib.network import inputs, layer_outputs, overview, reader  # noqa: E402
from cnnlib.training.callbacks.live_snapshots import LiveSnapshots  # noqa: E402
from cnnlib.viz import colour  # noqa: E402


@pytest.fixture(scope="module")
def mnist():
    model = keras.saving.load_model(REPO / "models" / "mnist.keras", compile=False)
    return model, samples.sample("circles", 28)  # float32 (28, 28) in [0, 1]


def test_the_first_layer_has_the_same_pixels_on_train_convolution_and_inside(mnist):
    from pages.conv_sections import trained_maps_grid
    from pages.inside_layers import layer_grid
    from pages.train_live import snapshot_grids

    model, picture = mnist
    # Train: the worker's snapshot event, through JSON as the page reads it
    prepared = inputs.from_picture(picture, model.input_shape[1:])
    events = []
    live = LiveSnapshots(events.append, prepared.x[0], every_s=1.0, t0=0.0)
    live.set_model(model)
    live.on_train_begin()
    event = json.loads(json.dumps(live.snapshot(0)))
    _, train = snapshot_grids(event)
    # Convolution: the trained network section's grid of the first block
    name, fmap = feature_maps.feature_maps(model, picture)[0]
    conv = trained_maps_grid(fmap)
    # Inside: the overview's grid of the same layer (the block's last layer in the chain)
    chain = reader.chain(model)
    view = overview.overview(chain, layer_outputs.extractor(model, chain), prepared.x)
    index = [i.name for i in chain].index(reader.conv_blocks(model)[0][1].name)
    inside = layer_grid(("test", "mnist"), "circles", index, 0, view)

    assert event["layer"] == name == chain[1].name  # block1_conv1, drawn after its BN and ReLU
    np.testing.assert_allclose(view.outputs[index], fmap, rtol=1e-5, atol=1e-5)  # one layer, one input
    assert inside.channels == tuple(range(32)) and conv.channels == train.channels == tuple(range(16))
    assert conv.tile == train.tile == inside.tile and conv.map_hw == inside.map_hw == (28, 28)
    assert not inside.scale.signed  # after a ReLU: gray, from 0 to the layer's largest value
    assert conv.scale.zmax == pytest.approx(inside.scale.zmax, rel=1e-5)
    assert train.scale.zmax == pytest.approx(inside.scale.zmax, rel=1e-5)  # the whole layer's, not 16 maps'
    assert colour.caption(conv.scale) == colour.caption(inside.scale) == colour.caption(train.scale)
    drawn = 0
    for tile in range(16):
        want = inside.tile_pixels(tile).astype(int)
        np.testing.assert_array_equal(conv.tile_pixels(tile), want)  # the very same pixels
        # the event carries values rounded to 3 decimals: at most one gray level apart
        assert np.abs(train.tile_pixels(tile).astype(int) - want).max() <= 1
        drawn += (want > 0).sum()
    assert drawn > 0  # not a black picture
