"""Checkpoints never strand a run: unreadable ones are set aside, a SIGKILL loses no time and no
exactness, and one process at a time holds a run folder."""

import json
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import keras
import numpy as np
import pytest
import tensorflow as tf

from data.pipeline import training_batches
from utils.reporting.files import write_text_atomically
from utils.running.experiment import Experiment, ExperimentError
from utils.running.run_lock import LOCK_FILE, RunLock, RunLocked
from utils.running.stopping import STOP_SIGNALS, stop_on_signals
from utils.running.training import (TRAINING_SECONDS_KEY, UNREADABLE_FOLDER, Checkpoints,
                                    NoReadableCheckpoint, tensorflow_message)

REPOSITORY = Path(__file__).resolve().parent.parent


class Weights:
    """A stand-in for a model: one small network, its kernel set by hand."""

    def __init__(self):
        self.network = keras.layers.Dense(3)
        self.network.build((None, 2))

    def checkpoint_objects(self):
        return {"network": self.network}

    def set(self, value):
        self.network.kernel.assign(np.full((2, 3), value, np.float32))

    def value(self):
        return float(self.network.kernel.numpy()[0, 0])


def save_checkpoints(folder, iterations):
    """Checkpoints at the given iterations, each with kernel = iteration and 10 s of training per iteration."""
    weights = Weights()
    checkpoints = Checkpoints(weights, folder)
    for iteration in iterations:
        weights.set(iteration)
        checkpoints.save(iteration, 10.0 * iteration)
    return checkpoints


def truncate_data(prefix):
    data, = Path(prefix).parent.glob(Path(prefix).name + ".data-*")
    with open(data, "r+b") as file:
        file.truncate(data.stat().st_size // 2)


def empty_index(prefix):
    Path(prefix + ".index").write_bytes(b"")


@pytest.mark.parametrize("damage", [truncate_data, empty_index])
def test_an_unreadable_newest_checkpoint_is_set_aside_and_the_one_before_it_restored(damage, tmp_path, capsys):
    newest = save_checkpoints(tmp_path, [2, 4]).latest
    damage(newest)

    weights = Weights()
    checkpoints = Checkpoints(weights, tmp_path)
    assert checkpoints.restore_latest() == 2
    assert weights.value() == 2.0 and checkpoints.training_seconds == 20.0
    warning = capsys.readouterr().out.strip()
    assert len(warning.splitlines()) == 1 and warning.startswith(f"warning: checkpoint {newest} cannot be read")
    assert sorted(path.name for path in (tmp_path / UNREADABLE_FOLDER).iterdir()) == [
        "ckpt-4.data-00000-of-00001", "ckpt-4.index"]

    # The `checkpoint` file forgot it: saves, max_to_keep and the next restore count only what is there.
    assert [Path(path).name for path in checkpoints.paths] == ["ckpt-2"]
    weights.set(6)
    checkpoints.save(6, 5.0)
    weights.set(8)
    checkpoints.save(8, 7.0)
    assert [Path(path).name for path in checkpoints.paths] == ["ckpt-6", "ckpt-8"]
    assert not list(tmp_path.glob("ckpt-2.*"))
    again = Weights()
    restored = Checkpoints(again, tmp_path)
    assert restored.restore_latest() == 8 and again.value() == 8.0
    assert restored.training_seconds == 20.0 + 7.0


def test_a_fallback_in_a_relative_folder_leaves_the_checkpoint_file_readable(tmp_path, monkeypatch):
    # The default --checkpoint_dir is relative: the next invocation must still find the fallback.
    monkeypatch.chdir(tmp_path)
    truncate_data(save_checkpoints(Path("checkpoints/run/0_0"), [2, 4]).latest)
    assert Checkpoints(Weights(), Path("checkpoints/run/0_0")).restore_latest() == 2
    weights = Weights()
    assert Checkpoints(weights, Path("checkpoints/run/0_0")).restore_latest() == 2 and weights.value() == 2.0


def test_no_readable_checkpoint_is_a_one_line_error_that_says_what_to_do(tiny_config, digits, tmp_path, capsys):
    checkpoints = save_checkpoints(tmp_path, [2, 4])
    truncate_data(checkpoints.paths[1])
    empty_index(checkpoints.paths[0])
    with pytest.raises(NoReadableCheckpoint) as error:
        Checkpoints(Weights(), tmp_path).restore_latest()
    message = str(error.value)
    assert len(message.splitlines()) == 1
    assert f"no checkpoint in {tmp_path} can be read (ckpt-4, ckpt-2)" in message
    assert f"Delete {tmp_path} to train this class again" in message
    assert len(list((tmp_path / UNREADABLE_FOLDER).iterdir())) == 4
    capsys.readouterr()

    # The folder keeps saying so (the files are kept aside, not deleted) until it is deleted.
    experiment = Experiment(tiny_config(checkpoint_dir=str(tmp_path / "run")), digits)
    with pytest.raises(ExperimentError, match="no checkpoint in .* can be read"):
        experiment.restore(Checkpoints(Weights(), tmp_path))


def test_a_checkpoint_error_names_the_folder_without_tensorflows_internals(tmp_path, monkeypatch):
    checkpoints = Checkpoints(Weights(), tmp_path)

    def full_disk(checkpoint_number):
        raise tf.errors.ResourceExhaustedError(None, None, (
            "{{function_node __wrapped__SaveV2_dtypes_3_device_/job:localhost/replica:0/task:0/device:CPU:0}} "
            f"{tmp_path}/ckpt-5_temp/part-00000-of-00001.data-00000-of-00001.tempstate42; No space left on device "
            "[Op:SaveV2]"))

    monkeypatch.setattr(checkpoints.manager, "save", full_disk)
    with pytest.raises(OSError) as raised:
        checkpoints.save(5, 1.0)
    assert str(raised.value) == (f"cannot save a checkpoint in {tmp_path}: {tmp_path}/ckpt-5_temp/part-00000-of-00001"
                                 ".data-00000-of-00001.tempstate42; No space left on device")
    assert tensorflow_message(tf.errors.NotFoundError(None, None, "plain")) == "plain"


def test_an_atomic_write_that_fails_midway_leaves_the_old_file_whole(tmp_path, monkeypatch):
    path = tmp_path / "metrics.json"
    write_text_atomically(path, "old\n")

    def crash(descriptor):
        raise OSError("disk full")

    monkeypatch.setattr(os, "fsync", crash)
    with pytest.raises(OSError, match="disk full"):
        write_text_atomically(path, "new\n" * 1000)
    assert path.read_text() == "old\n" and os.listdir(tmp_path) == ["metrics.json"]


# The run lock.


def write_lock(folder, pid, host=None):
    folder.mkdir(parents=True, exist_ok=True)
    (folder / LOCK_FILE).write_text(json.dumps({"pid": pid, "host": host or socket.gethostname(),
                                                "since": "2024-01-01 00:00:00 +0000", "command": "main.py"}))


def lock_in_another_process(folder, then="pass"):
    return subprocess.run([sys.executable, "-c", f"from utils.running.run_lock import RunLock\n"
                           f"RunLock({str(folder)!r}).acquire()\n{then}"],
                          cwd=REPOSITORY, capture_output=True, text=True, timeout=60)


def test_a_second_process_is_refused_with_the_holders_name(tmp_path):
    lock = RunLock(tmp_path)
    lock.acquire()
    try:
        refused = lock_in_another_process(tmp_path)
        assert refused.returncode != 0
        last_line = refused.stderr.strip().splitlines()[-1]
        assert last_line.startswith(f"utils.running.run_lock.RunLocked: {tmp_path} is in use by process "
                                    f"{os.getpid()} on {socket.gethostname()} since ")
        assert f"delete {tmp_path / LOCK_FILE} and run again" in last_line
    finally:
        lock.release()
    assert not (tmp_path / LOCK_FILE).exists()


def test_a_live_holder_refuses_through_the_experiment_in_one_line(tiny_config, digits, tmp_path):
    config = tiny_config(checkpoint_dir=str(tmp_path))
    experiment = Experiment(config, digits)
    class_folder = experiment.checkpoint_folder(0)
    write_lock(class_folder, pid=1)  # init: alive, and never this process
    with pytest.raises(ExperimentError) as error:
        experiment.train_class(0)
    assert str(error.value).startswith(f"{class_folder} is in use by process 1 on "
                                       f"{socket.gethostname()} since 2024-01-01 00:00:00 +0000 (command: main.py)")
    assert len(str(error.value).splitlines()) == 1
    assert json.loads((class_folder / LOCK_FILE).read_text())["pid"] == 1


def test_a_lock_on_another_host_is_never_taken_over(tmp_path):
    write_lock(tmp_path, pid=os.getpid(), host="elsewhere.example")
    with pytest.raises(RunLocked, match=f"in use by process {os.getpid()} on elsewhere.example"):
        RunLock(tmp_path).acquire()


def test_a_dead_holders_lock_is_taken_over_with_a_warning(tmp_path, capsys):
    finished = subprocess.Popen([sys.executable, "-c", "pass"])
    finished.wait()
    write_lock(tmp_path, pid=finished.pid)
    lock = RunLock(tmp_path)
    lock.acquire()
    warning = capsys.readouterr().out.strip()
    assert warning == (f"warning: taking over {tmp_path / LOCK_FILE} from process {finished.pid} on "
                       f"{socket.gethostname()} (since 2024-01-01 00:00:00 +0000), which is no longer running")
    holder = json.loads((tmp_path / LOCK_FILE).read_text())
    assert holder["pid"] == os.getpid() and {"host", "since", "command"} <= set(holder)
    lock.release()
    assert not (tmp_path / LOCK_FILE).exists()


def test_the_lock_is_reentrant_in_a_process_and_goes_with_its_last_holder(tmp_path):
    first, second = RunLock(tmp_path), RunLock(tmp_path)
    first.acquire()
    first.acquire()
    second.acquire()
    first.release()
    assert (tmp_path / LOCK_FILE).exists()
    second.release()
    assert not (tmp_path / LOCK_FILE).exists()


@pytest.mark.parametrize("then", ["pass", "raise KeyboardInterrupt", "raise ValueError('boom')"])
def test_the_lock_goes_when_the_process_ends(then, tmp_path):
    assert (lock_in_another_process(tmp_path, then).returncode == 0) == (then == "pass")
    assert not (tmp_path / LOCK_FILE).exists()


# End to end: a training killed with SIGKILL, resumed, then tested on a damaged newest checkpoint.


def command(folder, phase="train"):
    return [sys.executable, "main.py", "--dataset", "digits", "--train_object", "0", "--phase", phase,
            "--width", "2", "--batch_size", "8", "--iterations", "40", "--checkpoint_every", "5", "--no_xla",
            "--results_dir", str(folder / "results"), "--checkpoint_dir", str(folder / "checkpoints")]


def class_folder(folder):
    folder, = (folder / "checkpoints" / "digits").glob("*/0_0")
    return folder


def saved_values(prefix):
    reader = tf.train.load_checkpoint(prefix)
    return {name: reader.get_tensor(name) for name in reader.get_variable_to_shape_map()
            if name != "_CHECKPOINTABLE_OBJECT_GRAPH"}


@pytest.mark.slow
def test_a_run_killed_mid_training_resumes_to_the_uninterrupted_weights(tmp_path):
    environment = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"}

    def run(arguments):
        return subprocess.Popen(arguments, cwd=REPOSITORY, env=environment, stdout=subprocess.PIPE,
                                stderr=subprocess.STDOUT, text=True)

    uninterrupted = run(command(tmp_path / "uninterrupted"))
    killed = run(command(tmp_path / "killed"))
    # A generous deadline: on a loaded machine, two runs start TensorFlow and trace their step side by side.
    deadline = time.monotonic() + 300
    # TensorFlow lists a checkpoint in the `checkpoint` file once it is complete.
    while not list((tmp_path / "killed" / "checkpoints").glob("digits/*/0_0/checkpoint")):
        assert killed.poll() is None, "the run ended before its first checkpoint: " + killed.communicate()[0]
        assert time.monotonic() < deadline, "no checkpoint within 300 s"
        time.sleep(0.05)
    killed.send_signal(signal.SIGKILL)
    killed.wait()
    folder = class_folder(tmp_path / "killed")
    left = Checkpoints(Weights(), folder).latest
    killed_at = int(left.rsplit("-", 1)[1])
    assert killed_at % 5 == 0 and 0 < killed_at < 40
    killed_seconds = saved_values(left)[TRAINING_SECONDS_KEY]
    assert killed_seconds > 0
    assert (folder / LOCK_FILE).exists()  # SIGKILL leaves its lock behind

    resumed = subprocess.run(command(tmp_path / "killed"), cwd=REPOSITORY, env=environment, capture_output=True,
                             text=True, timeout=300)
    assert resumed.returncode == 0, resumed.stdout + resumed.stderr
    assert f"resuming at iteration {killed_at}" in resumed.stdout
    assert "taking over" in resumed.stdout and "which is no longer running" in resumed.stdout
    assert not (folder / LOCK_FILE).exists()
    output, _ = uninterrupted.communicate(timeout=300)
    assert uninterrupted.returncode == 0, output

    expected = saved_values(class_folder(tmp_path / "uninterrupted") / "ckpt-40")
    actual = saved_values(folder / "ckpt-40")
    # Every session's time is counted, the killed one's up to its last checkpoint.
    assert actual.pop(TRAINING_SECONDS_KEY) > killed_seconds
    expected.pop(TRAINING_SECONDS_KEY)
    # It counts one session's saves, and is not restored.
    del expected["save_counter/.ATTRIBUTES/VARIABLE_VALUE"], actual["save_counter/.ATTRIBUTES/VARIABLE_VALUE"]
    assert expected.keys() == actual.keys() and len(expected) > 20
    for name, value in expected.items():
        np.testing.assert_array_equal(actual[name], value, err_msg=name)

    # Testing on a damaged newest checkpoint uses the one before it and records its training time.
    truncate_data(str(folder / "ckpt-40"))
    tested = subprocess.run(command(tmp_path / "killed", "test"), cwd=REPOSITORY, env=environment,
                            capture_output=True, text=True, timeout=300)
    assert tested.returncode == 0, tested.stdout + tested.stderr
    assert f"warning: checkpoint {folder / 'ckpt-40'} cannot be read" in tested.stdout
    assert "was trained for 35 of 40 iterations" in tested.stdout
    assert (folder / UNREADABLE_FOLDER / "ckpt-40.index").exists()
    metrics, = (tmp_path / "killed" / "results").glob("digits/*/s_rec/0_0/metrics.json")
    metrics = json.loads(metrics.read_text())
    assert metrics["trained_iterations"] == 35 and metrics["training_seconds"] > 0


def test_a_checkpoint_that_cannot_be_read_for_a_passing_reason_is_not_set_aside(tmp_path, monkeypatch):
    checkpoints = save_checkpoints(tmp_path, [2, 4])

    def unavailable(self, path):
        raise tf.errors.UnavailableError(None, None, "the network file system is away")

    monkeypatch.setattr(Checkpoints, "_restore", unavailable)
    with pytest.raises(OSError, match=r"cannot read checkpoint .*ckpt-4: the network file system is away"):
        Checkpoints(Weights(), tmp_path).restore_latest()
    assert not (tmp_path / UNREADABLE_FOLDER).exists() and [Path(p).name for p in checkpoints.paths] == [
        "ckpt-2", "ckpt-4"]


# SIGTERM: training stops after the step under way, inside a compiled call of several steps, and saves it.


@pytest.fixture
def stop_signals():
    """The program's handling of SIGTERM and Ctrl-C in this process while the test runs."""
    handlers = {signum: signal.getsignal(signum) for signum in STOP_SIGNALS}
    stop_on_signals()
    yield
    for signum, handler in handlers.items():
        signal.signal(signum, handler)


@pytest.mark.slow
def test_sigterm_stops_at_the_next_step_saves_it_and_the_resumed_run_is_exact(stop_signals, tiny_config, digits,
                                                                               tmp_path, monkeypatch, capsys):
    settings = {"iterations": 20, "checkpoint_every": 10}
    uninterrupted = Experiment(tiny_config(checkpoint_dir=str(tmp_path / "uninterrupted"), **settings), digits)
    uninterrupted.train_class(0)
    expected = saved_values(str(uninterrupted.checkpoint_folder(0) / "ckpt-20"))
    capsys.readouterr()

    def sigterm_while_making_iteration(iteration):
        def send(index):
            if int(index) == iteration:
                os.kill(os.getpid(), signal.SIGTERM)
                # The signal's thread sets the stop while the pipeline waits here.
                time.sleep(1.0)
            return index

        def with_signal(*arguments, **keywords):
            batches = training_batches(*arguments, **keywords)
            start = arguments[3]
            iterations = tf.data.Dataset.range(start, start + batches.cardinality())

            def passing(index, inputs):
                sent = tf.py_function(send, [index], tf.int64)
                with tf.control_dependencies([sent]):
                    return tf.nest.map_structure(tf.identity, inputs)
            return tf.data.Dataset.zip((iterations, batches)).map(passing)
        return with_signal

    experiment = Experiment(tiny_config(checkpoint_dir=str(tmp_path / "stopped"), **settings), digits)
    monkeypatch.setattr("utils.running.experiment.training_batches", sigterm_while_making_iteration(13))
    with pytest.raises(KeyboardInterrupt):
        experiment.train_class(0)
    # The compiled loop runs 10 steps per call here: it stopped inside its second call, after iteration 13.
    assert experiment.fresh_model().steps_per_execution == 10
    folder = experiment.checkpoint_folder(0)
    assert Checkpoints(Weights(), folder).latest == str(folder / "ckpt-13")
    assert "iteration 20" not in capsys.readouterr().out

    monkeypatch.undo()
    experiment.train_class(0)
    assert "resuming at iteration 13" in capsys.readouterr().out
    actual = saved_values(str(folder / "ckpt-20"))
    for values in (expected, actual):
        del values[TRAINING_SECONDS_KEY], values["save_counter/.ATTRIBUTES/VARIABLE_VALUE"]
    assert expected.keys() == actual.keys() and len(expected) > 20
    for name, value in expected.items():
        np.testing.assert_array_equal(actual[name], value, err_msg=name)
