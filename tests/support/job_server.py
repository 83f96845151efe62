"""A stand-in for a server in the middle of a job, to be killed by a test.

``python tests/support/job_server.py INFO.json`` makes a
:class:`cnnlib.jobs.JobManager` (one warm worker, as a server has), starts a long
job on a tiny MNIST subset and, once the job has kept its first epoch
(``best.keras`` on disk), writes ``{"pid", "workers", "run_dir"}`` to
``INFO.json``; then it waits to be killed. The runs go to ``$CNN_STUDIO_RUNS_DIR``.
"""

import json
import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))  # the repository, for cnnlib

from cnnlib import jobs  # noqa: E402
from cnnlib.training.config import TrainConfig  # noqa: E402

#: 9 batches of 32 images an epoch, many epochs: it runs until it is killed.
CONFIG = TrainConfig(dataset="mnist", arch="mnist_cnn", epochs=500, batch_size=32, n_train=320,
                     n_test=64, validation_split=0.1, snapshot_every_s=0)


def main(info_path: str) -> None:
    manager = jobs.JobManager(warm_workers=1)
    job = manager.start(CONFIG, owner="killed-server")
    while not (job.poll().of_type("epoch") and job.run_dir.model_path.exists()):
        if job.done:
            raise SystemExit(f"the job ended: {job.state} {job.error}")
        time.sleep(0.1)
    workers = [job.pid] + [w.pid for w in manager.idle_workers()]
    while not all(jobs.is_worker(pid) for pid in workers):  # a new warm worker names itself
        time.sleep(0.1)
    tmp = Path(info_path).with_suffix(".tmp")
    tmp.write_text(json.dumps({"pid": os.getpid(), "workers": workers,
                               "run_dir": str(job.run_dir.path)}))
    tmp.replace(info_path)
    while True:
        time.sleep(1)


if __name__ == "__main__":
    main(sys.argv[1])
