"""--distribute: a distributed training step equals the single-device step, on 2 logical CPU devices (mirrored)
and on two local worker processes (multi_worker).

Each runs tests/distributed_step.py in fresh processes: the devices must be set up before TensorFlow starts.
A file of its own, which tests/conftest.py puts first: its processes take longer than any other file's tests.
"""

import json
import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest

SCRIPT = Path(__file__).parent / "distributed_step.py"


def run_script(distribute: str, output: Path, environment: dict | None = None) -> subprocess.Popen:
    # Without conftest.py's one-thread pools: the replicas' collective operations wait on each other.
    inherited = {name: value for name, value in os.environ.items() if not name.startswith("TF_NUM_")}
    return subprocess.Popen([sys.executable, str(SCRIPT), distribute, str(output)],
                            env={**inherited, **(environment or {})})


def finished(processes: list[subprocess.Popen]) -> list[int]:
    """The exit codes of `processes`; none is left running (a worker whose peer died waits in a collective op)."""
    try:
        return [process.wait(timeout=900) for process in processes]
    finally:
        for process in processes:
            process.kill()


def assert_steps_match(output: Path, local_copies: int, methods: tuple[str, ...]):
    results = json.loads(output.read_text())
    assert set(results) - {"training_loop_checkpoints", "odd_batch_error"} == set(methods)
    for method in methods:
        assert results[method]["replicas"] == 2 and results[method]["local_copies"] == local_copies
        assert results[method]["losses"] < 1e-4, method
        assert results[method]["mismatched_variables"] == [], method
        # Each moved weight would differ by its whole update if the replicas' gradients were summed unweighted.
        assert results[method]["moved_trainable_variables"] > 0.5 * results[method]["trainable_variables"], method
    assert results["training_loop_checkpoints"] == ["ckpt-2", "ckpt-4"]
    return results


@pytest.mark.slow
def test_a_mirrored_step_on_two_devices_equals_the_single_device_step(tmp_path):
    assert finished([run_script("mirrored", tmp_path / "mirrored.json")]) == [0]
    results = assert_steps_match(tmp_path / "mirrored.json", local_copies=2, methods=("dgad", "adcgan"))
    assert results["odd_batch_error"] == ("--batch_size 7 does not split over the 2 replicas of --distribute "
                                          "mirrored; pass a multiple of 2")


def free_ports(count: int) -> list[int]:
    """`count` distinct ports that are free now (held open together, so that none is handed out twice)."""
    probes = [socket.socket() for _ in range(count)]
    try:
        for probe in probes:
            probe.bind(("127.0.0.1", 0))
        return [probe.getsockname()[1] for probe in probes]
    finally:
        for probe in probes:
            probe.close()


@pytest.mark.slow
def test_a_step_of_two_local_workers_equals_the_single_device_step(tmp_path):
    workers = [f"127.0.0.1:{port}" for port in free_ports(2)]
    processes = [run_script("multi_worker", tmp_path / "workers.json", {"TF_CONFIG": json.dumps(
        {"cluster": {"worker": workers}, "task": {"type": "worker", "index": index}})}) for index in range(2)]
    assert finished(processes) == [0, 0]
    # Each worker holds its one replica's copies; worker 0 writes the results. DGAD's step alone: the mirrored test
    # covers both methods, and the collectives across processes do not depend on the method.
    assert_steps_match(tmp_path / "workers.json", local_copies=1, methods=("dgad",))
