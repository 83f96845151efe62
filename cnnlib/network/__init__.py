"""Inside the network: every layer of a model, CNN Explainer-style, for any
Keras model that is one chain of layers from an image to its class scores.

CNN Explainer (Wang et al., "CNN Explainer: Learning Convolutional Neural
Networks with Interactive Visualization", IEEE TVCG 2020) shows one fixed
network layer by layer and lets a learner click a neuron to see how it is
computed. These modules do the same for the models of this project (the zoo,
the bundled and saved models, VGG16) and for uploaded ``.keras`` files:

- :mod:`.reader`: the model reader, the only code that walks a Keras
  model's layers: what the model takes and gives, its layers as one chain of
  :class:`~.layers.LayerInfo` (or a sentence saying why it cannot be
  explored, :class:`~.reader.NotExplorableError`), its convolutional blocks
  and Grad-CAM's target, and a ``keras.Model`` to the outputs of any of its
  layers.
- :mod:`.logits`: where a classifier's logits are, and whether its output is
  already their softmax: the one rule of Grad-CAM, Classify and this page.
- :mod:`.layers`: one layer described: its kind, its geometry (kernel,
  stride, padding, dilation), its settings in words.
- :mod:`.layer_outputs`: the output of every layer for one input, from one
  ``keras.Model`` built once per model and called directly.
- :mod:`.recompute`: one neuron recomputed in numpy from the previous layer's
  output (a :class:`~.neuron.Neuron` with every number that goes into it);
  :mod:`.activation_functions` holds the activation functions it uses and
  the one softmax of the library.
- :mod:`.formulas`: those numbers written out (LaTeX and sentences).
- :mod:`.scores`: the logits, the softmax and the predicted class of one input.
- :mod:`.receptive_field`: the input rectangle one position of a layer reads.
- :mod:`.top_patches`: the test images whose patches activate a channel most.
- :mod:`.overview`: everything the overview of one input shows, in one call.
- :mod:`.inputs`: a picture made into the input a model expects
  (:func:`~.inputs.prepare_image`: gray or RGB, resized).

Layout: images and feature maps are channels-last, ``(H, W, C)`` for one
image and ``(N, H, W, C)`` for a batch; a neuron is named by its index in its
layer's output without the batch axis, ``(row, col, channel)`` or ``(unit,)``.

Importing the package imports no TensorFlow; the functions that need Keras
import it when called.
"""
