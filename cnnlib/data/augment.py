"""Data augmentation for training: Keras preprocessing layers, and stroke width.

Augmentation runs in the ``tf.data`` input pipeline, not inside the model, so
saved models hold no augmentation layers and the feature-map and Grad-CAM
views see exactly the trained network.
"""

from __future__ import annotations


def augmentation_layers(config, seed: int = 0):
    """The Keras preprocessing layers that ``config`` asks for, or None.

    Flips (horizontal, vertical or both), then rotation, zoom and shift, whose
    uncovered pixels are filled as ``config.augment_fill_mode`` says (``nearest``
    repeats the edge pixel, as Keras's ``ImageDataGenerator`` does by default;
    ``constant`` fills with 0).

    Returns a ``keras.Sequential`` mapping float32 ``(N, H, W, C)`` to the same
    shape, active only when called with ``training=True``.
    """
    import keras
    from keras import layers

    steps = []
    flips = [d for d, on in (("horizontal", config.augment_flip),
                             ("vertical", config.augment_vertical_flip)) if on]
    if flips:
        steps.append(layers.RandomFlip("_and_".join(flips), seed=seed, name="aug_flip"))
    fill = config.augment_fill_mode  # what uncovered pixels become
    if config.augment_rotation > 0:
        steps.append(layers.RandomRotation(config.augment_rotation / 360.0, fill_mode=fill,
                                           seed=seed, name="aug_rotation"))
    if config.augment_zoom > 0:
        steps.append(layers.RandomZoom(config.augment_zoom, fill_mode=fill,
                                       seed=seed, name="aug_zoom"))
    if config.augment_shift > 0:
        steps.append(layers.RandomTranslation(config.augment_shift, config.augment_shift,
                                              fill_mode=fill, seed=seed, name="aug_shift"))
    return keras.Sequential(steps, name="augmentation") if steps else None


def random_stroke_width(images, seed: int = 0):
    """Change the stroke width of each image at random, a quarter of each:
    keep, thicken by one pixel (2x2 grey dilation), thicken by two (3x3
    dilation), or thin by one (2x2 grey erosion).

    Grey dilation and erosion are max and min filters. ``images``: float32
    tensor ``(N, H, W, C)``; returns the same shape, values stay in the
    input's range.
    """
    import tensorflow as tf

    def dilate(x, k):
        return tf.nn.max_pool2d(x, k, 1, "SAME")

    options = tf.stack([images, dilate(images, 2), dilate(images, 3), -dilate(-images, 2)])
    choice = tf.random.uniform((tf.shape(images)[0],), 0, 4, dtype=tf.int32, seed=seed)
    return tf.gather(tf.transpose(options, [1, 0, 2, 3, 4]), choice, batch_dims=1)


def train_input(x, y, batch_size: int, config):
    """What ``model.fit`` trains on: a ``tf.data.Dataset`` of ``(images, labels)``
    batches, reshuffled every epoch (seeded by ``config.seed``) and augmented as
    ``config`` asks (nothing changes the images when it asks for no augmentation).

    Args:
        x: float32 ``(N, H, W, C)`` in [0, 1].
        y: int64 ``(N,)`` labels.
        batch_size: images per batch (the last batch may be smaller).
        config: a :class:`cnnlib.training.config.TrainConfig`.

    Returns:
        A prefetching ``tf.data.Dataset`` of ``ceil(N / batch_size)`` batches:
        float32 ``(B, H, W, C)`` in [0, 1] (augmentation keeps the range) and
        int64 ``(B,)``.
    """
    import tensorflow as tf

    aug = augmentation_layers(config, seed=config.seed)
    ds = tf.data.Dataset.from_tensor_slices((x, y))
    ds = ds.shuffle(len(x), seed=config.seed, reshuffle_each_iteration=True).batch(batch_size)
    if aug is not None or config.augment_stroke:
        def augment(a, b):
            if config.augment_stroke:
                a = random_stroke_width(a, config.seed)
            if aug is not None:
                a = aug(a, training=True)
            return a, b

        ds = ds.map(augment, num_parallel_calls=tf.data.AUTOTUNE)
    return ds.prefetch(tf.data.AUTOTUNE)
