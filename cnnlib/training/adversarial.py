"""FGSM adversarial training (Goodfellow, Shlens & Szegedy, "Explaining and Harnessing
Adversarial Examples", ICLR 2015, section 5): every training batch is doubled with its
FGSM examples, made from the model as it is at that step, so the loss is

    0.5 * loss(x, y) + 0.5 * loss(clip(x + epsilon * sign(d loss(x, y) / d x), 0, 1), y)

(the paper's alpha = 0.5). The model stays a plain Keras model: :func:`use_fgsm_training`
wraps its ``train_step`` on this one instance (nothing of it is saved with the model).
Training loss and accuracy are then measured over the clean and adversarial images
together; validation and test images are clean.
"""

from __future__ import annotations


def use_fgsm_training(model, epsilon: float) -> None:
    """Make ``model.fit`` train on each batch and its FGSM examples.

    Args:
        model: a compiled ``keras.Model`` with sparse integer labels, taking images in
            [0, 1] and ending in a softmax (every zoo and transfer model).
        epsilon: the L-infinity budget, in [0, 1] units (8 / 255 is 8 grey levels), > 0.

    Raises:
        ValueError: epsilon not in (0, 1].
    """
    if not 0 < epsilon <= 1:
        raise ValueError(f"Expected 0 < epsilon <= 1. Received: epsilon={epsilon}")
    import keras
    import tensorflow as tf

    plain_step = model.train_step  # Keras's own, bound to this model

    def train_step(data):
        x, y = data[0], data[1]
        with tf.GradientTape() as tape:
            tape.watch(x)
            loss = keras.losses.sparse_categorical_crossentropy(y, model(x, training=False))
        adversarial = tf.stop_gradient(
            tf.clip_by_value(x + epsilon * tf.sign(tape.gradient(loss, x)), 0.0, 1.0))
        return plain_step((tf.concat([x, adversarial], 0), tf.concat([y, y], 0)))

    model.train_step = train_step
