"""cnnlib: the headless library under CNN Studio.

Importing ``cnnlib`` imports neither TensorFlow nor Streamlit; the modules
that need TensorFlow import it when first used. The map, one line a
subpackage, in the order data flows:

- ``data``: datasets (one contract, offline first), augmentation, safe photo
  decoding with bounded memory, the canvas-to-MNIST preprocessing, procedural
  sample pictures, filling the Keras cache for offline use.
- ``owndata``: people's own image datasets (uploads, camera frames, a zip in
  Keras's folder layout), kept per owner under limits, exported, and handed to
  training as a ``data.datasets.Dataset``.
- ``conv``: the arithmetic of one convolutional layer in numpy (convolution,
  pooling, output size), preset kernels, one position written out.
- ``models``: the architectures (the zoo), VGG16 and its ImageNet files,
  fast inference on a handful of images.
- ``network``: the model reader (the only code that walks a Keras model's
  layers) and Inside the network: layer outputs, one neuron recomputed,
  receptive fields, top patches.
- ``explain``: why a model answered: the class score explained (its logit), Grad-CAM,
  saliency (vanilla gradient, SmoothGrad, integrated gradients), occlusion,
  first-layer feature maps.
- ``probe``: how to fool a model (FGSM, PGD, the smallest epsilon that flips its
  answer) and where it breaks (seven changes of the picture, robustness curves);
  an uploaded model that reads 0..255 rebuilt to read [0, 1].
- ``training``: the training config, the engine, its callbacks, the lessons
  and what a finished run's numbers mean.
- ``viz``: the one visual language: colour rule, pictures, grids of maps and
  kernels, numbers, Plotly figures.
- ``rundir``: the run protocol (events and run directories); ``jobs``:
  training jobs (queue, owners, limits, recovery), run by worker processes of
  this machine or as tasks on a Ray cluster; ``store``: saved models and their
  cards.
- ``export``: a model taken home (TFLite, ONNX, each checked against Keras; on the
  server converted in a limited child process) and a run as a self-contained Python
  script and Jupyter notebook.
- ``intake``: model files nobody vouches for, looked at before anything is built
  and loaded first in a limited child process; ``limited``: that child process
  (``python -m``, address-space, CPU and wall-clock limits, one result line), for
  the intake and the conversions.
- ``paths``, ``keras_home``: where files live; ``owners``: who may stop a job or
  replace a saved model (a token's tag, never the token, is written down).
"""

__version__ = "0.1.0"
