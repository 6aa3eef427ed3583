"""Is the input pipeline free? The training step fed by the real tf.data pipeline against the same
step fed by one batch already in memory, side by side in one run.

    python bench/bench_pipeline.py                                  # CIFAR-10-like: 32x32x3, batch 64
    python bench/bench_pipeline.py --image_size 128 --batch_size 8 --max_zoom 0.1 --protocol 3   # MVTec-like

The real pipeline draws each batch from a seeded per-epoch permutation, gathers it, zooms it
when asked, and prefetches; the in-memory feed repeats one prepared batch. Target: within 5%.
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
from utils.running.config import Config  # noqa: E402
from utils.running.experiment import build_model  # noqa: E402


def parse_arguments():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--width", type=int, default=8)
    parser.add_argument("--batch_size", type=int, default=64)
    parser.add_argument("--image_size", type=int, default=32)
    parser.add_argument("--channels", type=int, default=3)
    parser.add_argument("--protocol", type=int, default=1)
    parser.add_argument("--max_zoom", type=float, default=0.0)
    parser.add_argument("--train_images", type=int, default=5000, help="size of the in-memory training set")
    parser.add_argument("--steps", type=int, default=20, help="steps per timed round")
    parser.add_argument("--rounds", type=int, default=5)
    return parser.parse_args()


def main():
    arguments = parse_arguments()
    shape = (arguments.image_size, arguments.image_size, arguments.channels)
    images = tf.random.stateless_uniform((arguments.train_images, *shape), seed=[0, 0], minval=-1, maxval=1)
    model = build_model(Config(width=arguments.width, batch_size=arguments.batch_size, protocol=arguments.protocol,
                               image_size=arguments.image_size), shape)
    real_pipeline = training_batches(images, arguments.batch_size, 0, 0, 10**6, arguments.max_zoom,
                                     training_inputs=model.training_inputs)
    in_memory = tf.data.Dataset.from_tensors(next(iter(real_pipeline))).repeat().prefetch(tf.data.AUTOTUNE)
    feeds = {"batch already in memory": in_memory, "real tf.data pipeline": real_pipeline}
    started = time.perf_counter()
    for feed in feeds.values():
        model.fit(feed, epochs=1, steps_per_epoch=2, verbose=0, shuffle=False)
    print(f"compiled and warmed up in {time.perf_counter() - started:.1f} s", flush=True)
    assert in_memory.element_spec == real_pipeline.element_spec, "both feeds must share one compiled step"
    median = median_seconds_per_call(
        {name: lambda feed=feed: model.fit(feed, epochs=1, steps_per_epoch=arguments.steps, verbose=0,
                                           shuffle=False) for name, feed in feeds.items()},
        calls_per_round=1, rounds=arguments.rounds)
    print(f"width {arguments.width}, batch {arguments.batch_size}, {'x'.join(map(str, shape))}, protocol "
          f"{arguments.protocol}, max_zoom {arguments.max_zoom}, {os.cpu_count()} CPUs, median of {arguments.rounds} "
          f"rounds of {arguments.steps} steps")
    for name, seconds in median.items():
        print(f"  {name:24s} {seconds / arguments.steps * 1000:8.1f} ms/step")
    in_memory_time, pipeline_time = median.values()
    print(f"  pipeline overhead: {(pipeline_time / in_memory_time - 1) * 100:+.1f}%")


if __name__ == "__main__":
    main()
