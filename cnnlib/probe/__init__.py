"""Probing a trained classifier: how to fool it and where it breaks.

- :mod:`~cnnlib.probe.attacks`: adversarial examples under an L-infinity budget
  epsilon: ``fgsm`` (Goodfellow et al. 2015), ``pgd`` (Madry et al. 2018), and the
  smallest epsilon that flips a prediction (bisection);
- :mod:`~cnnlib.probe.corruptions`: rotation, shift, scale, noise, blur, contrast and an
  occluding square, each growing with one level and the identity at level 0;
- :mod:`~cnnlib.probe.robustness`: accuracy curves, overall and per class, as a change
  or FGSM's epsilon grows.

Why a model answered (saliency maps, integrated gradients, occlusion, Grad-CAM) is
:mod:`cnnlib.explain`.
"""
