"""The job manager's rules without training: owners, the queue, limits, waits, recovery,
and the worker's ties to its server (small subprocesses, no TensorFlow)."""

import json
import os
import signal
import subprocess
import sys
import time

import pytest
from testutil import REPO, tiny_config

from cnnlib import jobs
from cnnlib.rundir import RunDir
from cnnlib.training.config import TrainConfig


def occupied_manager(**limits):
    """A manager with no warm worker whose one training slot is taken by a stand-in job
    of "someone" (state "running", no process): new jobs wait in the queue."""
    m = jobs.JobManager(warm_workers=0, limits=jobs.Limits(**limits))
    busy = jobs.Job(tiny_config(), owner="someone")
    busy.state = "running"
    m.jobs[busy.id] = busy
    return m, busy


@pytest.fixture
def occupied():
    m, busy = occupied_manager()
    yield m, busy
    m.shutdown()


def test_one_job_per_owner_fifo_positions_and_only_the_owner_cancels(occupied):
    m, busy = occupied
    a = m.start(tiny_config(), owner="A")
    b = m.start(tiny_config(epochs=2), owner="B")
    assert (a.state, b.state) == ("queued", "queued") and m.queued() == [a, b]
    with pytest.raises(jobs.OwnerBusyError, match="already have a training job waiting"):
        m.start(tiny_config(), owner="A")
    with pytest.raises(jobs.NotOwnerError, match=f"Only the person who started {a.id}"):
        m.stop(a.id, "B")
    with pytest.raises(jobs.NotOwnerError):
        m.stop(busy.id, "A")
    with pytest.raises(KeyError):
        m.stop("job-none", "A")
    # each sees only their own job; of the others, counts
    assert m.latest("A") is a and m.get(a.id, "B") is None and m.get(a.id, "A") is a
    assert m.latest("nobody") is None and m.active("B") is b
    assert m.queue_view("B") == jobs.QueueView(running=1, queued=2, others_running=1,
                                            others_queued=1, max_jobs=1)
    # A cancels: B moves up; A may queue again, behind B
    assert m.stop(a.id, "A").state == "cancelled" and a.done
    assert m.queued() == [b] and m.wait_estimate(b).position == 1
    again = m.start(tiny_config(), owner="A")
    assert m.queued() == [b, again] and m.wait_estimate(again).position == 2
    assert m.wait_estimate(busy) is None


def test_wait_estimates_from_the_running_jobs_time_left(occupied):
    m, busy = occupied
    first, second = m.start(tiny_config(), owner="B"), m.start(tiny_config(), owner="C")
    unknown = m.wait_estimate(first)
    assert unknown == jobs.WaitEstimate(1, None) and unknown.describe().startswith("unknown")
    # the running job: 30 batches of 64 images planned, 15 done at one batch each 0.5 s
    busy.events = [{"type": "start", "elapsed": 0.0, "batches": 10, "n_train": 640,
                    "config": TrainConfig(epochs=3).to_dict()}]
    busy.events += [{"type": "batch", "elapsed": 0.5 * k, "epoch": 1 + k // 10,
                     "batch": 1 + k % 10, "batches": 10, "loss": 1.0, "accuracy": 0.5,
                     "samples_per_s": 128.0} for k in range(15)]
    assert m.wait_estimate(first) == jobs.WaitEstimate(1, pytest.approx(7.5), "about")
    assert m.wait_estimate(first).describe() == "about 8 s"
    # the job ahead of the second has not run: its length is unknown, so only a lower bound
    assert m.wait_estimate(second).describe() == "at least 8 s"


@pytest.mark.parametrize("seconds,text", [(0, "0 s"), (89.4, "89 s"), (150, "2 min"),
                                          (5399, "90 min"), (5400, "1 h 30 min"),
                                          (7322, "2 h 02 min")])
def test_format_duration(seconds, text):
    assert jobs.format_duration(seconds) == text


def test_limits_refuse_a_job_with_a_sentence_before_it_is_queued():
    m, busy = occupied_manager(max_epochs=20, max_train_images=1000)
    try:
        with pytest.raises(jobs.LimitError, match=r"at most 20 epochs per job "
                                                  r"\(CNN_STUDIO_MAX_EPOCHS\).*epochs=500"):
            m.start(tiny_config(epochs=500), owner="A")
        with pytest.raises(jobs.LimitError, match=r"at most 1,000 training images.*"
                                                  r"CNN_STUDIO_MAX_TRAIN_IMAGES.*n_train=5,000"):
            m.start(tiny_config(n_train=5000), owner="A")
        with pytest.raises(jobs.LimitError, match="n_train=all of them"):
            m.start(tiny_config(n_train=None), owner="A")
        with pytest.raises(ValueError, match="epochs=0"):  # and an invalid config still is one
            m.start(tiny_config(epochs=0), owner="A")
        assert m.queued() == [] and m.latest("A") is None
        assert m.start(tiny_config(epochs=20, n_train=1000), owner="A").state == "queued"
        assert m.limits.describe() == ("This server allows at most 20 epochs and 1,000 "
                                       "training images per job.")
    finally:
        m.shutdown()


def test_limits_from_the_environment():
    env = {"CNN_STUDIO_MAX_JOBS": "3", "CNN_STUDIO_MAX_EPOCHS": "20",
           "CNN_STUDIO_MAX_TRAIN_IMAGES": " ", "CNN_STUDIO_RUNS_MAX_MB": "512.5"}
    assert jobs.Limits.from_env(env) == jobs.Limits(3, 20, None, 512.5)
    assert jobs.Limits.from_env({}) == jobs.Limits() and jobs.Limits().describe() == ""
    for bad in ("0", "-2", "ten", "2.5"):
        with pytest.raises(ValueError, match=f"CNN_STUDIO_MAX_EPOCHS must be a positive whole "
                                             f"number. Received: CNN_STUDIO_MAX_EPOCHS='{bad}'"):
            jobs.Limits.from_env({"CNN_STUDIO_MAX_EPOCHS": bad})


def test_a_shut_down_manager_refuses_work_and_records_its_jobs(occupied):
    m, busy = occupied
    queued = m.start(tiny_config(), owner="A")
    m.shutdown()
    assert queued.state == "cancelled" and not m._thread.is_alive()
    with pytest.raises(RuntimeError, match="shut down"):
        m.start(tiny_config(), owner="B")


def test_the_owner_is_recorded_as_a_digest_not_the_token():
    tag = jobs.owner_tag("a-secret-token-of-a-browser")
    assert len(tag) == 16 and "secret" not in tag
    assert tag == jobs.owner_tag("a-secret-token-of-a-browser")


# ------------------------------------------------------------------ recovery --
def named_like_a_worker():
    """A process named as a training process (/proc/<pid>/comm), sleeping."""
    code = ("import time; from cnnlib.jobs.worker import _prctl, PROCESS_NAME; "
            "_prctl(15, PROCESS_NAME.encode()); print('ready', flush=True); time.sleep(60)")
    proc = subprocess.Popen([sys.executable, "-c", code], cwd=REPO, stdout=subprocess.PIPE,
                            text=True)
    assert proc.stdout.readline().strip() == "ready"
    return proc


def test_runs_left_running_by_a_dead_server_are_marked(tmp_path):
    def run(stamp, job, result=None):
        r = RunDir(tmp_path / f"2025{stamp}-mnist-studio_cnn")
        r.path.mkdir()
        (r.path / "config.json").write_text(json.dumps(TrainConfig().to_dict()))
        r.write_job({"id": "job1", "error": None, "owner": "abc", **job})
        if result:
            r.write_result({"type": "end", "status": result})
        return r

    gone = subprocess.Popen(["true"])
    gone.wait()
    alive_worker = named_like_a_worker()
    try:
        dead = run("0101-000001", {"state": "running", "pid": gone.pid})
        reused = run("0101-000002", {"state": "starting", "pid": os.getpid()})  # not a worker
        orphan_finished = run("0101-000003", {"state": "running", "pid": gone.pid}, "early_stopped")
        orphan_stopped = run("0101-000004", {"state": "running", "pid": gone.pid}, "stopped")
        other_server = run("0101-000005", {"state": "running", "pid": alive_worker.pid})
        ended = run("0101-000006", {"state": "failed", "pid": gone.pid})
        assert jobs.is_worker(alive_worker.pid) and not jobs.is_worker(os.getpid())
        assert not jobs.is_worker(gone.pid) and not jobs.is_worker(None)
        marked = jobs.mark_interrupted(tmp_path)
        assert marked == [orphan_stopped, orphan_finished, reused, dead]
        assert dead.state() == reused.state() == "interrupted"
        assert "The server stopped during the run" in dead.job()["error"]
        assert dead.job()["owner"] == "abc" and dead.ended()
        assert orphan_finished.state() == "finished" and orphan_stopped.state() == "stopped"
        assert other_server.state() == "running" and ended.state() == "failed"
        assert jobs.mark_interrupted(tmp_path) == []  # once is enough
        # a new manager does the same when it is made
        RunDir(dead.path).write_job({**dead.job(), "state": "running"})
        m = jobs.JobManager(warm_workers=0, runs_root=tmp_path)
        assert m.interrupted == [dead]
        m.shutdown()
    finally:
        alive_worker.kill()
        alive_worker.wait()


# ------------------------------------------------------- ties to the server --
def test_a_process_dies_with_its_parent_whatever_kills_the_parent():
    """prctl(PR_SET_PDEATHSIG), then the getppid watchdog alone: a middle process (the
    server) is killed with SIGKILL, and its child (the worker) goes within seconds."""
    child_signal = ("import os, time; from cnnlib.jobs.worker import die_with_parent; "
                    "assert die_with_parent(os.getppid()); time.sleep(60)")
    child_watchdog = ("import os, threading, time; from cnnlib.jobs.worker import watch_parent; "
                      "threading.Thread(target=watch_parent, daemon=True, "
                      "args=(os.getppid(), lambda: os._exit(3), 0.1)).start(); time.sleep(60)")
    for child in (child_signal, child_watchdog):
        middle = subprocess.Popen(
            [sys.executable, "-c", "import subprocess, sys, time; "
             f"p = subprocess.Popen([sys.executable, '-c', {child!r}]); "
             "print(p.pid, flush=True); time.sleep(60)"],
            cwd=REPO, stdout=subprocess.PIPE, text=True)
        pid = int(middle.stdout.readline())
        time.sleep(1.0)  # let the child set itself up
        assert process_alive(pid)
        middle.send_signal(signal.SIGKILL)
        middle.wait()
        assert wait_gone([pid], 5), f"child {pid} outlived its parent"


def test_the_last_events_never_hang_a_worker_on_a_full_pipe():
    """A queue holding far more than a pipe takes, that nobody reads: with its parent gone
    the worker leaves at once; with its parent alive it waits FLUSH_TIMEOUT_S at most."""
    code = ("import multiprocessing as mp, os, sys, time\n"
            "from cnnlib.jobs import worker\n"
            "worker.FLUSH_TIMEOUT_S = 1.0\n"
            "q = mp.get_context('spawn').Queue()\n"
            "q.put(b'x' * 10_000_000)\n"
            "time.sleep(0.3)\n"
            "worker._flush(q, os.getppid() if sys.argv[1] == 'alive' else -1)\n")
    for parent in ("gone", "alive"):
        t0 = time.monotonic()
        subprocess.run([sys.executable, "-c", code, parent], cwd=REPO, timeout=30, check=True)
        assert time.monotonic() - t0 < 10, parent


def process_alive(pid: int) -> bool:
    """Whether ``pid`` exists and is not a zombie."""
    try:
        stat = open(f"/proc/{pid}/stat").read()
    except OSError:
        return False
    return stat.rsplit(")", 1)[-1].split()[0] not in ("Z", "X")


def wait_gone(pids, timeout: float) -> bool:
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if not any(process_alive(p) for p in pids):
            return True
        time.sleep(0.1)
    return False


@pytest.mark.parametrize("position,free,left,expected", [
    (1, 1, [], jobs.WaitEstimate(1, 0.0)),  # a worker is free: it starts at the next round
    (1, 0, [120.0, 30.0], jobs.WaitEstimate(1, 30.0, "about")),
    (3, 0, [120.0, 30.0], jobs.WaitEstimate(3, 30.0, "at least")),
    (1, 0, [120.0, None], jobs.WaitEstimate(1, None)),  # one has not measured its speed
    (2, 1, [None], jobs.WaitEstimate(2, None)),
])
def test_estimate_wait(position, free, left, expected):
    assert jobs.estimate_wait(position, free, left) == expected


def test_overview_tells_counts_only():
    assert jobs.QueueView(2, 3, 1, 2, 2).describe() == (
        "1 job of other people running; 3 waiting in the queue. This server trains 2 jobs at "
        "a time, first come, first served, one per person.")
    assert jobs.QueueView(0, 0, 0, 0, 1).describe().startswith("No one else's job is running; 0 ")
