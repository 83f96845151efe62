"""Why a model answered: ``gradcam`` (Grad-CAM, on the model reader's last
convolutional block and logits), ``feature_maps`` (a trained model's first-layer
kernels and feature maps). Their pictures are drawn by :mod:`cnnlib.viz`."""
