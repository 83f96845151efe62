"""The job manager: a real training process on a tiny real subset."""

import time

import pytest

from cnnlib import jobs
from testutil import requires_shared_data, tiny_config

pytestmark = requires_shared_data


@pytest.fixture
def manager():
    m = jobs.JobManager(max_running=1)
    yield m
    m.shutdown()


def test_job_runs_to_the_end_and_a_new_reader_sees_everything(manager):
    job = manager.start(tiny_config())
    assert job.state == "starting"
    job.wait(timeout=240)
    assert job.state == "finished", job.error
    types = [e["type"] for e in job.events]
    assert types[0] == "start" and types[-1] == "end"
    assert len(job.of_type("batch")) == 9 and len(job.of_type("epoch")) == 1
    assert job.run_dir.model_path.exists()
    assert job.run_dir.job()["state"] == "finished" and job.run_dir.state() == "finished"
    # refresh-equivalent: a reader that attaches now gets the same job with its whole history
    again = manager.get(job.id)
    assert again is job and again.poll().events == job.events
    assert manager.latest() is job
    # the run directory holds the same history for readers in another process
    assert [e["type"] for e in job.run_dir.events()] == types
    # progress from the events alone: all batches done, nothing left
    p = job.progress()
    assert p.fraction == 1.0 and (p.epoch, p.batch, p.batches) == (1, 9, 9)
    assert p.seconds_left == 0 and p.samples_per_s > 0


def test_stop_within_one_batch_and_busy(manager):
    job = manager.start(tiny_config(epochs=20, n_train=2000))
    with pytest.raises(jobs.BusyError, match=job.id):
        manager.start(tiny_config())
    deadline = time.monotonic() + 240
    while len(job.poll().of_type("batch")) < 3 and time.monotonic() < deadline:
        time.sleep(0.05)
    n_at_stop = len(job.of_type("batch"))
    job.stop()
    job.wait(timeout=120)
    assert job.state == "stopped"
    n_batches = len(job.of_type("batch"))
    # events already queued when stop was asked may still arrive, plus at most the batch in flight
    last_epoch = job.of_type("batch")[-1]["epoch"]
    assert last_epoch == 1 and n_batches <= n_at_stop + 3
    assert job.last("end")["status"] == "stopped"
    # once stopped, the server is free again
    second = manager.start(tiny_config(epochs=1, n_train=64, validation_split=0))
    second.kill()


def test_crashed_worker_is_reported_as_failed(manager):
    job = manager.start(tiny_config(epochs=50, n_train=2000))
    deadline = time.monotonic() + 240
    while not job.poll().of_type("batch") and time.monotonic() < deadline:
        time.sleep(0.05)
    job._process.kill()  # the process dies, as in an out-of-memory kill
    job.wait(timeout=30)
    assert job.state == "failed"
    assert "ended unexpectedly" in job.error
    assert job.events  # what came before the crash is kept


def test_error_in_worker_is_reported(manager, tmp_path):
    (tmp_path / "mnist.npz").write_bytes(b"corrupt")
    job = manager.start(tiny_config(data_dir=str(tmp_path)))
    job.wait(timeout=240)
    assert job.state == "failed"
    assert "DatasetUnavailableError" in job.error and "Could not read" in job.error


def test_old_finished_jobs_are_let_go(manager, monkeypatch):
    monkeypatch.setattr(jobs.JobManager, "KEEP_FINISHED", 1)
    first = manager.start(tiny_config(n_train=64, validation_split=0)).wait(timeout=240)
    second = manager.start(tiny_config(n_train=64, validation_split=0)).wait(timeout=240)
    assert first.state == second.state == "finished"
    third = manager.start(tiny_config(n_train=64, validation_split=0))
    assert manager.get(first.id) is None  # its run directory still holds everything
    assert manager.get(second.id) is second and manager.latest() is third
    third.kill()


def test_a_warm_worker_takes_the_job_and_is_replaced(tmp_path, monkeypatch):
    """The job runs in the worker that was started (and imported TensorFlow) before it,
    with the environment of the moment the job starts; a new worker waits for the next."""
    m = jobs.JobManager(max_running=1, warm_workers=1)
    try:
        (warm,) = m.idle_workers()
        runs_now = tmp_path / "runs-after-the-worker-started"
        monkeypatch.setenv("CNN_STUDIO_RUNS_DIR", str(runs_now))
        job = m.start(tiny_config(n_train=64, validation_split=0))
        assert job._worker is warm
        (fresh,) = m.idle_workers()
        assert fresh is not warm and fresh.process.is_alive()
        job.wait(timeout=240)
        assert job.state == "finished", job.error
        assert job.run_dir.path.parent == runs_now
    finally:
        m.shutdown()
    assert not fresh.process.is_alive() and m.idle_workers() == []


def test_no_warm_worker_when_turned_off():
    m = jobs.JobManager(warm_workers=0)
    assert m.idle_workers() == []
    m.shutdown()
