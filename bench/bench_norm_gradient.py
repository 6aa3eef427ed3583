"""Instance norm's gradient: autodiff's (the model's) against a hand-written one, in the DGAD step, side by side.

    python bench/bench_norm_gradient.py --width 16 --batch_size 64
    python bench/bench_norm_gradient.py --width 8 --batch_size 32 --channels 1

The profile puts instance norm's reductions among the step's largest kernels (README, Speed).
Autodiff differentiates tf.nn.moments and the normalisation term by term; the textbook gradient
needs two reductions per layer, mean(g) and mean(g * x_hat) with g = dy * gamma:
dx = s * (g - mean(g) - x_hat * mean(g * x_hat)), s = 1 / sqrt(variance + epsilon) (0 for a constant
map, as in the layer). `--copies` models of each kind (default 2) are built from the same Config
and timed in interleaved rounds, so the spread between two models of one kind shows the
machine's noise beside the difference between kinds. The model keeps autodiff's gradient: the
README's Speed section says why.
"""

import argparse
import contextlib
import os
import statistics
import sys
import time
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import tensorflow as tf  # noqa: E402

from data.pipeline import training_batches  # noqa: E402
from models import layers  # noqa: E402
from utils.running.config import Config  # noqa: E402
from utils.running.experiment import build_model  # noqa: E402


def normalise_with_written_gradient(layer: layers.InstanceNormalization, inputs: tf.Tensor) -> tf.Tensor:
    """InstanceNormalization.call's output, with its gradient written out instead of left to autodiff."""

    @tf.custom_gradient
    def normalise(features, gamma, beta):
        mean, variance = tf.nn.moments(features, axes=[1, 2], keepdims=True)
        scale = tf.where(variance < layers.CONSTANT_MAP_VARIANCE, 0.0, tf.math.rsqrt(variance + layer.epsilon))
        normalised = (features - mean) * scale

        def gradient(upstream):
            scaled = upstream * gamma
            input_gradient = scale * (scaled - tf.reduce_mean(scaled, axis=[1, 2], keepdims=True)
                                      - normalised * tf.reduce_mean(scaled * normalised, axis=[1, 2], keepdims=True))
            return (input_gradient, tf.reduce_sum(upstream * normalised, axis=[0, 1, 2]),
                    tf.reduce_sum(upstream, axis=[0, 1, 2]))

        return normalised * gamma + beta, gradient

    outputs = normalise(tf.cast(inputs, tf.float32), tf.convert_to_tensor(layer.gamma),
                        tf.convert_to_tensor(layer.beta))
    return tf.cast(outputs, layer.compute_dtype)


@contextlib.contextmanager
def written_gradient():
    """Layers traced inside use normalise_with_written_gradient; a compiled step keeps what it was traced with."""
    autodiff_call = layers.InstanceNormalization.call
    layers.InstanceNormalization.call = normalise_with_written_gradient
    try:
        yield
    finally:
        layers.InstanceNormalization.call = autodiff_call


def parse_arguments():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--width", type=int, default=16)
    parser.add_argument("--batch_size", type=int, default=64)
    parser.add_argument("--channels", type=int, default=3)
    parser.add_argument("--steps", type=int, default=5, help="steps per timed round, run as one execution")
    parser.add_argument("--rounds", type=int, default=4)
    parser.add_argument("--copies", type=int, default=2, help="models of each kind")
    return parser.parse_args()


def main():
    arguments = parse_arguments()
    shape = (32, 32, arguments.channels)
    images = tf.random.stateless_uniform((512, *shape), seed=[0, 0], minval=-1, maxval=1)
    contenders = {}
    for copy in range(1, arguments.copies + 1):
        for kind, context in (("autodiff", contextlib.nullcontext), ("written", written_gradient)):
            model = build_model(Config(width=arguments.width, batch_size=arguments.batch_size), shape)
            model.steps_per_execution = arguments.steps
            batches = training_batches(images, arguments.batch_size, 0, 0, 10**6,
                                       training_inputs=model.training_inputs)
            with context():
                history = model.fit(batches, epochs=1, steps_per_epoch=arguments.steps, verbose=0, shuffle=False)
            if copy == 1:
                losses = ", ".join(f"{name} {values[-1]:.6f}" for name, values in sorted(history.history.items()))
                print(f"{kind} gradient, loss after {arguments.steps} steps: {losses}", flush=True)
            contenders[f"{kind} {copy}"] = model, batches
    milliseconds = {name: [] for name in contenders}
    for _ in range(arguments.rounds):
        for name, (model, batches) in contenders.items():
            started = time.perf_counter()
            model.fit(batches, epochs=1, steps_per_epoch=arguments.steps, verbose=0, shuffle=False)
            milliseconds[name].append((time.perf_counter() - started) / arguments.steps * 1000)
    print(f"width {arguments.width}, batch {arguments.batch_size}, 32x32x{arguments.channels}, {os.cpu_count()} CPUs, "
          f"{arguments.rounds} rounds of {arguments.steps} steps, interleaved")
    for name, rounds in milliseconds.items():
        print(f"  {name:11s} median {statistics.median(rounds):7.1f} ms/step, fastest {min(rounds):7.1f}; "
              f"rounds {', '.join(f'{value:.0f}' for value in rounds)}")
    medians = {kind: statistics.median([value for name, rounds in milliseconds.items() if name.startswith(kind)
                                        for value in rounds]) for kind in ("autodiff", "written")}
    print(f"  speed of the written gradient against autodiff's (medians over copies): "
          f"{medians['autodiff'] / medians['written']:.2f}x")


if __name__ == "__main__":
    main()
