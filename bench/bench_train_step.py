"""Training-step speed: a plain tf.function step (no XLA) against the XLA step, side by side in one run.

    python bench/bench_train_step.py --width 16 --batch_size 64
    python bench/bench_train_step.py --method adcgan --width 8 --batch_size 32 --channels 1
    python bench/bench_train_step.py --width 8 --batch_size 32 --channels 1 --precision mixed_bfloat16

With --precision, a third model, the XLA step under that Keras policy, runs in the same rounds. All
models are built from the same Config and fed by the same pipeline. The rounds of timed
steps alternate between the models so that drift in the machine's load hits both alike; the median
round is reported.
"""

import argparse
import os
import sys
import time
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import tensorflow as tf  # noqa: E402

from bench.timing import median_seconds_per_call  # noqa: E402
from data.pipeline import training_batches  # noqa: E402
from models.registry import METHODS  # noqa: E402
from utils.running.config import Config  # noqa: E402
from utils.running.devices import PRECISIONS  # noqa: E402
from utils.running.experiment import build_model  # noqa: E402


def parse_arguments():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--method", choices=sorted(METHODS), default="dgad")
    parser.add_argument("--width", type=int, default=16)
    parser.add_argument("--batch_size", type=int, default=64)
    parser.add_argument("--image_size", type=int, default=32)
    parser.add_argument("--channels", type=int, default=3)
    parser.add_argument("--protocol", type=int, default=None, help="DGAD's pretext task (default: 1)")
    parser.add_argument("--steps", type=int, default=10, help="steps per timed round")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--precision", choices=[p for p in PRECISIONS if p != "float32"], default=None,
                        help="also time the XLA step under this policy")
    return parser.parse_args()


def main():
    arguments = parse_arguments()
    images = tf.random.stateless_uniform((512, arguments.image_size, arguments.image_size, arguments.channels),
                                         seed=[0, 0], minval=-1, maxval=1)
    models = {}
    contenders = [("plain tf.function", False, "float32"), ("XLA", True, "float32")]
    if arguments.precision:
        contenders.append((f"XLA, {arguments.precision}", True, arguments.precision))
    for name, jit_compile, precision in contenders:
        config = Config(method=arguments.method, width=arguments.width, batch_size=arguments.batch_size,
                        protocol=arguments.protocol, image_size=arguments.image_size, jit_compile=jit_compile,
                        precision=precision)
        model = build_model(config, (arguments.image_size, arguments.image_size, arguments.channels))
        # All models draw their step's inputs alike (the same seeds, in the pipeline); each maps its own.
        batches = training_batches(images, arguments.batch_size, 0, 0, 10**6, training_inputs=model.training_inputs)
        started = time.perf_counter()
        model.fit(batches, epochs=1, steps_per_epoch=2, verbose=0, shuffle=False)
        print(f"{name}: first 2 steps (tracing and compiling) {time.perf_counter() - started:.1f} s", flush=True)
        models[name] = model, batches
    median = median_seconds_per_call(
        {name: lambda model=model, batches=batches: model.fit(batches, epochs=1, steps_per_epoch=arguments.steps,
                                                              verbose=0, shuffle=False)
         for name, (model, batches) in models.items()},
        calls_per_round=1, rounds=arguments.rounds)
    median = {name: seconds / arguments.steps for name, seconds in median.items()}
    task = f", protocol {config.protocol}" if config.protocol else ""
    print(f"{arguments.method}, width {arguments.width}, batch {arguments.batch_size}, {arguments.image_size}x"
          f"{arguments.image_size}x{arguments.channels}{task}, {os.cpu_count()} CPUs")
    for name, seconds in median.items():
        print(f"  {name:26s} {seconds * 1000:8.1f} ms/step  {1 / seconds:6.2f} it/s")
    plain, xla, *policy = median.values()
    print(f"  speed-up of XLA over the plain step: {plain / xla:.2f}x")
    if policy:
        print(f"  speed-up of {arguments.precision} over float32, both XLA: {xla / policy[0]:.2f}x")


if __name__ == "__main__":
    main()
