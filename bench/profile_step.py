"""Where the training step's time goes: the TensorFlow profiler's trace of the compiled step, by kind of operation.

    python bench/profile_step.py --width 16 --batch_size 64
    python bench/profile_step.py --width 8 --batch_size 32 --channels 1 --no_xla
    python bench/profile_step.py --method adcgan --width 16 --batch_size 64

A few steps are traced (tf.profiler) after the step is compiled, and the operations the trace records
on the compute threads are summed by kind: an XLA step's operations are its compiled kernels
(`convolution`, `convolution-base-dilated` for the input gradient of a strided convolution,
`transpose_copy_fusion`, `multiply_reduce_fusion`, ... with their numbers dropped), a plain step's
are TensorFlow ops (Conv2D, Conv2DBackpropFilter, ...). AD-CGAN's traced steps are past its warm-up
(none is set), so each runs the autoencoder update and the adversarial one. Times are summed over
threads, so the shares are of the traced compute time, not of the wall time; the trace is written to
--logdir for TensorBoard's profile plugin.
"""

import argparse
import collections
import os
import re
import sys
import tempfile
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import tensorflow as tf  # noqa: E402
from tensorflow.tsl.profiler.protobuf import xplane_pb2  # noqa: E402

from data.pipeline import training_batches  # noqa: E402
from models.registry import METHODS  # noqa: E402
from utils.running.config import Config  # noqa: E402
from utils.running.experiment import build_model  # noqa: E402

# Events that wrap other events (executors, function calls, the input pipeline): counting them would count twice.
WRAPPERS = ("ThunkExecutor", "ExecutorState", "CpuExecutable", "BlockUntilReady", "Eager", "TFE_", "KernelAndDevice",
            "multi_step", "MakeIterator", "Iterator::", "ParallelMap", "Prefetch", "__inference", "FunctionRun",
            "tf_data", "RunAsync", "DoCompute")


def parse_arguments():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--method", choices=sorted(METHODS), default="dgad")
    parser.add_argument("--width", type=int, default=16)
    parser.add_argument("--batch_size", type=int, default=64)
    parser.add_argument("--channels", type=int, default=3)
    parser.add_argument("--steps", type=int, default=5, help="steps traced")
    parser.add_argument("--top", type=int, default=15, help="kinds of operation listed")
    parser.add_argument("--no_xla", action="store_true")
    parser.add_argument("--logdir", default=None, help="where the trace goes (default: a temporary folder)")
    return parser.parse_args()


def operation_kind(name: str) -> str:
    """`convolution.86` -> `convolution`; `encoder/conv2d/Conv2D:Conv2D` -> `Conv2D`."""
    return re.sub(r"\.\d+$", "", name.rsplit(":", 1)[-1])


def seconds_by_kind(trace_file: Path) -> collections.Counter:
    space = xplane_pb2.XSpace()
    space.ParseFromString(trace_file.read_bytes())
    seconds = collections.Counter()
    for plane in space.planes:
        names = {key: metadata.name for key, metadata in plane.event_metadata.items()}
        for line in plane.lines:
            # The Python thread only waits for the compute threads.
            if line.name == "python":
                continue
            for event in line.events:
                name = names.get(event.metadata_id, "")
                if name and not any(wrapper in name for wrapper in WRAPPERS):
                    seconds[operation_kind(name)] += event.duration_ps / 1e12
    return seconds


def main():
    arguments = parse_arguments()
    shape = (32, 32, arguments.channels)
    images = tf.random.stateless_uniform((512, *shape), seed=[0, 0], minval=-1, maxval=1)
    model = build_model(Config(method=arguments.method, width=arguments.width, batch_size=arguments.batch_size,
                               jit_compile=not arguments.no_xla), shape)
    batches = training_batches(images, arguments.batch_size, 0, 0, 10**6, training_inputs=model.training_inputs)
    model.fit(batches, epochs=1, steps_per_epoch=2, verbose=0, shuffle=False)
    logdir = Path(arguments.logdir or tempfile.mkdtemp())
    tf.profiler.experimental.start(str(logdir))
    model.fit(batches, epochs=1, steps_per_epoch=arguments.steps, verbose=0, shuffle=False)
    tf.profiler.experimental.stop()
    seconds = seconds_by_kind(sorted(logdir.glob("plugins/profile/*/*.xplane.pb"))[-1])
    total = sum(seconds.values())
    print(f"{arguments.method} {'plain tf.function' if arguments.no_xla else 'XLA'} step, width {arguments.width}, "
          f"batch {arguments.batch_size}, 32x32x{arguments.channels}: {total / arguments.steps * 1000:.0f} ms of traced "
          f"compute per step (summed over threads); trace in {logdir}")
    print("| operation | ms/step | share |")
    print("| --- | ---: | ---: |")
    for kind, kind_seconds in seconds.most_common(arguments.top):
        print(f"| `{kind}` | {kind_seconds / arguments.steps * 1000:.1f} | {kind_seconds / total:.1%} |")


if __name__ == "__main__":
    main()
