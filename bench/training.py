"""Training throughput of a Train-page job against a plain ``model.fit``.

Both run in a freshly spawned process, as the Train page runs its jobs, on the
same real data (the first ``n_train`` MNIST training images, stratified), the
same model and batch size, without validation or augmentation. Throughput is
the median over epochs 2..E (epoch 1 includes graph tracing) of training
images per second. Beside it: the Train page's start time (``JobManager.start``
to the first batch event, with and without a warm worker) and the cost of the
live snapshots (the same job with ``snapshot_every_s=0``).
"""

from __future__ import annotations

import multiprocessing as mp
import statistics
import time

from .common import row, tf_matmul_peak_gflops


def _plain_fit(config_dict: dict, out) -> None:
    """Reference: the same model and data through ``model.fit`` with no callback
    but an epoch timer (epoch hooks do not synchronise batches)."""
    import keras

    from cnnlib.data import datasets
    from cnnlib.models import zoo
    from cnnlib.training import engine
    from cnnlib.training.config import TrainConfig

    config = TrainConfig.from_dict(config_dict)
    data = datasets.load(config.dataset, config.data_dir, n_train=config.n_train, seed=config.seed)
    keras.utils.set_random_seed(config.seed)
    x, y = datasets.to_float(data.x_train), data.y_train
    model = zoo.build(config.arch, data.image_shape, data.num_classes)
    engine.compile_model(model, config)
    times = []

    class EpochTimer(keras.callbacks.Callback):
        def on_epoch_begin(self, epoch, logs=None):
            self.t = time.perf_counter()

        def on_epoch_end(self, epoch, logs=None):
            times.append(time.perf_counter() - self.t)

    model.fit(x, y, batch_size=config.batch_size, epochs=config.epochs, verbose=0,
              shuffle=True, callbacks=[EpochTimer()])
    out.put({"samples_per_s": [len(x) / t for t in times],
             "flops_per_sample": model_train_flops(model)})


def model_train_flops(model) -> float:
    """Training FLOPs per sample: 3x the forward multiply-adds x 2 (forward, and
    backward for inputs and weights), counting Conv2D and Dense layers only."""
    macs = 0
    for layer in model.layers:
        kind = type(layer).__name__
        if kind == "Conv2D":
            k = layer.kernel.shape  # (kh, kw, c_in, c_out)
            h, w = layer.output.shape[1:3]
            macs += h * w * k[0] * k[1] * k[2] * k[3]
        elif kind == "Dense":
            macs += layer.kernel.shape[0] * layer.kernel.shape[1]
    return 3 * 2 * float(macs)


def _job_throughput(config) -> list[float]:
    from cnnlib import jobs

    manager = jobs.JobManager(max_running=1)
    try:
        job = manager.start(config).wait(timeout=1800)
        if job.state != "finished":
            raise RuntimeError(f"benchmark job {job.state}: {job.error}")
        return [e["samples_per_s"] for e in job.of_type("epoch")]
    finally:
        manager.shutdown()


START_TARGET_S = 2.0  # issue 12: first curve point within 2 s of the click


def _rss_mib(pid: int) -> float | None:
    try:
        for line in open(f"/proc/{pid}/status"):
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    except OSError:
        return None
    return None


def _time_to_first_batch(config, warm: bool, repeats: int) -> tuple[list[float], float | None]:
    """Seconds from ``JobManager.start`` (what the Train button calls) to the first batch
    event, with a warm worker ready (TensorFlow imported and warmed up) or without; and
    the resident memory (MiB) of an idle warm worker."""
    from cnnlib import jobs

    times, idle_mib = [], None
    for _ in range(repeats):
        manager = jobs.JobManager(max_running=1, warm_workers=1 if warm else 0)
        try:
            if warm:
                worker = manager.idle_workers()[0]
                if not worker.ready.wait(timeout=120):
                    raise RuntimeError("the warm worker did not get ready in 120 s")
                time.sleep(1)  # let its memory settle
                idle_mib = _rss_mib(worker.process.pid)
            t0 = time.perf_counter()
            job = manager.start(config)
            while not job.poll().of_type("batch"):
                if job.done:
                    raise RuntimeError(f"benchmark job {job.state}: {job.error}")
                time.sleep(0.01)
            times.append(time.perf_counter() - t0)
            job.stop()
            job.wait(timeout=300)
        finally:
            manager.shutdown()
    return times, idle_mib


def _start_rows(config, quick: bool) -> list[dict]:
    import dataclasses

    config = dataclasses.replace(config, epochs=1)
    repeats = 1 if quick else 3
    cold, _ = _time_to_first_batch(config, False, repeats)
    warm, idle_mib = _time_to_first_batch(config, True, repeats)
    cold_v, warm_v = statistics.median(cold), statistics.median(warm)
    return [row("training start: Train click -> first batch, warm worker", warm_v, "s",
                min_value=min(warm), max_value=max(warm),
                reference="the same without a warm worker (spawn + TensorFlow import)",
                reference_value=cold_v, ratio=warm_v / cold_v,
                target=f"< {START_TARGET_S:g} s", ok=warm_v < START_TARGET_S,
                detail=f"{config.arch} on {config.n_train} MNIST images, {repeats} starts each "
                       f"side; the page shows the point at its next poll (every 0.5 s); an idle "
                       f"warm worker holds {idle_mib or 0:,.0f} MiB RSS "
                       "(CNN_STUDIO_WARM_WORKERS=0 turns it off)")]


def _plain_throughput(config) -> tuple[list[float], float]:
    ctx = mp.get_context("spawn")
    out = ctx.Queue()
    p = ctx.Process(target=_plain_fit, args=(config.to_dict(), out))
    p.start()
    result = out.get(timeout=1800)
    p.join()
    return result["samples_per_s"], result["flops_per_sample"]


def run(quick: bool = False) -> list[dict]:
    """Alternate job, plain and snapshot-free job runs; return the start time (warm vs
    cold worker), the throughput ratio, the live-snapshot cost and the efficiency.

    Epoch throughput on the shared 2-core machine is bimodal (about 590 or 940
    samples/s for the same epoch of the same process, whatever the code), so
    the runs alternate and each side is the median of many epochs; the ratio
    of the best epochs is given beside it.
    """
    import dataclasses
    import tempfile

    from cnnlib.training.config import TrainConfig

    config = TrainConfig(dataset="mnist", arch="studio_cnn", epochs=4 if quick else 6,
                         batch_size=64, validation_split=0.0, keep_best=False,
                         n_train=3000, n_test=100,
                         run_root=tempfile.mkdtemp(prefix="cnn-bench-runs-"))
    job_rates, plain_rates, quiet_rates, flops = [], [], [], 0.0
    quiet = dataclasses.replace(config, snapshot_every_s=0.0)  # the same job, no live view
    for _ in range(1 if quick else 3):
        job_rates += _job_throughput(config)[1:]
        rates, flops = _plain_throughput(config)
        plain_rates += rates[1:]
        quiet_rates += _job_throughput(quiet)[1:]
    job_v, plain_v = statistics.median(job_rates), statistics.median(plain_rates)
    quiet_v = statistics.median(quiet_rates)
    snap_cost = 1 - job_v / quiet_v
    ratio = job_v / plain_v
    peak = tf_matmul_peak_gflops()
    achieved = job_v * flops / 1e9
    desc = (f"{config.arch} on {config.n_train} MNIST images, batch {config.batch_size}, "
            f"epochs 2..{config.epochs}, {len(job_rates)} epochs each side; "
            f"best epochs {max(job_rates):.0f} vs {max(plain_rates):.0f} samples/s "
            f"(ratio {max(job_rates) / max(plain_rates):.3f})")
    return _start_rows(config, quick) + [
        row("training throughput, Train-page job", job_v, "samples/s",
            min_value=min(job_rates), max_value=max(job_rates),
            reference="plain model.fit, same model/data/batch", reference_value=plain_v,
            ratio=ratio, target="ratio >= 0.95", ok=ratio >= 0.95, detail=desc,
            best_ratio=max(job_rates) / max(plain_rates)),
        row("live snapshots: throughput cost", snap_cost * 100, "%",
            reference="the same job without snapshots (snapshot_every_s=0)",
            reference_value=quiet_v, ratio=job_v / quiet_v, target="<= 5%",
            ok=snap_cost <= 0.05,
            detail=f"a snapshot every {config.snapshot_every_s:g} s; medians {job_v:.0f} vs "
                   f"{quiet_v:.0f} samples/s over {len(quiet_rates)} epochs each; best epochs "
                   f"{max(job_rates):.0f} vs {max(quiet_rates):.0f} (cost "
                   f"{1 - max(job_rates) / max(quiet_rates):.1%}); a negative cost is the "
                   "machine's epoch-to-epoch noise"),
        row("training efficiency (achieved / float32 matmul peak)", achieved, "GFLOP/s",
            reference="measured float32 matmul peak (TensorFlow)", reference_value=peak,
            ratio=achieved / peak, target="report", ok=None,
            detail=f"{flops / 1e6:.0f} MFLOP per training sample (conv + dense)"),
    ]
