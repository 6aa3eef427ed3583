"""Forward-pass time of DGAD's networks, and what s_rec and s_dir cost in those units (Table 5).

    python bench/bench_networks.py --width 32 --batch_size 64

s_rec runs En, De, En once per image; s_dir runs En and D once per transformation (4 for
Protocol 1, 6 for Protocol 2). Timing each network alone shows which ratio of the two scores'
speeds these networks allow. Also times the decoder's 2x bilinear up-sampling, ours against
tf.image.resize. Every contender is compiled the same way (XLA unless --no_xla), and the rounds
alternate between contenders so that drift in the machine's load hits all alike.
"""

import argparse
import os
import sys
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import keras  # noqa: E402
import tensorflow as tf  # noqa: E402

from bench.timing import median_seconds_per_call  # noqa: E402
from models.dgad.networks import Decoder, Discriminator, Encoder  # noqa: E402
from models.layers import upsample_bilinear_2x  # noqa: E402


def parse_arguments():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--width", type=int, default=32)
    parser.add_argument("--batch_size", type=int, default=64)
    parser.add_argument("--rounds", type=int, default=7)
    parser.add_argument("--no_xla", action="store_true")
    return parser.parse_args()


def main():
    arguments = parse_arguments()
    keras.utils.set_random_seed(0)
    images = tf.random.uniform((arguments.batch_size, 32, 32, 3), -1, 1)
    encoder, decoder = Encoder(arguments.width), Decoder(arguments.width, 3)
    discriminator = Discriminator(4, arguments.width)
    latents = encoder(images)
    features = tf.random.uniform((arguments.batch_size, 16, 16, 2 * arguments.width))
    passes = {
        "encoder": lambda: encoder(images),
        "decoder": lambda: decoder(latents),
        "discriminator": lambda: discriminator((images, latents))[1],
        "s_rec pass (En, De, En)": lambda: encoder(decoder(encoder(images))),
        "up-sampling, ours": lambda: upsample_bilinear_2x(features),
        "up-sampling, tf.image.resize": lambda: tf.image.resize(features, (32, 32), method="bilinear"),
    }
    compiled = {name: tf.function(function, jit_compile=not arguments.no_xla) for name, function in passes.items()}
    for function in compiled.values():
        function()
    seconds = median_seconds_per_call({name: lambda function=function: function().numpy()
                                       for name, function in compiled.items()}, 1, arguments.rounds)
    print(f"width {arguments.width}, batch {arguments.batch_size}, 32x32x3, "
          f"{'no XLA' if arguments.no_xla else 'XLA'}, median of {arguments.rounds} rounds")
    for name, value in seconds.items():
        print(f"  {name:30s} {1000 * value:8.1f} ms")
    s_rec = 2 * seconds["encoder"] + seconds["decoder"]
    for protocol, transformations in ((1, 4), (2, 6)):
        s_dir = transformations * (seconds["encoder"] + seconds["discriminator"])
        print(f"  protocol {protocol}: s_rec {1000 * s_rec:.1f} ms, s_dir {1000 * s_dir:.1f} ms per batch "
              f"from the parts: s_rec / s_dir speed ratio {s_dir / s_rec:.2f}x")


if __name__ == "__main__":
    main()
