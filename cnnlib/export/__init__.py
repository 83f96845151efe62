"""Every model taken home: a trained model as files that run without CNN Studio.

- :mod:`cnnlib.export.tflite`: the Keras model as TensorFlow Lite bytes
  (:func:`~cnnlib.export.tflite.to_tflite`) and the check that the TFLite
  interpreter gives Keras's outputs (:func:`~cnnlib.export.tflite.max_difference`).
- :mod:`cnnlib.export.onnx_model`: the same as ONNX (Keras's own ``model.export``,
  through ``tf2onnx``), checked with ``onnxruntime``.
- :mod:`cnnlib.export.code`: a finished run as a self-contained Python script and
  a Jupyter notebook that rebuild the architecture layer by layer, load the same
  data and train with the run's settings (:mod:`cnnlib.export.layer_code` writes the
  layers, :mod:`cnnlib.export.data_code` the loading and splitting of a built-in or
  an own dataset).
- :mod:`cnnlib.export.formats`: both formats converted and checked in the calling
  process (:func:`~cnnlib.export.formats.convert`), each failure kept as a sentence.
- :mod:`cnnlib.export.child`: the same in a short-lived child process with memory, CPU
  and wall-clock limits (:class:`cnnlib.intake.limits.ExportLimits`), a bounded number
  at once: the server's way, so that a large model cannot sink it.
- :mod:`cnnlib.export.run_files`: a finished run's (or a stored model's) TFLite and
  ONNX files (each checked), script and notebook in one call, for the Train page's
  downloads (in the child) and the command line's ``export``
  (:mod:`cnnlib.export.command`, in its own process).

Importing this package imports no TensorFlow; each function imports what it needs.
"""
