"""Training-step speed of a PyTorch twin of DGAD against our TF step, side by side in one process.

    /work/venv-torch/bin/python bench/bench_torch_step.py --width 16 --batch_size 64

Three contenders, in alternating rounds (bench/timing.py): PyTorch eager, TF plain tf.function
(no XLA) and TF ours (XLA, the default), the TF models built by the experiment's build_model and
timed through its training loop (train_for_iterations, with its callbacks and its tf.data
pipeline; only the checkpoint write at each round's end is left out), so their rounds also pay
fit()'s per-call set-up; PyTorch indexes its batches from an in-memory tensor. A fourth, a
2048 x 2048 float32 matmul, gives the machine's dense peak in the same rounds. The step's FLOPs are
counted from XLA's compiled step (bench/utilisation.py) and by PyTorch's FlopCounterMode on the
twin's step, and each step's GFLOP/s is printed against the matmul's. Both sides run one
training step of models/dgad/model.py (Protocol 1): encode x_r and x_t in one call, decode in one,
re-encode the restoration, D on the three (x, z) pairs in one call, then one Adam update of D and
one of En + De from that forward pass, with the losses of losses/dgad.py.

The twin has the layers, kernel sizes, strides, widths, instance norm, spectral norm and latent
shape of models/dgad/networks.py, and Keras's initialisers and Adam settings. It differs where PyTorch has
no equivalent, at no difference in cost:
- padding: TF's SYMMETRIC mode (edge pixel repeated) does not exist in PyTorch; "reflect" pads as
  many pixels in the same way (only the mirror axis moves by one pixel).
- upsampling: F.interpolate(bilinear, align_corners=False) computes what our upsample_bilinear_2x
  computes (half-pixel centres, edge clamped), with PyTorch's own kernel.
- spectral norm: torch's parametrization back-propagates through sigma (Miyato et al.); Keras
  writes W / sigma into the kernel and takes the gradient at that kernel. Both do one power
  iteration per D call; sigma's gradient is a few matrix-vector products.
- layout: NCHW, PyTorch's default, against TF's NHWC.
PyTorch gets as many intra-op threads as TF's default pool: one per logical CPU (os.cpu_count()).
"""

import argparse
import dataclasses
import math
import os
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import tensorflow as tf  # noqa: E402
import torch  # noqa: E402
import torch.nn.functional as F  # noqa: E402
from torch import nn  # noqa: E402
from torch.utils.flop_counter import FlopCounterMode  # noqa: E402

from bench.timing import median_seconds_per_call  # noqa: E402
from bench.utilisation import MATMUL_SIZE, matmul_call, train_step_flops  # noqa: E402
from data.pipeline import training_batches  # noqa: E402
from losses.dgad import COMPACTNESS_EPSILON, LAMBDA_CLS, LAMBDA_CMP, LAMBDA_REC  # noqa: E402
from models.dgad.networks import LEAKY_RELU_SLOPE, RESIDUAL_BLOCKS, default_latent_channels  # noqa: E402
from models.dgad.pretext import label_size  # noqa: E402
from models.layers import same_padding  # noqa: E402
from utils.running.config import Config  # noqa: E402
from utils.running.experiment import build_model  # noqa: E402
from utils.running.training import Checkpoints, train_for_iterations  # noqa: E402

NUM_ROTATIONS = label_size(1)


class PaddedConv(nn.Conv2d):
    """models.layers.PaddedConv2D: explicit 'same' padding, then a valid convolution."""

    def reset_parameters(self):
        # Keras's defaults (Glorot-uniform kernel, zero bias), so both twins start from alike weights.
        nn.init.xavier_uniform_(self.weight)
        nn.init.zeros_(self.bias)

    def forward(self, inputs):
        rows = same_padding(inputs.shape[2], self.kernel_size[0], self.stride[0])
        columns = same_padding(inputs.shape[3], self.kernel_size[1], self.stride[1])
        return super().forward(F.pad(inputs, (*columns, *rows), mode="reflect"))


def conv_norm_relu(in_channels, out_channels, kernel_size, stride=1):
    return nn.Sequential(PaddedConv(in_channels, out_channels, kernel_size, stride),
                         nn.InstanceNorm2d(out_channels, affine=True), nn.ReLU())


class ResidualBlock(nn.Module):
    def __init__(self, channels):
        super().__init__()
        self.body = nn.Sequential(conv_norm_relu(channels, channels, 3), PaddedConv(channels, channels, 3),
                                  nn.InstanceNorm2d(channels, affine=True))

    def forward(self, inputs):
        return inputs + self.body(inputs)


def encoder(channels, width):
    return nn.Sequential(
        conv_norm_relu(channels, width, 7), conv_norm_relu(width, 2 * width, 4, 2),
        conv_norm_relu(2 * width, 4 * width, 4, 2), *[ResidualBlock(4 * width) for _ in range(RESIDUAL_BLOCKS)],
        PaddedConv(4 * width, default_latent_channels(width), 3), nn.Tanh())


def decoder(channels, width):
    def upsample():
        return nn.Upsample(scale_factor=2, mode="bilinear", align_corners=False)

    return nn.Sequential(
        conv_norm_relu(default_latent_channels(width), 4 * width, 3), *[ResidualBlock(4 * width) for _ in range(RESIDUAL_BLOCKS)],
        upsample(), conv_norm_relu(4 * width, 2 * width, 5), upsample(), conv_norm_relu(2 * width, width, 5),
        PaddedConv(width, channels, 7), nn.Tanh())


def spectral_dense(in_features, out_features):
    dense = nn.Linear(in_features, out_features)
    nn.init.xavier_uniform_(dense.weight)
    nn.init.zeros_(dense.bias)
    return nn.utils.parametrizations.spectral_norm(dense)


class Discriminator(nn.Module):
    def __init__(self, channels, width):
        super().__init__()

        def conv(in_channels, out_channels, kernel_size, stride):
            return nn.Sequential(nn.utils.parametrizations.spectral_norm(
                PaddedConv(in_channels, out_channels, kernel_size, stride)), nn.LeakyReLU(LEAKY_RELU_SLOPE))

        self.image_path = nn.Sequential(conv(channels, width, 4, 2), conv(width, 2 * width, 4, 2))
        self.joint_path = nn.Sequential(conv(2 * width + default_latent_channels(width), 4 * width, 3, 1),
                                        conv(4 * width, 8 * width, 4, 2))
        self.adversarial_head = spectral_dense(8 * width, 1)
        self.classification_head = spectral_dense(8 * width, NUM_ROTATIONS)

    def forward(self, images, latents):
        pooled = self.joint_path(torch.cat([self.image_path(images), latents], 1)).mean((2, 3))
        return self.adversarial_head(pooled).squeeze(1), self.classification_head(pooled)


class TorchDGAD:
    def __init__(self, config: Config, channels: int):
        self.encoder, self.decoder = encoder(channels, config.width), decoder(channels, config.width)
        self.discriminator = Discriminator(channels, config.width)
        self.generator_parameters = [*self.encoder.parameters(), *self.decoder.parameters()]
        self.discriminator_parameters = list(self.discriminator.parameters())

        def adam(parameters):
            # eps: Keras's default, not PyTorch's 1e-8.
            return torch.optim.Adam(parameters, config.learning_rate, betas=(config.beta_1, config.beta_2), eps=1e-7)

        self.optimisers = adam(self.generator_parameters), adam(self.discriminator_parameters)

    def train_step(self, real_images):
        batch_size = real_images.shape[0]
        rotations = torch.randint(0, NUM_ROTATIONS, (batch_size,))
        # As models/dgad/pretext.py: rotate the whole batch every way, then each image picks its own.
        all_rotations = torch.stack([torch.rot90(real_images, k, (2, 3)) for k in range(NUM_ROTATIONS)], 1)
        transformed_images = all_rotations[torch.arange(batch_size), rotations]

        real_latents, transformed_latents = self.encoder(torch.cat([real_images, transformed_images])).chunk(2)
        reconstructions, restored_images = self.decoder(torch.cat([real_latents, transformed_latents])).chunk(2)
        restored_latents = self.encoder(restored_images)
        adversarial_logits, classification_logits = self.discriminator(
            torch.cat([real_images, transformed_images, restored_images]),
            torch.cat([real_latents, transformed_latents, restored_latents]))
        real_adversarial, _, restored_adversarial = adversarial_logits.chunk(3)
        _, transformed_classification, restored_classification = classification_logits.chunk(3)

        d_cls = F.cross_entropy(transformed_classification, rotations)
        d_loss = F.relu(1 - real_adversarial).mean() + F.relu(1 + restored_adversarial).mean() + LAMBDA_CLS * d_cls
        g_cls = d_cls + F.cross_entropy(restored_classification, torch.zeros_like(rotations))
        rec = (real_images - reconstructions).abs().mean()
        channel_means = real_latents.mean((2, 3))
        cmp = torch.sqrt((channel_means - channel_means.mean(0)).square().mean() + COMPACTNESS_EPSILON)
        g_loss = -restored_adversarial.mean() + LAMBDA_CLS * g_cls + LAMBDA_REC * rec + LAMBDA_CMP * cmp

        for optimiser in self.optimisers:
            optimiser.zero_grad()
        # Both gradients come from this one forward pass, so neither update may run before both exist.
        d_loss.backward(inputs=self.discriminator_parameters, retain_graph=True)
        g_loss.backward(inputs=self.generator_parameters)
        for optimiser in self.optimisers:
            optimiser.step()
        # As DGAD.train_step's logs, so a reader can check that the twin learns like ours.
        return {"d_loss": d_loss.item(), "g_loss": g_loss.item(), "rec": rec.item()}


def parse_arguments():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--width", type=int, default=16)
    parser.add_argument("--batch_size", type=int, default=64)
    parser.add_argument("--image_size", type=int, default=32)
    parser.add_argument("--channels", type=int, default=3)
    parser.add_argument("--steps_per_round", type=int, default=10)
    parser.add_argument("--rounds", type=int, default=3)
    return parser.parse_args()


def parameter_count(parameters):
    return sum(math.prod(parameter.shape) for parameter in parameters)


class UnsavedCheckpoints(Checkpoints):
    """The training loop's checkpoints, minus the write: a round ends at its last iteration, which the loop
    saves, and a save per round would cost the rounds far more than one per 1000 iterations costs training."""

    def save(self, iteration, session_seconds):
        pass


def torch_step_flops(twin: TorchDGAD, images) -> int:
    """The twin's step FLOPs as PyTorch's own counter sees them (convolutions and matmuls, forward and backward)."""
    counter = FlopCounterMode(display=False)
    with counter:
        twin.train_step(images)
    return counter.get_total_flops()


def main():
    arguments = parse_arguments()
    torch.set_num_threads(os.cpu_count())
    shape = (arguments.image_size, arguments.image_size, arguments.channels)
    images = tf.random.stateless_uniform((512, *shape), seed=[0, 0], minval=-1, maxval=1)
    torch_images = torch.from_numpy(images.numpy()).permute(0, 3, 1, 2).contiguous()
    torch.manual_seed(0)

    contenders, models = {}, {}
    config = Config(width=arguments.width, batch_size=arguments.batch_size, image_size=arguments.image_size)
    twin = TorchDGAD(config, arguments.channels)

    def torch_steps(steps):
        for _ in range(steps):
            twin.train_step(torch_images[torch.randint(0, len(torch_images), (arguments.batch_size,))])

    started = time.perf_counter()
    torch_steps(2)
    print(f"PyTorch eager: first 2 steps {time.perf_counter() - started:.1f} s", flush=True)
    contenders["PyTorch eager"] = lambda: torch_steps(arguments.steps_per_round)
    folder = tempfile.mkdtemp()
    for name, jit_compile in (("TF plain tf.function", False), ("TF ours (XLA)", True)):
        model = build_model(dataclasses.replace(config, jit_compile=jit_compile), shape)
        checkpoints = UnsavedCheckpoints(model, Path(folder) / name)

        def train(steps, model=model, checkpoints=checkpoints):
            # The experiment's own loop and callbacks, with the pipeline the experiment builds.
            start = model.iterations_done()
            batches = training_batches(images, arguments.batch_size, 0, start, start + steps,
                                       training_inputs=model.training_inputs)
            # A progress line per round: fit() then runs each round as one call, as it runs every 10 in training.
            train_for_iterations(model, batches, checkpoints, start + steps, config.checkpoint_every, log_every=steps)

        started = time.perf_counter()
        train(arguments.steps_per_round)
        print(f"{name}: first round (tracing and compiling) {time.perf_counter() - started:.1f} s", flush=True)
        models[name] = model
        contenders[name] = lambda train=train: train(arguments.steps_per_round)
    multiply, matmul_flops = matmul_call()
    contenders[f"matmul {MATMUL_SIZE}x{MATMUL_SIZE}"] = lambda: [multiply() for _ in range(arguments.steps_per_round)]

    tf_model = models["TF ours (XLA)"]
    print("trainable parameters (TF count_params() adds D's non-trainable power-iteration vectors u):")
    for network, tf_network, torch_parameters in (
            ("encoder", tf_model.encoder, twin.encoder.parameters()),
            ("decoder", tf_model.decoder, twin.decoder.parameters()),
            ("discriminator", tf_model.discriminator, twin.discriminator_parameters)):
        print(f"  {network:14s} TF {parameter_count(tf_network.trainable_weights):9,d}"
              f" (count_params {tf_network.count_params():9,d})  PyTorch {parameter_count(torch_parameters):9,d}")
    batch = next(iter(training_batches(images, arguments.batch_size, 0, 0, 1, training_inputs=tf_model.training_inputs)))
    flops = train_step_flops(tf_model, batch)
    step_flops = sum(flops.values())
    twin_flops = torch_step_flops(twin, torch_images[:arguments.batch_size])
    print(f"FLOPs of one training step: {step_flops / 1e9:.2f} G from XLA's compiled step (convolutions "
          f"{flops['convolution'] / 1e9:.2f} G, dots {flops['dot'] / 1e9:.4f} G); PyTorch's counter on the twin's "
          f"step: {twin_flops / 1e9:.2f} G")

    median = median_seconds_per_call(contenders, calls_per_round=1, rounds=arguments.rounds)
    median = {name: seconds / arguments.steps_per_round for name, seconds in median.items()}
    print(f"width {arguments.width}, batch {arguments.batch_size}, {arguments.image_size}x{arguments.image_size}"
          f"x{arguments.channels}, protocol 1, {os.cpu_count()} CPUs, torch.set_num_threads({torch.get_num_threads()})")
    *steps, matmul = median.items()
    peak = matmul_flops / matmul[1]
    for name, seconds in steps:
        achieved = step_flops / seconds
        print(f"  {name:22s} {seconds * 1000:8.1f} ms/step  {1 / seconds:6.2f} it/s  {achieved / 1e9:6.1f} GFLOP/s "
              f"({achieved / peak:.0%} of the matmul's)")
    print(f"  {matmul[0]:22s} {matmul[1] * 1000:8.1f} ms/call  {peak / 1e9:6.1f} GFLOP/s")
    pytorch, plain, ours = (seconds for _, seconds in steps)
    print(f"  ours / PyTorch time:     {ours / pytorch:.2f}  (below 1: ours is faster; speed ratio {pytorch / ours:.2f}x)")
    print(f"  plain TF / PyTorch time: {plain / pytorch:.2f}")


if __name__ == "__main__":
    main()
