"""Training: ``config`` (the one settings dataclass), ``arguments`` (its
command-line flags, ``--lesson`` included), ``engine`` (one ``model.fit`` run,
observable and stoppable), ``callbacks``, ``lessons`` (each tutorial's workflow as
a config) and ``evaluation`` (confusion matrix, worst errors)."""
