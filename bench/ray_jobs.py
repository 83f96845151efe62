"""Training jobs on a Ray cluster against the local runner (issue 21 point 5).

Everything runs on this one machine: a two-node loopback Ray cluster
(:class:`ray.cluster_utils.Cluster`, 1 CPU per node, every node bound to
127.0.0.1 through ``RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER=0``) and the local runner's
worker processes share the same cores. Same model (``studio_cnn``), data (the
shared partial MNIST, stratified subsets) and batch size (64) on both sides;
no validation. ``CNN_STUDIO_HOME`` is a temporary folder for the runs and
``CNN_STUDIO_DATA_DIR`` the shared datasets. Rows:

1. Training throughput of one job at a time (median over epochs 2..E of the
   epoch events' samples/s; epoch 1 pays for tracing), Ray vs local, runs
   alternated, like for like in threads: a Ray job asking for the machine's 2
   CPUs on a one-node 2-CPU cluster (TensorFlow's pools sized to 2) against a
   local worker (TensorFlow on every core): the target row; and a Ray job
   asking for 1 CPU (the runner's default) on the two-node cluster against the
   local runner held to 1 thread (``TF_NUM_INTRAOP_THREADS=1``,
   ``TF_NUM_INTEROP_THREADS=1``).
2. Train click (``JobManager.start``) -> first batch event: a warm Ray worker (one
   job ran on it before) vs the local warm worker (ready before the click); the
   cold Ray figure (the cluster's first job: TensorFlow imported in the Ray
   worker) as its own row.
3. Makespan of eight queued short jobs (owners p0..p7): the local runner with
   2 slots (as many as the cluster has CPUs) vs the two-node cluster. On one
   machine both share its 2 cores, so this row measures overhead, not scaling.
   On paper, with ``N`` one-job machines: makespan ~ ceil(8 / N) * per-job time
   + start cost (the detail gives the figures from the measured per-job time).

The cluster, the Ray connection and every worker are shut down at the end, even
on error. A TCP socket that this process or one below it (Ray's daemons and workers) listens
on at an address other than loopback fails the throughput row (its detail names
them); ``ray`` must therefore not be imported before this module sets
``RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER=0``.
"""

from __future__ import annotations

import contextlib
import dataclasses
import math
import os
import statistics
import tempfile
import time

from tests.support.sockets import exposed_by_this_tree

from . import SHARED_DATA
from .common import row

#: Ray's throughput at least this fraction of the local runner's.
THROUGHPUT_RATIO_TARGET = 0.9
#: The queue of the makespan row.
QUEUED_JOBS = 8


@contextlib.contextmanager
def _environment(home: str):
    """The benchmark's variables (restored afterwards): runs in ``home``, the shared
    data, Ray on loopback, and no Ray or job-limit settings of the caller's."""
    keys = ("CNN_STUDIO_HOME", "CNN_STUDIO_DATA_DIR", "RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER",
            "CNN_STUDIO_MAX_JOBS", "CNN_STUDIO_RAY_ADDRESS", "CNN_STUDIO_RAY_JOB_CPUS",
            "CNN_STUDIO_RAY_JOB_GPUS", "CNN_STUDIO_RAY_JOB_RESOURCES",
            "TF_NUM_INTRAOP_THREADS", "TF_NUM_INTEROP_THREADS")
    saved = {k: os.environ.get(k) for k in keys}
    data = os.environ.get("CNN_STUDIO_DATA_DIR", str(SHARED_DATA))
    for k in keys:
        os.environ.pop(k, None)
    os.environ.update({"CNN_STUDIO_HOME": home,
                       "CNN_STUDIO_DATA_DIR": data,
                       "RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER": "0"})  # before ray is imported
    try:
        yield
    finally:
        for k, v in saved.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v


@contextlib.contextmanager
def _tf_threads(n: int):
    """Local workers spawned meanwhile hold TensorFlow to ``n`` threads per pool."""
    os.environ["TF_NUM_INTRAOP_THREADS"] = os.environ["TF_NUM_INTEROP_THREADS"] = str(n)
    try:
        yield
    finally:
        os.environ.pop("TF_NUM_INTRAOP_THREADS", None)
        os.environ.pop("TF_NUM_INTEROP_THREADS", None)


def _finish(job, timeout: float = 300):
    job.wait(timeout=timeout, interval=0.05)
    if job.state not in ("finished", "stopped"):
        raise RuntimeError(f"benchmark job {job.id} {job.state}: {job.error}")
    return job


def _rates(job) -> list[float]:
    """Samples/s of the job's complete epochs after the first."""
    return [e["samples_per_s"] for e in job.of_type("epoch")
            if e["epoch"] > 1 and not e.get("partial")]


def _local_rates(config, owner: str) -> list[float]:
    """One job on a fresh one-slot local runner (no warm worker): its epochs' samples/s
    (:func:`_rates`)."""
    from cnnlib.jobs import JobManager

    local = JobManager(max_running=1, warm_workers=0)
    try:
        return _rates(_finish(local.start(config, owner=owner)))
    finally:
        local.shutdown()


def _first_batch(manager, config, owner: str = "") -> tuple[float, object]:
    """Seconds from ``manager.start`` to the job's first batch event; then stop it."""
    t0 = time.perf_counter()
    job = manager.start(config, owner=owner)
    while not job.poll().of_type("batch"):
        if job.done:
            raise RuntimeError(f"benchmark job {job.id} {job.state}: {job.error}")
        time.sleep(0.01)
    took = time.perf_counter() - t0
    job.stop()
    _finish(job)
    return took, job


def _wait_warm(manager, timeout: float = 120) -> None:
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        idle = manager.idle_workers()
        if idle and idle[0].ready.is_set():
            time.sleep(0.5)  # let it settle
            return
        time.sleep(0.05)
    raise RuntimeError(f"no warm local worker got ready in {timeout:g} s")


def _makespan(manager, config) -> dict:
    """Queue :data:`QUEUED_JOBS` jobs for owners p0.. at once; seconds until all ended,
    and each job's launch -> end time."""
    t0 = time.perf_counter()
    jobs = [manager.start(config, owner=f"p{i}") for i in range(QUEUED_JOBS)]
    ended: dict[str, float] = {}
    while len(ended) < len(jobs):
        for job in jobs:
            if job.id not in ended and job.poll().done:
                if job.state != "finished":
                    raise RuntimeError(f"benchmark job {job.id} {job.state}: {job.error}")
                ended[job.id] = time.time()
        time.sleep(0.05)
    total = time.perf_counter() - t0
    per_job = [ended[j.id] - j.launched for j in jobs]
    return {"makespan": total, "per_job": per_job, "where": sorted({j.where for j in jobs})}


def run(quick: bool = False) -> list[dict]:
    """Measure the rows of the module docstring; every process and the cluster end
    before it returns."""
    if not (SHARED_DATA / "mnist.npz").exists() and not os.environ.get("CNN_STUDIO_DATA_DIR"):
        return [row("Ray jobs vs local runner", None, "samples/s",
                    target="skipped: no ../shared/datasets/mnist.npz")]
    import importlib.util
    import sys

    if importlib.util.find_spec("ray") is None:  # not imported: the loopback setting applies
        return [row("Ray jobs vs local runner", None, "samples/s",
                    target="skipped: ray is not installed")]
    if "ray" in sys.modules and os.environ.get("RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER") != "0":
        return [row("Ray jobs vs local runner", None, "samples/s",
                    target="skipped: ray was imported before RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER=0 "
                           "could be set (the nodes would bind the network address)")]
    with tempfile.TemporaryDirectory(prefix="cnn-bench-ray-") as home, _environment(home):
        return _measure(quick)


def _measure(quick: bool) -> list[dict]:
    from ray.cluster_utils import Cluster

    from cnnlib.jobs import JobManager
    from cnnlib.jobs.ray_runner import RayRunner
    from cnnlib.training.config import TrainConfig

    base = TrainConfig(dataset="mnist", arch="studio_cnn", batch_size=64,
                       validation_split=0.0, keep_best=False, n_test=200)
    long_job = dataclasses.replace(base, n_train=1500 if quick else 3000, epochs=4)
    tiny = dataclasses.replace(base, n_train=640, epochs=1)
    short = dataclasses.replace(base, n_train=500 if quick else 1000, epochs=1)
    rounds = 1 if quick else 2
    starts = 1 if quick else 3

    t_all = time.perf_counter()
    cluster = manager = local = None
    rates = {"ray": [], "local": [], "local1": []}
    try:
        t = time.perf_counter()
        cluster = Cluster(initialize_head=True, head_node_args={"num_cpus": 1})
        cluster.add_node(num_cpus=1)
        cluster.wait_for_nodes()
        runner = RayRunner(cluster.address, job_cpus=1, job_gpus=0, resources={})
        manager = JobManager(runner=runner)
        cluster_s = time.perf_counter() - t

        # 2. start: the cluster's first job (cold Ray worker), then warm ones
        cold_s, cold_job = _first_batch(manager, tiny, "cold")
        ray_warm, ray_where = [], [cold_job.where]
        for i in range(starts):
            s, job = _first_batch(manager, tiny, f"warm{i}")
            ray_warm.append(s)
            ray_where.append(job.where)
        exposed = exposed_by_this_tree()

        # 1. throughput with 1 CPU a job: Ray (1 thread) alternated with local held to 1 thread
        ray_places = []
        for i in range(rounds):
            with _tf_threads(1):
                rates["local1"] += _local_rates(long_job, f"one{i}")
            job = _finish(manager.start(long_job, owner=f"r{i}"))
            rates["ray"] += _rates(job)
            ray_places.append(job.where)

        # 3. makespan on the cluster (capacity: its 2 CPUs)
        capacity = manager.max_running
        ray_span = _makespan(manager, short)
        exposed = sorted(set(exposed) | set(exposed_by_this_tree()))
    finally:
        if manager is not None:
            manager.shutdown()
        if cluster is not None:
            cluster.shutdown()
    cluster = manager = None
    try:  # 1b. one Ray job asking for 2 CPUs on one 2-CPU node: TensorFlow on 2 threads
        cluster = Cluster(initialize_head=True, head_node_args={"num_cpus": 2})
        manager = JobManager(runner=RayRunner(cluster.address, job_cpus=2, job_gpus=0,
                                              resources={}))
        _finish(manager.start(tiny, owner="two-warm"))  # the Ray worker imports TensorFlow
        rates["ray2"] = []
        for i in range(rounds):  # alternated with the local runner (TensorFlow on all cores)
            rates["local"] += _local_rates(long_job, f"l{i}")
            rates["ray2"] += _rates(_finish(manager.start(long_job, owner=f"two{i}")))
        exposed = sorted(set(exposed) | set(exposed_by_this_tree()))
    finally:
        if manager is not None:
            manager.shutdown()
        if cluster is not None:
            cluster.shutdown()
    try:
        # 2. local warm worker start, 3. local makespan with as many slots
        local = JobManager(max_running=2, warm_workers=1)
        local_warm = []
        for i in range(starts):
            _wait_warm(local)
            local_warm.append(_first_batch(local, tiny, f"lw{i}")[0])
        _wait_warm(local)
        local_span = _makespan(local, short)
    finally:
        if local is not None:
            local.shutdown()
    total_s = time.perf_counter() - t_all

    ray_v, local_v = statistics.median(rates["ray"]), statistics.median(rates["local"])
    local1_v = statistics.median(rates["local1"])
    ray2_v = statistics.median(rates["ray2"])
    ratio = ray_v / local_v  # 1 CPU against all cores: the CPUs asked for, not Ray
    hosts = sorted(set(ray_places))
    tput_detail = (
        f"{long_job.arch} on {long_job.n_train} MNIST images, batch {long_job.batch_size}, "
        f"epochs 2..{long_job.epochs} of {rounds} job(s) each side, alternated; one job at a "
        f"time; Ray job on {', '.join(hosts)} asking for 1 CPU (TensorFlow sized to 1 thread), "
        f"the local runner held to 1 TensorFlow thread; "
        f"cluster of 2 loopback nodes (1 CPU each) started in {cluster_s:.1f} s; "
        + (f"NON-LOOPBACK LISTENERS: {', '.join(exposed)}" if exposed
           else "no listener outside 127.0.0.1")
        + f"; whole module {total_s:.0f} s")
    two_detail = (f"the same job on a one-node cluster of 2 CPUs, asking for both (Ray sizes "
                  f"TensorFlow to 2 threads, as a local worker has), {rounds} job(s) each side "
                  f"alternated, epochs 2..{long_job.epochs}; a Ray "
                  f"worker runs at nice 19 like a local one, with OMP_NUM_THREADS and "
                  f"TensorFlow's pools at the CPUs the job asked for "
                  f"(CNN_STUDIO_RAY_JOB_CPUS)")
    warm_v, lwarm_v = statistics.median(ray_warm), statistics.median(local_warm)
    per_job = statistics.median(ray_span["per_job"])
    lper_job = statistics.median(local_span["per_job"])
    start_cost = ray_span["makespan"] - math.ceil(QUEUED_JOBS / capacity) * per_job
    paper = ", ".join(
        f"N={n}: {math.ceil(QUEUED_JOBS / n) * per_job + max(start_cost, 0):.0f} s"
        for n in (1, 2, 4, 8))
    return [
        row("Ray job asking for the machine's 2 CPUs: training throughput", ray2_v, "samples/s",
            min_value=min(rates["ray2"]), max_value=max(rates["ray2"]),
            reference="local runner, same model/data/batch (TensorFlow on 2 threads)",
            reference_value=local_v, ratio=ray2_v / local_v,
            target=f"ratio >= {THROUGHPUT_RATIO_TARGET}",
            ok=ray2_v / local_v >= THROUGHPUT_RATIO_TARGET and not exposed, detail=two_detail,
            listeners=exposed, seconds=round(total_s, 1)),
        row("Ray job asking for 1 CPU (the default): training throughput", ray_v, "samples/s",
            min_value=min(rates["ray"]), max_value=max(rates["ray"]),
            reference="local runner with TensorFlow held to 1 thread", reference_value=local1_v,
            ratio=ray_v / local1_v, target="report", ok=None,
            detail=tput_detail + f"; against the local runner on 2 threads ({local_v:,.0f} "
                   f"samples/s) the ratio is {ratio:.2f}: the CPUs asked for, not Ray"),
        row("Ray job: Train click -> first batch, warm Ray worker", warm_v, "s",
            min_value=min(ray_warm), max_value=max(ray_warm),
            reference="local warm worker (ready before the click)", reference_value=lwarm_v,
            ratio=warm_v / lwarm_v, target="report", ok=None,
            detail=f"{tiny.arch} on {tiny.n_train} images, {starts} start(s) each side, each "
                   f"stopped after its first batch; Ray jobs ran on "
                   f"{', '.join(sorted(set(ray_where)))}; the local side's median "
                   f"{lwarm_v:.2f} s (min {min(local_warm):.2f}, max {max(local_warm):.2f})"),
        row("Ray job: Train click -> first batch, cold (the cluster's first job)", cold_s, "s",
            reference="local warm worker", reference_value=lwarm_v, ratio=cold_s / lwarm_v,
            target="report", ok=None,
            detail="a Ray worker process that has not imported TensorFlow yet"),
        row(f"makespan of {QUEUED_JOBS} queued jobs, 2-node loopback Ray cluster",
            ray_span["makespan"], "s",
            reference=f"local runner, {capacity} slots", reference_value=local_span["makespan"],
            ratio=ray_span["makespan"] / local_span["makespan"],
            target="report (both on the same 2 cores)", ok=None,
            detail=f"{short.arch} on {short.n_train} images, {short.epochs} epoch, owners "
                   f"p0..p{QUEUED_JOBS - 1}, capacity {capacity} (1 job per node); per job "
                   f"(launch -> end) median {per_job:.1f} s on Ray, {lper_job:.1f} s local; "
                   f"nodes used: {', '.join(ray_span['where'])}. On one machine both runners "
                   f"share its 2 cores: no scaling to see. On paper, with N one-job "
                   f"machines, makespan ~ ceil({QUEUED_JOBS}/N) x {per_job:.1f} s + "
                   f"{max(start_cost, 0):.1f} s start cost: {paper}",
            per_job_s=per_job, local_per_job_s=lper_job),
    ]
