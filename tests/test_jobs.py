"""The job manager: real training processes on a tiny real subset."""

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from testutil import REPO, requires_shared_data, tiny_config

from cnnlib import jobs, store
from cnnlib.rundir import RunDir
from cnnlib.training.config import TrainConfig


@pytest.fixture
def manager():
    m = jobs.JobManager(max_running=1)
    yield m
    m.shutdown()


@requires_shared_data
def test_job_runs_to_the_end_and_a_new_reader_sees_everything(manager):
    job = manager.start(tiny_config(), owner="A")
    assert job.state == "starting" and manager.active("A") is job and manager.active("B") is None
    job.wait(timeout=240)
    assert job.state == "finished", job.error
    types = [e["type"] for e in job.events]
    assert types[0] == "start" and types[-1] == "end"
    assert len(job.of_type("batch")) == 9 and len(job.of_type("epoch")) == 1
    assert job.run_dir.model_path.exists()
    assert job.run_dir.job()["state"] == "finished" and job.run_dir.state() == "finished"
    assert job.run_dir.owner() == jobs.owner_tag("A") and job.run_dir.job()["pid"] == job.pid
    # refresh-equivalent: a reader that attaches now gets the same job with its whole history
    again = manager.get(job.id, owner="A")
    assert again is job and again.poll().events == job.events
    assert manager.latest("A") is job and manager.latest("B") is None
    # the run directory holds the same history for readers in another process
    assert [e["type"] for e in job.run_dir.events()] == types
    # progress from the events alone: all batches done, nothing left
    p = job.progress()
    assert p.fraction == 1.0 and (p.epoch, p.batch, p.batches) == (1, 9, 9)
    assert p.seconds_left == 0 and p.samples_per_s > 0


def wait_until(predicate, timeout=240, interval=0.05):
    end = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < end, "timed out"
        time.sleep(interval)


@requires_shared_data
def test_two_owners_queue_and_the_next_job_starts_when_the_first_ends(manager):
    """A runs, B waits in the queue with its place and an estimate; B cannot stop A; A
    stops within one batch and B's job then starts by itself: nobody polls it (no page
    is open), the manager's thread does."""
    a = manager.start(tiny_config(epochs=20, n_train=2000), owner="A")
    with pytest.raises(jobs.OwnerBusyError, match=a.id):
        manager.start(tiny_config(), owner="A")
    b = manager.start(tiny_config(n_train=64, validation_split=0), owner="B")
    assert (a.state, b.state) == ("starting", "queued")
    assert manager.wait_estimate(b).position == 1
    with pytest.raises(jobs.NotOwnerError):
        manager.stop(a.id, "B")
    assert manager.get(a.id, owner="B") is None and manager.latest("B") is b
    wait_until(lambda: len(a.poll().of_type("batch")) >= 12)
    estimate = manager.wait_estimate(b)
    assert estimate.bound == "about" and 0 < estimate.seconds < 600
    assert not a.stop_requested and b.state == "queued"
    n_at_stop = len(a.of_type("batch"))
    manager.stop(a.id, "A")
    # from here on only attributes are read: the manager's thread takes A's end and starts B
    wait_until(lambda: b.state not in ("queued", "starting"), timeout=240, interval=0.2)
    assert a.state == "stopped" and a.last("end")["status"] == "stopped"
    # events already queued when stop was asked may still arrive, plus at most the batch in flight
    assert a.of_type("batch")[-1]["epoch"] == 1 and len(a.of_type("batch")) <= n_at_stop + 3
    assert b.state in ("running", "finished") and b.launched >= a.created
    b.wait(timeout=240)
    assert b.state == "finished", b.error


@requires_shared_data
def test_retention_deletes_the_oldest_ended_runs_when_a_run_starts(tmp_path):
    """CNN_STUDIO_RUNS_MAX_MB: the folder is trimmed when the next run starts; the run in
    progress and a model saved to the store are never touched."""
    m = jobs.JobManager(warm_workers=0, limits=jobs.Limits(runs_max_mb=0.5))
    try:
        first = m.start(tiny_config(), owner="A").wait(timeout=240)
        saved = store.import_run(first.run_dir, "kept-in-store", models_dir=tmp_path / "models")
        old = RunDir(first.run_dir.path.with_name("20000101-000000-000000-mnist-studio_cnn"))
        old.path.mkdir()
        (old.path / "config.json").write_text(json.dumps(TrainConfig().to_dict()))
        old.write_job({"id": "job0", "state": "interrupted", "pid": 1})
        (old.path / "history.jsonl").write_bytes(b"\n" * 600_000)
        second = m.start(tiny_config(), owner="A")
        assert not old.path.exists() and not first.run_dir.path.exists()
        assert saved.exists()  # the store holds its own copy
        second.wait(timeout=240)
        assert second.state == "finished" and second.run_dir.model_path.exists()
    finally:
        m.shutdown()


@requires_shared_data
def test_crashed_worker_is_reported_as_failed_and_its_best_epoch_can_be_saved(manager, tmp_path):
    job = manager.start(tiny_config(epochs=50))
    wait_until(lambda: job.poll().of_type("epoch"))  # keep-best saved epoch 1
    job._process.kill()  # the process dies, as in an out-of-memory kill
    job.wait(timeout=30)
    assert job.state == "failed"
    assert "ended unexpectedly" in job.error
    assert job.events  # what came before the crash is kept
    assert job.run_dir.state() == "failed" and job.run_dir.ended()
    path = store.import_run(job.run_dir, "after-a-crash", models_dir=tmp_path)
    assert path.exists() and store.read_card("after-a-crash", tmp_path)["test_accuracy"] is None


def test_error_in_worker_is_reported(manager, tmp_path):
    (tmp_path / "mnist.npz").write_bytes(b"corrupt")
    job = manager.start(tiny_config(data_dir=str(tmp_path)))
    job.wait(timeout=240)
    assert job.state == "failed"
    assert "DatasetUnavailableError" in job.error and "Could not read" in job.error


@requires_shared_data
def test_old_finished_jobs_are_let_go(manager, monkeypatch):
    monkeypatch.setattr(jobs.JobManager, "KEEP_FINISHED", 1)
    first = manager.start(tiny_config(n_train=64, validation_split=0)).wait(timeout=240)
    second = manager.start(tiny_config(n_train=64, validation_split=0)).wait(timeout=240)
    assert first.state == second.state == "finished"
    third = manager.start(tiny_config(n_train=64, validation_split=0))
    assert manager.get(first.id) is None  # its run directory still holds everything
    assert manager.get(second.id) is second and manager.latest() is third
    third.kill()
    # each owner's latest job is kept, however many jobs ended since
    other = manager.start(tiny_config(n_train=64, validation_split=0), owner="B").wait(timeout=240)
    for _ in range(2):
        manager.start(tiny_config(n_train=64, validation_split=0)).wait(timeout=240)
    assert manager.latest("B") is other


@requires_shared_data
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


# ------------------------------------------------------- a server killed --
def alive(pid: int) -> bool:
    """Whether process ``pid`` exists and is not a zombie."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return stat.rsplit(")", 1)[-1].split()[0] not in ("Z", "X")


def workers_of(runs_dir: Path) -> list[int]:
    """Live training processes (named :data:`cnnlib.jobs.PROCESS_NAME`) started for the
    runs folder ``runs_dir`` (from their environment), whoever their parent is now."""
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit() and jobs.is_worker(int(entry.name)):
            try:
                env = (entry / "environ").read_bytes().split(b"\0")
            except OSError:
                continue
            if f"CNN_STUDIO_RUNS_DIR={runs_dir}".encode() in env:
                found.append(int(entry.name))
    return found


@requires_shared_data
def test_a_server_killed_mid_job_takes_its_workers_and_the_run_is_saved_later(tmp_path):
    """A server process (tests/support/job_server.py: a JobManager with a warm worker and a
    long job) is killed with SIGKILL, as the out-of-memory killer does, once the job has
    kept its first epoch. Its workers are gone within 10 s; a new manager on the same runs
    folder marks the run interrupted, and its model can still go to the store."""
    runs = Path(os.environ["CNN_STUDIO_RUNS_DIR"])
    info_path = tmp_path / "server.json"
    server = subprocess.Popen([sys.executable, str(REPO / "tests" / "support" / "job_server.py"),
                               str(info_path)], cwd=REPO)
    try:
        wait_until(lambda: info_path.exists() or server.poll() is not None, timeout=300,
                   interval=0.2)
        assert server.poll() is None, "the job server ended by itself"
        info = json.loads(info_path.read_text())
        pids = info["workers"]
        assert len(pids) == 2 and set(workers_of(runs)) == set(pids)  # the job's and a warm one
    finally:
        server.send_signal(signal.SIGKILL)
        server.wait()
    end = time.monotonic() + 10
    while (workers_of(runs) or any(map(alive, pids))) and time.monotonic() < end:
        time.sleep(0.2)
    assert workers_of(runs) == [] and not any(map(alive, pids)), \
        "training processes outlived their server"
    run = RunDir(info["run_dir"])
    assert run.state() == "running"  # as the dead server left it
    manager = jobs.JobManager(warm_workers=0)
    try:
        assert manager.interrupted == [run] and run.state() == "interrupted"
        assert run.result() is None and run.predictions() is None
        path = store.import_run(run, "rescued", models_dir=tmp_path / "models")
        card = store.read_card("rescued", tmp_path / "models")
        assert path.exists() and card["epochs"] >= 1 and card["test_accuracy"] is None
    finally:
        manager.shutdown()
