"""Training jobs as Ray tasks on a cluster: the runner used when
``$CNN_STUDIO_RAY_ADDRESS`` is set (:func:`cnnlib.jobs.runners.make_runner`).

Each job is a Ray generator task (:func:`cnnlib.jobs.ray_task.train_stream`,
``num_returns="streaming"``, no retries) asking for ``$CNN_STUDIO_RAY_JOB_CPUS``
CPUs (default 1), ``$CNN_STUDIO_RAY_JOB_GPUS`` GPUs (default: 1 when the cluster
has a GPU, else 0) and the custom resources of ``$CNN_STUDIO_RAY_JOB_RESOURCES``
(``name=amount,...``, e.g. ``lab_pc=1``). Its events stream back while it trains;
:class:`RayExecution` writes them into a run directory on the server, exactly as a
local job's are, and the run's files (the kept model, the predictions, the result)
at the end; the job's ``end`` event is handed on only once they are written.

Stop asks the task, through a :class:`~cnnlib.jobs.ray_task.StopBoard` actor, to
end after the batch in flight, and cancels it by force after
:data:`STOP_GRACE_S` seconds. A task whose node dies or leaves ends the job
"failed" with a sentence naming the machine. The tasks belong to the server's Ray
driver: when the server stops (or dies) Ray ends them with it, and
:meth:`RayRunner.shutdown` cancels them first.

The code reaches the nodes with the job (Ray's ``py_modules``: the ``cnnlib``
package), so a lab PC needs only the Python packages of ``requirements.txt``.
"""

from __future__ import annotations

import contextlib
import math
import os
import time
from pathlib import Path

import cnnlib
from cnnlib.jobs import ray_task
from cnnlib.jobs.worker import job_environment
from cnnlib.rundir import RunDir
from cnnlib.training.config import TrainConfig

ENV_JOB_CPUS = "CNN_STUDIO_RAY_JOB_CPUS"
ENV_JOB_GPUS = "CNN_STUDIO_RAY_JOB_GPUS"
ENV_JOB_RESOURCES = "CNN_STUDIO_RAY_JOB_RESOURCES"
#: Seconds a job asked to stop has to end by itself before it is cancelled by force.
STOP_GRACE_S = 10.0
#: Seconds the cluster's capacity is remembered before the nodes are asked again.
CAPACITY_TTL_S = 5.0
#: The Ray namespace of the server's actors.
NAMESPACE = "cnn-studio"


class RayUnavailableError(RuntimeError):
    """``$CNN_STUDIO_RAY_ADDRESS`` is set but Ray cannot be used (a sentence saying why)."""


def _check_reachable(address: str, timeout: float = 3.0) -> None:
    """For a ``host:port`` address, a TCP connection to the head first: ``ray.init``
    keeps retrying an address nobody answers on for minutes, which would hold the
    Train page that long (measured: over 2 minutes, for ``auto`` too when a stopped
    cluster left its address behind). ``auto`` is the address Ray would use.

    Raises:
        RayUnavailableError: nothing answers at ``address`` within ``timeout`` seconds,
            or ``auto`` finds no cluster started on this machine.
    """
    import socket

    named = address.strip()
    if named == "auto":
        try:  # Ray's own reading of "auto" (a private function: skip the probe if it moved)
            from ray._private.services import canonicalize_bootstrap_address
        except ImportError:
            return
        try:
            resolved = canonicalize_bootstrap_address("auto")
        except (ConnectionError, RuntimeError, ValueError, OSError):
            resolved = None
        if not resolved:
            raise RayUnavailableError(
                "CNN_STUDIO_RAY_ADDRESS is auto but no Ray cluster was started on this "
                "machine; run ray start --head first, or unset the variable.")
        address = resolved
    host, _, port = address.strip().rpartition(":")
    if not host or not port.isdigit():
        return
    host = host.removeprefix("ray://").strip("[]")
    try:
        socket.create_connection((host, int(port)), timeout=timeout).close()
    except OSError as e:
        raise RayUnavailableError(
            f"No Ray cluster answers at {address}" + (" (auto)" if named == "auto" else "")
            + f" ({e.strerror or e}); "
            "start it with ray start --head on that machine, or unset the variable.") from None


def parse_resources(text: str | None) -> dict[str, float]:
    """``"lab_pc=1,big_memory=0.5"`` -> ``{"lab_pc": 1.0, "big_memory": 0.5}``.

    Raises:
        ValueError: an entry that is not ``name=positive number`` (names the entry).
    """
    out: dict[str, float] = {}
    for part in filter(None, (p.strip() for p in (text or "").split(","))):
        name, _, amount = part.partition("=")
        try:
            value = float(amount)
        except ValueError:
            value = float("nan")
        if not name.strip() or not math.isfinite(value) or value <= 0:
            raise ValueError(f"{ENV_JOB_RESOURCES} holds {part!r}; write name=amount with a "
                             "positive amount, entries separated by commas (lab_pc=1).")
        out[name.strip()] = value
    return out


def _positive(name: str, default: float | None) -> float | None:
    text = os.environ.get(name, "").strip()
    if not text:
        return default
    try:
        value = float(text)
    except ValueError:
        value = float("nan")
    if not math.isfinite(value) or value < 0:
        raise ValueError(f"{name} holds {text!r}; expected a number of 0 or more.")
    return value


class RayRunner:
    """Runs jobs as Ray tasks on the cluster at ``address`` (``auto`` or ``host:port``).

    Connects this process to the cluster as a Ray driver (unless it already is) and
    starts the stop board actor.

    Args:
        address: the cluster (``ray.init``'s ``address``).
        job_cpus, job_gpus, resources: what each job asks for (defaults: the
            environment variables of the module docstring).

    Raises:
        RayUnavailableError: Ray is not installed, or the cluster cannot be reached.
        ValueError: a malformed environment variable (the message names it).
    """

    name = "ray"

    def __init__(self, address: str, job_cpus: float | None = None,
                 job_gpus: float | None = None, resources: dict[str, float] | None = None):
        try:
            import ray
        except ImportError as e:
            raise RayUnavailableError(
                "CNN_STUDIO_RAY_ADDRESS is set but Ray is not installed here; install it "
                "with pip install -r requirements.txt, or unset the variable.") from e
        self._ray = ray
        self.address = address
        self._owns_connection = not ray.is_initialized()
        if self._owns_connection:
            _check_reachable(address)
            try:
                ray.init(address=address, namespace=NAMESPACE, log_to_driver=False,
                         logging_level="WARNING", configure_logging=False,
                         runtime_env={"py_modules": [str(Path(cnnlib.__file__).parent)]})
            except (ConnectionError, RuntimeError, ValueError) as e:
                raise RayUnavailableError(
                    f"The Ray cluster at {address!r} (CNN_STUDIO_RAY_ADDRESS) cannot be "
                    f"reached ({type(e).__name__}: {str(e)[:200]}); start it with ray start "
                    "--head, or unset the variable.") from e
        self.job_cpus = job_cpus if job_cpus is not None else _positive(ENV_JOB_CPUS, 1.0)
        gpus = job_gpus if job_gpus is not None else _positive(ENV_JOB_GPUS, None)
        self.job_gpus = gpus if gpus is not None else (
            1.0 if ray.cluster_resources().get("GPU", 0) >= 1 else 0.0)
        self.resources = resources if resources is not None else parse_resources(
            os.environ.get(ENV_JOB_RESOURCES))
        self._task = ray.remote(ray_task.train_stream)
        self.board = ray.remote(num_cpus=0)(ray_task.StopBoard).remote()
        self.live: list[RayExecution] = []
        self._capacity: tuple[float, int] | None = None

    # -- the runner interface (cnnlib.jobs.runners) ----------------------------
    def capacity(self, max_jobs: int, max_jobs_set: bool = False) -> int:
        """Jobs run at once: ``max_jobs`` when set (``$CNN_STUDIO_MAX_JOBS``), else how
        many jobs the live nodes hold, each node counted by the CPUs, GPUs and custom
        resources a job asks for (remembered :data:`CAPACITY_TTL_S` seconds)."""
        if max_jobs_set:
            return max_jobs
        now = time.monotonic()
        if self._capacity is None or now - self._capacity[0] > CAPACITY_TTL_S:
            self._capacity = (now, sum(self._fits(n["Resources"]) for n in self._ray.nodes()
                                       if n.get("Alive")))
        return self._capacity[1]

    def _fits(self, node: dict) -> int:
        """How many jobs one node's resources hold."""
        asks = {"CPU": self.job_cpus, "GPU": self.job_gpus, **self.resources}
        counts = [math.floor(node.get(k, 0) / v + 1e-9) for k, v in asks.items() if v > 0]
        return min(counts) if counts else 0

    def take(self) -> "RayExecution":
        execution = RayExecution(self)
        self.live = [e for e in self.live if not e.ended] + [execution]
        return execution

    def give_back(self, execution: "RayExecution") -> None:
        """An execution whose job was cancelled before it ran: nothing was started."""
        self.live = [e for e in self.live if e is not execution]

    def top_up(self) -> None:
        self.live = [e for e in self.live if not e.ended]

    def shutdown(self) -> None:
        """Cancel every task still running and, when this runner connected the process
        to the cluster, disconnect (Ray then ends whatever the driver still owned)."""
        for execution in self.live:
            execution.kill()
        self.live = []
        with contextlib.suppress(Exception):
            self._ray.kill(self.board)
        if self._owns_connection:
            self._ray.shutdown()

    def submit(self, config: TrainConfig, job_id: str):
        """Start ``config``'s task; returns its ``ObjectRefGenerator``."""
        options = {"num_cpus": self.job_cpus, "num_gpus": self.job_gpus, "max_retries": 0,
                   "num_returns": "streaming", "name": f"cnn-studio {job_id}"}
        if self.resources:
            options["resources"] = dict(self.resources)
        return self._task.options(**options).remote(
            config.to_dict(), job_environment(), job_id, self.board, self.job_cpus)


class RayExecution:
    """One job as a Ray task (:class:`~cnnlib.jobs.runners.Execution`): takes the
    task's messages as they arrive and writes the server's run directory."""

    pid = None

    def __init__(self, runner: RayRunner):
        self._runner, self._ray = runner, runner._ray
        self.where = ""
        self.node_id = ""  # the Ray node that runs it, once placed
        self.node_pid: int | None = None  # its worker process there
        self.ended = False  # the stream is over (finished, failed or cancelled)
        self._gen = None
        self._config: TrainConfig | None = None
        self._job_id = ""
        self._ready: list[dict] = []  # events to hand on
        self._held: list[dict] = []  # the end event and after: until the files are written
        self._run: RunDir | None = None
        self._files = contextlib.ExitStack()
        self._write = None
        self._failure: str | None = None
        self._stop_at: float | None = None
        self._forced = False

    def run(self, config: TrainConfig, job_id: str = "") -> None:
        self._config, self._job_id = config, job_id
        self._gen = self._runner.submit(config, job_id)

    # -- reading the stream ------------------------------------------------
    def take_events(self) -> list[dict]:
        ray = self._ray
        while self._gen is not None and not self.ended:
            try:
                ready, _ = ray.wait([self._gen], timeout=0)
                if not ready:
                    break
                self._take(ray.get(next(self._gen)))
            except StopIteration:
                self._end(None)
            except ray.exceptions.TaskCancelledError:
                self._end(f"it did not stop within {STOP_GRACE_S:g} s of the request, so it "
                          "was ended by force." if self._forced else "it was cancelled.")
            except ray.exceptions.NodeDiedError:
                self._end(f"the machine running it ({self.where or 'a node of the cluster'}) "
                          "left the Ray cluster or stopped during the run.")
            except ray.exceptions.WorkerCrashedError:
                self._end(f"the training process on {self.where or 'its machine'} ended "
                          "unexpectedly (killed: out of memory?).")
            except ray.exceptions.RayError as e:
                self._end(f"the Ray cluster could not run it ({type(e).__name__}: "
                          f"{str(e).splitlines()[0][:200]}).")
        if (self._stop_at is not None and not self.ended and not self._forced
                and time.monotonic() - self._stop_at > STOP_GRACE_S):
            self._forced = True
            ray.cancel(self._gen, force=True)
        out, self._ready = self._ready, []
        return out

    def _take(self, message: dict) -> None:
        kind = message.get("kind")
        if kind == "placed":
            self.where = f"{message['host']} ({message['address']})"
            self.node_id, self.node_pid = message["node_id"], message["pid"]
        elif kind == "events":
            for event in message["events"]:
                self._event(event)
        elif kind == "files":
            if self._run is not None:
                for name, data in message["files"].items():
                    (self._run.path / Path(name).name).write_bytes(data)
            self._ready += self._held
            self._held = []

    def _event(self, event: dict) -> None:
        if event.get("type") == "start":
            self._run = RunDir.create(self._config)  # this server's runs folder
            self._write = self._files.enter_context(self._run.history_writer())
            event = {**event, "run_dir": str(self._run.path)}
        if event.get("type") != "snapshot" and self._write is not None:
            self._write(event)
        if self._held or event.get("type") == "end":
            self._held.append(event)
        else:
            self._ready.append(event)

    def _end(self, failure: str | None) -> None:
        self.ended = True
        self._failure = failure
        if failure is None:  # a stream that ended without its files: hand on what came
            self._ready += self._held
            self._held = []
        self._files.close()

    # -- the rest of the Execution interface -----------------------------------
    def request_stop(self) -> None:
        if self._stop_at is None:
            self._stop_at = time.monotonic()
            self._runner.board.request.remote(self._job_id)

    @property
    def stop_requested(self) -> bool:
        return self._stop_at is not None

    def failure(self) -> str | None:
        if not self.ended:
            return None
        return self._failure or (f"the training task on {self.where or 'the cluster'} ended "
                                 "without reporting its end.")

    def kill(self) -> None:
        if self._gen is not None and not self.ended:
            with contextlib.suppress(Exception):
                self._ray.cancel(self._gen, force=True)
            self._end("it was cancelled.")
