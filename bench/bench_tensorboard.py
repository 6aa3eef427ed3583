"""What TensorBoard logging costs the training step: the same model trained with and without it, side by side.

    python bench/bench_tensorboard.py --width 8 --batch_size 32 --channels 1

Rounds of --steps training steps through the experiment's own loop (train_for_iterations, a
checkpoint at the end of each round) alternate between without and with the TensorBoardLog
callback the experiment adds (the losses every 10 iterations, a preview grid once per round: far
more often than the default of once per --checkpoint_every = 1000 iterations); the median round
is reported, and the ratio.
"""

import argparse
import os
import sys
import tempfile
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import tensorflow as tf  # noqa: E402

from bench.timing import median_seconds_per_call  # noqa: E402
from data.pipeline import training_batches  # noqa: E402
from data.random_streams import PREVIEW_STREAM  # noqa: E402
from utils.running.config import Config  # noqa: E402
from utils.running.experiment import PREVIEW_IMAGES, build_model  # noqa: E402
from utils.running.training import Checkpoints, TensorBoardLog, train_for_iterations  # noqa: E402


def parse_arguments():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--method", default="dgad")
    parser.add_argument("--width", type=int, default=8)
    parser.add_argument("--batch_size", type=int, default=32)
    parser.add_argument("--image_size", type=int, default=32)
    parser.add_argument("--channels", type=int, default=1)
    parser.add_argument("--steps", type=int, default=40, help="steps per timed round")
    parser.add_argument("--rounds", type=int, default=5)
    return parser.parse_args()


def main():
    arguments = parse_arguments()
    shape = (arguments.image_size, arguments.image_size, arguments.channels)
    images = tf.random.stateless_uniform((512, *shape), seed=[0, 0], minval=-1, maxval=1)
    config = Config(method=arguments.method, width=arguments.width, batch_size=arguments.batch_size,
                    image_size=arguments.image_size)
    model = build_model(config, shape)
    batches = training_batches(images, arguments.batch_size, 0, 0, 10**6, training_inputs=model.training_inputs)
    model.fit(batches, epochs=1, steps_per_epoch=2, verbose=0, shuffle=False)
    with tempfile.TemporaryDirectory() as folder:
        checkpoints = Checkpoints(model, Path(folder) / "checkpoints")

        def train(with_tensorboard: bool):
            # The experiment's own loop, checkpoint at the end of the round included, with or without the log.
            start = model.iterations_done()
            end = start + arguments.steps
            log = TensorBoardLog(Path(folder) / "tensorboard", images[:PREVIEW_IMAGES],
                                 tf.constant([0, PREVIEW_STREAM], tf.int64), start, end, image_every=arguments.steps)
            train_for_iterations(model, batches, checkpoints, end, checkpoint_every=arguments.steps,
                                 callbacks=(log,) if with_tensorboard else ())

        median = median_seconds_per_call({"without TensorBoard": lambda: train(False),
                                          "with TensorBoard": lambda: train(True)},
                                         calls_per_round=1, rounds=arguments.rounds)
    print(f"{arguments.method}, width {arguments.width}, batch {arguments.batch_size}, "
          f"{'x'.join(map(str, shape))}, {arguments.rounds} rounds of {arguments.steps} steps, {os.cpu_count()} CPUs")
    for name, seconds in median.items():
        print(f"  {name:20s} {seconds / arguments.steps * 1000:8.1f} ms/step")
    without, with_log = median.values()
    print(f"  with / without: {with_log / without:.3f}")


if __name__ == "__main__":
    main()
