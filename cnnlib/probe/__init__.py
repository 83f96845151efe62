"""Probing a trained classifier: how to fool it and where it breaks.

- :mod:`~cnnlib.probe.attacks`: adversarial examples under an L-infinity budget
  epsilon: ``fgsm`` (Goodfellow et al. 2015), ``pgd`` (Madry et al. 2018), and the
  smallest epsilon that flips a prediction (bisection).

Why a model answered (saliency maps, integrated gradients, occlusion, Grad-CAM) is
:mod:`cnnlib.explain`.
"""
