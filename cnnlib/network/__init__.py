"""Inside the network: every layer of a model, CNN Explainer-style, for any
Keras model that is one chain of layers from an image to its class scores.

CNN Explainer (Wang et al., "CNN Explainer: Learning Convolutional Neural
Networks with Interactive Visualization", IEEE TVCG 2020) shows one fixed
network layer by layer and lets a learner click a neuron to see how it is
computed. These modules do the same for the models of this project (the zoo,
the bundled and saved models, VGG16) and for uploaded ``.keras`` files:

- :mod:`.layers`: the model as a chain of :class:`~.layers.LayerInfo` (name,
  type, output shape, parameters, kind), or a sentence saying why it cannot
  be explored (:class:`~.layers.NotExplorableError`); each layer's geometry
  (kernel, stride, padding, dilation).
- :mod:`.activations`: the output of every layer for one input, from one
  ``keras.Model`` built once per model and called directly.
- :mod:`.recompute`: one neuron recomputed in numpy from the previous layer's
  output, with every number that goes into it (:class:`~.recompute.Neuron`);
  :mod:`.numpy_activations` holds the activation functions it uses.
- :mod:`.formulas`: those numbers written out (LaTeX and sentences).
- :mod:`.receptive_field`: the input rectangle one position of a layer reads.
- :mod:`.top_patches`: the test images whose patches activate a channel most.
- :mod:`.overview`: everything the overview of one input shows, in one call.
- :mod:`.inputs`: a picture made into the input a model expects.

Layout: images and feature maps are channels-last, ``(H, W, C)`` for one
image and ``(N, H, W, C)`` for a batch; a neuron is named by its index in its
layer's output without the batch axis, ``(row, col, channel)`` or ``(unit,)``.

Importing the package imports no TensorFlow; the functions that need Keras
import it when called.
"""
