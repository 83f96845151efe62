"""Data: datasets (``datasets``, one contract, offline first), augmentation
(``augment``), safe photo decoding (``images``; ``decode_cost``, the memory a
decode takes, from the header; ``downscale``), a canvas drawing made an MNIST
digit (``preprocess``), procedural pictures (``samples``) and filling the Keras
cache for offline use (``prefetch``, the one download path)."""
