"""Training: ``config`` (the one settings dataclass), ``engine`` (one
``model.fit`` run, observable and stoppable), ``callbacks``, ``lessons`` (each
tutorial's workflow as a config) and ``evaluation`` (confusion matrix, worst
errors)."""
