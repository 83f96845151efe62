"""Why a model answered. Every map is float32 ``(N, H, W)`` (Grad-CAM: ``(H, W)`` of one
image) over a batch in the model's input range, for given classes:

- :mod:`~cnnlib.explain.gradcam`: Grad-CAM (Selvaraju et al. 2017), on the model
  reader's last convolutional block and the logits;
- :mod:`~cnnlib.explain.attributions`: ``vanilla_gradient`` (Simonyan et al. 2014),
  ``smoothgrad`` (Smilkov et al. 2017), ``integrated_gradients`` (Sundararajan et al.
  2017) and its ``completeness`` check;
- :mod:`~cnnlib.explain.occlusion`: ``occlusion`` sensitivity (Zeiler & Fergus 2014);
- :mod:`~cnnlib.explain.scores`: the class score they differentiate (the logits, found
  as :func:`cnnlib.network.logits.find_logits` says);
- :mod:`~cnnlib.explain.feature_maps`: a trained model's first-layer kernels and feature
  maps.

How to fool a model and where it breaks is :mod:`cnnlib.probe`. Their pictures are
drawn by :mod:`cnnlib.viz`."""
