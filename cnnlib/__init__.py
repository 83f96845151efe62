"""cnnlib: the headless library under CNN Studio.

Importing ``cnnlib`` imports neither TensorFlow nor Streamlit; the modules
that need TensorFlow import it when first used.

Data and models: ``datasets`` (loading, offline first), ``zoo``
(architectures), ``config`` (the training settings), ``augment``
(training-time augmentation), ``training`` (the training engine) with its
``callbacks``, ``rundir`` (the run protocol: events and run directories),
``jobs`` (training in a separate process), ``evaluation`` (confusion matrix,
worst errors), ``store`` (saved models and their cards), ``prefetch``
(filling the Keras cache), ``keras_home`` (where that cache is), ``paths``.

Convolution maths (numpy only): ``convolution`` (conv2d, pool2d,
output_size), ``kernels`` (preset kernels), ``conv_explain`` (one position
written out), ``samples`` (procedural pictures), ``feature_maps`` (what a
trained model sees).

Classification: ``preprocess`` (canvas to MNIST), ``images`` (safe photo
decoding, the one grayscale conversion), ``inference`` (fast single-image prediction), ``vgg16`` (VGG16 and
ImageNet top-k, two ways to fit a photo, offline files), ``gradcam`` (Grad-CAM).

Figures (plotly only): ``train_plots``, ``figures_conv``.
"""

__version__ = "0.1.0"
