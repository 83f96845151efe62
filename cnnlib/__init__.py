"""cnnlib: the headless library under CNN Studio.

Importing ``cnnlib`` imports neither TensorFlow nor Streamlit; the modules
that need TensorFlow import it when first used.

Data and models: ``datasets`` (loading, offline first), ``zoo``
(architectures), ``config`` (the training settings), ``augment``
(training-time augmentation), ``training`` (the training engine) with its
``callbacks``, ``rundir`` (the run protocol: events and run directories),
``jobs`` (training in worker processes: queue, owners, limits, recovery),
``evaluation`` (confusion matrix, worst errors), ``store`` (saved models and
their cards), ``tutorials`` (the lessons), ``prefetch`` (filling the Keras
cache), ``keras_home`` (where that cache is), ``paths``.

Convolution maths (numpy only): ``convolution`` (conv2d, pool2d,
output_size), ``kernels`` (preset kernels), ``conv_explain`` (one position
written out), ``samples`` (procedural pictures), ``feature_maps`` (what a
trained model sees).

Classification: ``preprocess`` (canvas to MNIST), ``images`` (safe photo
decoding with bounded memory, the one grayscale conversion), ``downscale``
(band-wise RGB conversion and downscaling), ``inference`` (fast single-image
prediction), ``vgg16`` (VGG16 and ImageNet top-k, two ways to fit a photo,
offline files), ``gradcam`` (Grad-CAM).

Figures: ``train_plots``, ``figures_conv`` (plotly), ``picture``, ``mosaic``,
``matrix_html`` (pictures and HTML for the Convolution page and the live view).
"""

__version__ = "0.1.0"
