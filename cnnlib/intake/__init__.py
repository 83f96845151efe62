"""The intake of model files nobody vouches for: an upload, a file a colleague sent,
a file put by hand in ``$CNN_STUDIO_HOME/models``.

A small ``.keras`` file can describe a huge or pathological model, so a file is
looked at before anything is built (``archive``: the zip's members and their
declared sizes; ``config_check``: the configuration's layers, nesting, input size
and weight count against :mod:`.limits`, with ``layer_shapes``: one layer's weights
and output shape from its configuration, by Keras's formulas), then loaded in a short-lived child
process with memory, CPU and wall-clock limits (``sandbox``), and only a file that
loaded there within budget is loaded by the server. Every refusal is a
:class:`~.errors.ModelLoadError` whose message is one sentence naming the file
and what to do, with the technical detail apart (``detail``).

The entry point is :mod:`.load` (``check_untrusted``: the cheap checks, for
listings; ``load_untrusted``: all of it, for loading); :mod:`.cache` keeps
uploaded models under a byte budget (``CNN_STUDIO_UPLOAD_CACHE_MB``).
"""
