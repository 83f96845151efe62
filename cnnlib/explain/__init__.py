"""Why a model answered: ``gradcam`` (Grad-CAM), ``feature_maps`` (what the
first convolutional layer sees)."""
