"""Training jobs on a Ray cluster (:mod:`cnnlib.jobs.ray_runner`), on a two-node
``ray.cluster_utils.Cluster`` on 127.0.0.1 (one per module; the second node has a
custom resource ``lab_pc``): the events reach the run directory and the Train page,
a custom resource places the job, Stop ends it (and a stop the task never hears is
forced), a node that leaves fails its job with a sentence, two owners stay apart,
the saved model loads, nothing is left running, and Ray listens on the loopback
address only.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from testutil import REPO, requires_shared_data, tiny_config

from cnnlib import jobs, paths, store
from cnnlib.jobs import ray_runner
from cnnlib.owners import NotOwnerError
from tests.support.sockets import listening

pytestmark = requires_shared_data

def alive(pid: int) -> bool:
    """Whether process ``pid`` exists and is not a zombie."""
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] not in "ZX"
    except OSError:
        return False


def wait_until(predicate, timeout: float = 120, interval: float = 0.2):
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        value = predicate()
        if value:
            return value
        time.sleep(interval)
    raise AssertionError("timed out")


@pytest.fixture(scope="module")
def cluster(tmp_path_factory):
    """A head node (1 CPU) and a "lab PC" node (1 CPU, resource ``lab_pc``), on 127.0.0.1;
    the listening sockets they opened are checked when the module ends."""
    old = os.environ.get("RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER")
    os.environ["RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER"] = "0"  # every node on 127.0.0.1
    from ray.cluster_utils import Cluster

    before = listening()
    c = Cluster(initialize_head=True, head_node_args={"num_cpus": 1})
    c.lab_pc = c.add_node(num_cpus=1, resources={"lab_pc": 1})
    c.wait_for_nodes()
    try:
        yield c
        opened = listening() - before
        assert opened, "the cluster opened no socket?"
        assert all(s.loopback for s in opened), sorted(map(str, opened))
    finally:
        import ray

        ray.shutdown()
        c.shutdown()
        if old is None:
            os.environ.pop("RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER", None)
        else:
            os.environ["RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER"] = old


@pytest.fixture
def home(tmp_path, monkeypatch):
    monkeypatch.setenv("CNN_STUDIO_HOME", str(tmp_path / "home"))
    return tmp_path / "home"


def manager_on(cluster, **runner_args) -> jobs.JobManager:
    return jobs.JobManager(runner=ray_runner.RayRunner(cluster.address, **runner_args))


def test_a_ray_job_writes_its_run_on_the_server_and_its_model_loads(cluster, home, tmp_path):
    m = manager_on(cluster)
    try:
        assert m.max_running == 2  # two nodes of 1 CPU, a job asks for 1
        job = m.start(tiny_config(epochs=2), owner="A").wait(timeout=240)
        assert job.state == "finished", job.error
        assert "127.0.0.1" in job.where and job.pid is None
        worker = job._worker.node_pid  # the Ray worker process that trained it (this machine)
        assert alive(worker)
        run = job.run_dir
        assert run.path.parent == paths.runs_dir()  # the server's runs folder, not the node's
        batches = job.of_type("batch")
        assert len(batches) >= 9 * 2 - 2 and job.of_type("epoch")
        written = run.events()  # history.jsonl, written by the server from the stream
        assert [e["type"] for e in written] == [e["type"] for e in job.events]
        assert run.job()["where"] == job.where and run.job()["state"] == "finished"
        assert run.result()["test_accuracy"] == job.last("end")["test_accuracy"]
        assert run.predictions() is not None
        store.import_run(run, "from-ray", models_dir=tmp_path / "models")
        model = store.load_model("from-ray", tmp_path / "models")
        assert model.output_shape == (None, 10)
    finally:
        m.shutdown()
    # the server stopped: its worker process is gone from the node (all are this machine's)
    wait_until(lambda: not alive(worker), timeout=60)


def test_a_job_asking_for_a_custom_resource_runs_on_the_node_that_has_it(cluster, home):
    m = manager_on(cluster, resources={"lab_pc": 1})
    try:
        assert m.max_running == 1  # one node has lab_pc
        job = m.start(tiny_config(n_train=128, validation_split=0)).wait(timeout=240)
        assert job.state == "finished", job.error
        assert job._worker.node_id == cluster.lab_pc.node_id
    finally:
        m.shutdown()


def test_stop_ends_the_job_after_the_batch_in_flight(cluster, home):
    m = manager_on(cluster)
    try:
        job = m.start(tiny_config(epochs=50, n_train=2000), owner="A")
        wait_until(lambda: job.poll().of_type("batch"), timeout=120)
        with pytest.raises(NotOwnerError):
            m.stop(job.id, "B")
        t = time.monotonic()
        m.stop(job.id, "A")
        job.wait(timeout=60)
        assert job.state == "stopped", job.error
        assert time.monotonic() - t < 10
        assert job.run_dir.result()["status"] == "stopped"
        assert (job.run_dir.path / "best.keras").exists() or not job.of_type("epoch")
    finally:
        m.shutdown()


def test_a_stop_the_task_never_hears_is_forced_after_the_grace_period(cluster, home, monkeypatch):
    monkeypatch.setattr(ray_runner, "STOP_GRACE_S", 2.0)
    m = manager_on(cluster)
    try:
        job = m.start(tiny_config(epochs=50, n_train=2000))
        wait_until(lambda: job.poll().of_type("batch"), timeout=120)
        import ray

        deaf = ray.remote(num_cpus=0)(ray_runner.ray_task.StopBoard).remote()
        m.runner.board = deaf  # the request goes to a board the task does not read
        m.stop(job.id, "")
        job.wait(timeout=60)
        assert job.state == "failed"
        assert job.error == "it did not stop within 2 s of the request, so it was ended by force."
    finally:
        m.shutdown()


def test_a_job_whose_node_leaves_fails_with_a_sentence_naming_the_machine(cluster, home):
    doomed = cluster.add_node(num_cpus=1, resources={"doomed": 1})
    cluster.wait_for_nodes()
    m = manager_on(cluster, resources={"doomed": 1})
    try:
        job = m.start(tiny_config(epochs=50, n_train=2000))
        wait_until(lambda: job.poll().of_type("batch"), timeout=120)
        where = job.where
        cluster.remove_node(doomed)
        job.wait(timeout=90)
        assert job.state == "failed"
        assert job.error == (f"the machine running it ({where}) left the Ray cluster or stopped "
                             "during the run.")
        assert job.run_dir.state() == "failed" and job.run_dir.ended()
    finally:
        m.shutdown()


def test_two_owners_jobs_run_side_by_side_and_stay_apart(cluster, home):
    m = manager_on(cluster)
    try:
        a = m.start(tiny_config(n_train=256), owner="A")
        b = m.start(tiny_config(n_train=256), owner="B")
        assert m.get(a.id, "B") is None and m.get(b.id, "A") is None
        assert m.latest("A") is a and m.latest("B") is b
        view = m.queue_view("A")
        assert view.running + view.queued == 2 and view.others_running + view.others_queued == 1
        for job in (a, b):
            job.wait(timeout=240)
            assert job.state == "finished", job.error
        assert a.run_dir != b.run_dir
        assert a.run_dir.owner() != b.run_dir.owner()
        assert [e["type"] for e in a.run_dir.events()] == [e["type"] for e in a.events]
    finally:
        m.shutdown()


DRIVER = """
import os, sys, time
sys.path.insert(0, {repo!r}); sys.path.insert(0, {tests!r})
from testutil import tiny_config
from cnnlib import jobs
from cnnlib.jobs.ray_runner import RayRunner
m = jobs.JobManager(runner=RayRunner({address!r}))
job = m.start(tiny_config(epochs=50, n_train=2000))
while not job.poll().of_type("batch"):
    time.sleep(0.2)
print(job._worker.node_pid, flush=True)
time.sleep(600)
"""


def test_a_server_that_dies_takes_its_ray_tasks_with_it(cluster, home):
    """A server killed mid-job (SIGKILL: no shutdown) leaves no training task running:
    its tasks belong to its Ray driver, and Ray ends them with it."""
    code = DRIVER.format(repo=str(REPO), tests=str(REPO / "tests"), address=cluster.address)
    server = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE,
                              env={**os.environ}, start_new_session=True, text=True)
    try:
        worker = int(server.stdout.readline())
        assert alive(worker)
        os.killpg(server.pid, signal.SIGKILL)
        server.wait(timeout=30)
        wait_until(lambda: not alive(worker), timeout=90)
        # the next server finds the run it left "running" and says what happened
        (run,) = jobs.mark_interrupted()
        assert run.state() == "interrupted"
        assert run.job()["error"].startswith("The server stopped during the run (its Ray task on ")
    finally:
        if server.poll() is None:
            os.killpg(server.pid, signal.SIGKILL)


def test_the_train_page_follows_a_ray_job_as_a_local_one(cluster, home, tmp_path, monkeypatch):
    """With CNN_STUDIO_RAY_ADDRESS set the Train page's job runs on the cluster: its batch
    events reach the page (the curves, the network learning), the page says which
    machine trains it, and the results come from the run directory the server wrote."""
    import streamlit as st
    from test_page_train import markdown_text, open_page, wait_for

    monkeypatch.setenv("CNN_STUDIO_RAY_ADDRESS", cluster.address)
    at = open_page(tmp_path, monkeypatch)
    try:
        at.selectbox(key="train_arch").set_value("mnist_cnn")
        at.number_input(key="train_epochs").set_value(2)
        at.number_input(key="train_n_train").set_value(2000)
        at.button(key="train_start").click().run()
        assert not at.exception
        wait_for(at, lambda a: "Status: **running**" in markdown_text(a))
        wait_for(at, lambda a: "The network learning" in markdown_text(a), timeout=120)
        assert ", trained on " in markdown_text(at) and "(127.0.0.1)" in markdown_text(at)
        wait_for(at, lambda a: "Status: **finished**" in markdown_text(a))
        assert len(at.get("plotly_chart")) >= 3  # batch curves, epoch curves, confusion matrix
        assert any(m.label == "Test accuracy" for m in at.metric)
    finally:
        st.cache_resource.clear()  # the job manager shuts down, and its runner with it


def test_an_address_where_no_cluster_answers_gets_a_sentence_at_once(tmp_path, monkeypatch):
    """No cluster at CNN_STUDIO_RAY_ADDRESS: the Train page says so in a sentence within
    seconds (ray.init alone keeps retrying for minutes)."""
    import socket

    import streamlit as st
    from test_page_train import open_page

    with socket.socket() as s:  # a port nobody listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    monkeypatch.setenv("CNN_STUDIO_RAY_ADDRESS", f"127.0.0.1:{port}")
    st.cache_resource.clear()
    t = time.monotonic()
    try:
        at = open_page(tmp_path, monkeypatch)
        assert [e.value for e in at.error] == [
            f"Training is not available. No Ray cluster answers at 127.0.0.1:{port} "
            "(Connection refused); start it with ray start --head on that machine, or unset "
            "the variable."]
        assert not at.button and time.monotonic() - t < 60
    finally:
        st.cache_resource.clear()


def test_a_node_keeps_its_own_folders_and_takes_the_servers_other_settings(monkeypatch):
    """The server's job variables travel with the job, but a lab PC that set its own data
    folder (where ``ray start`` ran) keeps it: the server's paths mean nothing there."""
    from cnnlib.jobs import ray_task

    monkeypatch.setattr(ray_task, "_NODE_ENVIRONMENT",
                        {"CNN_STUDIO_DATA_DIR": "/lab/data", "PATH": "/usr/bin"})
    server = {"CNN_STUDIO_DATA_DIR": "/srv/data", "KERAS_HOME": "/srv/keras",
              "CNN_STUDIO_MAX_EPOCHS": "20"}
    assert ray_task.job_environment_on_node(server) == {
        "CNN_STUDIO_DATA_DIR": "/lab/data", "KERAS_HOME": "/srv/keras",
        "CNN_STUDIO_MAX_EPOCHS": "20"}
