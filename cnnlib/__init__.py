"""cnnlib: the headless library under CNN Studio.

Modules: ``datasets`` (loading, offline first), ``zoo`` (architectures),
``training`` (the training engine), ``store`` (saved models and their cards),
``paths``. Importing ``cnnlib`` imports neither TensorFlow nor Streamlit;
the modules that need TensorFlow import it when first used.
"""

__version__ = "0.1.0"
