"""The part of a Ray job that runs on a cluster's node: one training run, streamed.

:func:`train_stream` is the body of a Ray generator task
(``num_returns="streaming"``, :mod:`cnnlib.jobs.ray_runner`). It trains with the
same engine as a local worker (:func:`cnnlib.training.engine.train`) into a
temporary run directory on the node, and yields messages back to the server
while it trains:

* ``{"kind": "placed", "host", "address", "node_id", "pid"}`` first: the machine
  and the worker process on it;
* ``{"kind": "events", "events": [...]}``: the :mod:`cnnlib.rundir` events, in
  groups of at most :data:`BATCH_EVERY_S` seconds (a batch event every few
  milliseconds would be one Ray object each);
* ``{"kind": "files", "files": {name: bytes}}`` last: the run directory's files
  (the kept model, the test predictions, the result), so that no shared file
  system is needed; the server writes ``config.json`` and ``history.jsonl`` itself
  from the configuration and the events.

A stop is asked through a :class:`StopBoard` actor, which a thread of the task
reads every :data:`STOP_POLL_S` seconds; the run then stops after the batch in
flight, keeping its best epoch, as a local job does.
"""

from __future__ import annotations

import os
import queue
import socket
import tempfile
import threading
import traceback
from pathlib import Path

from cnnlib.keras_home import ENV_KERAS_HOME

#: Longest wait, seconds, before the events gathered so far are sent back.
BATCH_EVERY_S = 0.25
#: Seconds between two looks at the stop board.
STOP_POLL_S = 0.5
#: Files of a run directory the server writes itself (from the config and the events).
SERVER_WRITES = ("config.json", "history.jsonl", "job.json")


class StopBoard:
    """The job ids whose stop was asked: one small Ray actor per server (no CPU).
    Made an actor by :mod:`cnnlib.jobs.ray_runner` (``ray.remote(num_cpus=0)``)."""

    def __init__(self):
        self._ids: set[str] = set()

    def request(self, job_id: str) -> None:
        self._ids.add(job_id)

    def requested(self, job_id: str) -> bool:
        return job_id in self._ids


def _set_threads(cpus: float) -> None:
    """TensorFlow's thread pools sized to the CPUs the task asked for (at least 1);
    where TensorFlow already started in this worker process, its pools stay."""
    n = max(1, int(cpus))
    os.environ["TF_NUM_INTRAOP_THREADS"] = os.environ["TF_NUM_INTEROP_THREADS"] = str(n)
    os.environ["OMP_NUM_THREADS"] = str(n)
    import tensorflow as tf

    try:
        tf.config.threading.set_intra_op_parallelism_threads(n)
        tf.config.threading.set_inter_op_parallelism_threads(n)
    except RuntimeError:  # the runtime is already initialised (a reused worker): same size
        pass


#: Variables that name folders: a node that has its own (set where ``ray start`` ran on
#: it) keeps them; the server's paths mean nothing on a lab PC.
NODE_PATHS = ("CNN_STUDIO_DATA_DIR", ENV_KERAS_HOME, "CNN_STUDIO_HOME", "CNN_STUDIO_RUNS_DIR",
              "CNN_STUDIO_MODELS_DIR")
#: This worker process's environment as Ray started it, before any run changed it.
_NODE_ENVIRONMENT = dict(os.environ)


def job_environment_on_node(env: dict[str, str]) -> dict[str, str]:
    """The variables a run uses on this node: the server's job variables ``env``
    (:func:`cnnlib.jobs.worker.job_environment`), except the folders of
    :data:`NODE_PATHS` that this node sets itself."""
    own = {k: _NODE_ENVIRONMENT[k] for k in NODE_PATHS if k in _NODE_ENVIRONMENT}
    return {**env, **own}


def _apply_environment(env: dict[str, str]) -> None:
    """This run's variables (:func:`job_environment_on_node`), replacing a previous
    run's in a reused worker process."""
    from cnnlib.jobs.worker import JOB_ENV_PREFIXES

    for key in [k for k in os.environ if k.startswith(JOB_ENV_PREFIXES)]:
        del os.environ[key]
    os.environ.update(job_environment_on_node(env))


def run_files(run_root: Path) -> dict[str, bytes]:
    """The files of the one run directory under ``run_root`` that the server does not
    write itself (:data:`SERVER_WRITES`), by name; {} when there is none."""
    runs = [p for p in run_root.iterdir() if p.is_dir()] if run_root.is_dir() else []
    if not runs:
        return {}
    return {p.name: p.read_bytes() for p in sorted(runs[0].iterdir())
            if p.is_file() and p.name not in SERVER_WRITES}


def train_stream(config_dict: dict, env: dict[str, str], job_id: str, board, cpus: float):
    """Train ``config_dict`` on this node, yielding the messages of the module
    docstring. Never raises for a failed run: the failure is an ``error`` event, as
    a local worker reports it."""
    import ray

    from cnnlib.jobs.worker import WORKER_NICENESS
    from cnnlib.rundir import ErrorEvent
    from cnnlib.training.config import TrainConfig

    yield {"kind": "placed", "host": socket.gethostname(),
           "address": ray.util.get_node_ip_address(),
           "node_id": ray.get_runtime_context().get_node_id(), "pid": os.getpid()}
    os.setpriority(os.PRIO_PROCESS, 0, WORKER_NICENESS)  # batch work: a server's clicks first
    _apply_environment(env)
    events: queue.Queue = queue.Queue()
    stop, done = threading.Event(), threading.Event()
    with tempfile.TemporaryDirectory(prefix="cnn-studio-ray-") as tmp:
        def body() -> None:
            try:
                _set_threads(cpus)
                from cnnlib.training import engine

                config = TrainConfig.from_dict({**config_dict, "run_root": tmp})
                engine.train(config, on_event=events.put, should_stop=stop.is_set)
            except BaseException as e:  # reported as a local worker reports it
                events.put(ErrorEvent(type="error", message=f"{type(e).__name__}: {e}",
                                      traceback=traceback.format_exc()))
            finally:
                done.set()

        def watch_stop() -> None:
            while not done.wait(STOP_POLL_S):
                try:
                    if ray.get(board.requested.remote(job_id)):
                        stop.set()
                        return
                except Exception:  # the board is gone: the server went; Ray ends this task
                    return

        threading.Thread(target=body, name="cnn-studio-train", daemon=True).start()
        threading.Thread(target=watch_stop, name="cnn-studio-stop", daemon=True).start()
        while not (done.is_set() and events.empty()):
            group = []
            try:
                group.append(events.get(timeout=BATCH_EVERY_S))
                while True:
                    group.append(events.get_nowait())
            except queue.Empty:
                pass
            if group:
                yield {"kind": "events", "events": group}
        yield {"kind": "files", "files": run_files(Path(tmp))}
