"""Speed of the Inside the network page (server-side compute, no browser).

Figures (medians after warm-up, with min and max, in milliseconds):

- ``overview, mnist``: one MNIST test image through the bundled ``mnist``
  model (``studio_cnn``, 26 layers): every layer's output
  (:func:`cnnlib.network.overview.overview`), the first page of every layer's
  grid of maps drawn and PNG-encoded, the softmax. What the page computes for
  a new input before the browser draws it. Reference: the forward pass alone
  (``model(x, training=False)``). Target: under 100 ms.
- ``overview, VGG16``: a 480 x 480 photo (the "house" sample picture) made
  into VGG16's input (centre crop, 224 x 224, in [0, 1]: the app's VGG16,
  ``vgg16.build_unit_input``, subtracts the means itself) and the
  same overview: 23 layers, 18 of them grids of up to 512 channels. Weights:
  the ImageNet file if this machine has it, else the test fixture's file
  (``tests/vgg16_files.py``: random weights written in the official file's
  layout, loaded the same way; same compute). Reference: the forward pass
  alone. Target: under 2 s.
- ``top patches, first time``: every channel's strongest response to 1,000
  images for the bundled ``cifar10`` model's deepest block (``block3_relu2``,
  8 x 8 x 128), then the top 9 of one channel with their receptive fields.
  The shared data holds 646 CIFAR-10 test images; the first 354 training
  images complete the 1,000. Target: under 3 s.
- ``top patches, cached``: another channel of the same layer once the
  maxima are cached (what the page does on a cache hit). Target: under 50 ms.
- ``one neuron, VGG16 fc1``: the largest explanation: a unit of ``fc1``
  (25,088 inputs) recomputed in numpy and written out. Target: under 100 ms.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

import numpy as np

from . import REPO_ROOT, SHARED_DATA
from .common import time_ms, timed_row

MNIST_TARGET_MS = 100.0
VGG16_TARGET_MS = 2000.0
PATCHES_TARGET_MS = 3000.0
CACHED_TARGET_MS = 50.0
NEURON_TARGET_MS = 100.0
SAMPLE = 1000


def _overview_and_pictures(chain, extractor, x):
    """What the page computes for a new input: the overview, then every grid's first
    page drawn and PNG-encoded."""
    from cnnlib.network import overview
    from cnnlib.viz.raster import png_uri

    whole = overview.overview(chain, extractor, x)
    return whole, [png_uri(overview.grid(whole, i).picture) for i, v in enumerate(whole.views) if v.how == "maps"]


def _vgg16(folder: Path):
    """VGG16 with the ImageNet weights if present, else the test fixture's weights file."""
    from cnnlib.models import vgg16

    try:
        return vgg16.build_unit_input(vgg16.find_weights()), "ImageNet weights"
    except vgg16.WeightsUnavailableError:
        import sys

        sys.path.insert(0, str(REPO_ROOT / "tests"))
        from vgg16_files import random_weights_file

        return vgg16.build_unit_input(random_weights_file(folder)), "the test fixture's weights file (random weights)"


def _cifar_sample():
    from cnnlib.data import datasets

    ds = datasets.load("cifar10", data_dir=SHARED_DATA if SHARED_DATA.exists() else None)
    x = np.concatenate([ds.x_test, ds.x_train])[:SAMPLE]
    n_test = min(len(ds.x_test), SAMPLE)
    return datasets.to_float(x), f"{n_test} test + {SAMPLE - n_test} training"


def run(quick: bool = False) -> list[dict]:
    """Time the overview (MNIST, VGG16), the top patches and one explanation; the rows."""
    from cnnlib import store
    from cnnlib.data import datasets, samples
    from cnnlib.network import formulas, inputs, layer_outputs, reader, recompute, top_patches

    reps = 5 if quick else 20
    rows = []
    models = REPO_ROOT / "models"
    model = store.load_model("mnist", models_dir=models)
    chain = reader.chain(model)
    extractor = layer_outputs.extractor(model, chain)
    digit = datasets.load("mnist", data_dir=SHARED_DATA if SHARED_DATA.exists() else None,
                          n_train=1, n_test=10).x_test
    x = inputs.from_dataset(digit[0], chain[0].output_shape).x
    t = time_ms(lambda: _overview_and_pictures(chain, extractor, x), repeats=reps)
    fwd = time_ms(lambda: model(x, training=False), repeats=reps)
    _, uris = _overview_and_pictures(chain, extractor, x)
    rows.append(dict(timed_row(
        "inside: overview of the bundled mnist model, one input (26 layers, 21 grids as PNG, softmax)", t,
        target=f"< {MNIST_TARGET_MS:.0f} ms", ok=t["median_ms"] < MNIST_TARGET_MS,
        reference="the forward pass alone", ref_ms=fwd["median_ms"]),
        detail=f"{len(uris)} grids, {sum(len(u) for u in uris) / 1024:.0f} KiB of PNG data URIs"))

    cifar = store.load_model("cifar10", models_dir=models)
    cifar_chain = reader.chain(cifar)
    deep = next(i.index for i in cifar_chain if i.name == "block3_relu2")
    images, made_of = _cifar_sample()
    maxima_box = {}

    def first_time():
        maxima_box["m"] = top_patches.channel_maxima(cifar, cifar_chain, deep, images)
        return top_patches.top_patches(maxima_box["m"], cifar_chain, deep, 5)

    first = time_ms(first_time, repeats=2 if quick else 5, warmup=1)
    rows.append(dict(timed_row(
        "inside: top 9 patches of one channel, bundled cifar10 model, 1,000 images, first time", first,
        target=f"< {PATCHES_TARGET_MS / 1000:.0f} s", ok=first["median_ms"] < PATCHES_TARGET_MS),
        detail=f"layer block3_relu2 (8 x 8 x 128, the deepest); images: {made_of} CIFAR-10 images "
               "of the shared data; every channel's maxima in one pass (batches of 250)"))
    cached = time_ms(lambda: top_patches.top_patches(maxima_box["m"], cifar_chain, deep, 77), repeats=reps)
    rows.append(timed_row("inside: top 9 patches, another channel once cached", cached,
                          target=f"< {CACHED_TARGET_MS:.0f} ms", ok=cached["median_ms"] < CACHED_TARGET_MS))

    with tempfile.TemporaryDirectory(prefix="bench-vgg16-") as folder:
        net, weights = _vgg16(Path(folder))
    vinfos = reader.chain(net)
    vextractor = layer_outputs.extractor(net, vinfos)
    photo = (samples.sample("house", 480) * 255).round().astype(np.uint8)

    def vgg_overview():
        return _overview_and_pictures(vinfos, vextractor, inputs.from_upload(photo, (224, 224, 3), "vgg16").x)

    vreps = 3 if quick else 10
    vt = time_ms(vgg_overview, repeats=vreps, warmup=2)
    vx = inputs.from_upload(photo, (224, 224, 3), "vgg16").x
    vfwd = time_ms(lambda: net(vx, training=False), repeats=vreps, warmup=1)
    whole, vuris = vgg_overview()
    rows.append(dict(timed_row(
        "inside: VGG16 overview, one 480x480 photo (23 layers, 20 grids as PNG, softmax)", vt,
        target=f"< {VGG16_TARGET_MS / 1000:.0f} s", ok=vt["median_ms"] < VGG16_TARGET_MS,
        reference="the forward pass alone", ref_ms=vfwd["median_ms"]),
        detail=f"weights: {weights}; {len(vuris)} grids (first page of 32 channels), "
               f"{sum(len(u) for u in vuris) / 1024:.0f} KiB of PNG"))
    fc1 = next(i for i in vinfos if i.name == "fc1")

    def explain_fc1():
        neuron = recompute.explain(fc1, whole.outputs[fc1.index - 1], (123,))
        return formulas.formula(neuron), formulas.sentence(neuron)

    nt = time_ms(explain_fc1, repeats=reps)
    rows.append(timed_row("inside: one neuron explained, VGG16 fc1 (25,088 inputs)", nt,
                          target=f"< {NEURON_TARGET_MS:.0f} ms", ok=nt["median_ms"] < NEURON_TARGET_MS))
    return rows
