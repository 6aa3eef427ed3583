"""AD-CGAN's four networks (paper section 2.1, appendix A.1, Table 2).

Four networks, each with the layer counts of the paper's Table 2 for its image shape:

- E, the encoder: 5 convolutions. Stride-2 4x4 convs halve the image down to 4x4 (3x3 stride-1
  convs once there); a last 4x4 'valid' conv gives the latent vector, layer-normalised as in the
  authors' 5-conv encoder so that E(x) has the per-vector statistics of z ~ N(0, I).
- G, the generator, which IS the autoencoder's decoder (one set of weights, used for G(z) and
  G(E(x))): a 4x4 transposed conv turns z (seen as 1x1) into 4x4, stride-2 transposed convs double
  it up to the image size (28x28 adds a 4 -> 7 stride-1 step), then 3x3 convs, the last with tanh.
- D_cgan, the critic: spectrally normalised convs with LeakyReLU(0.2). An intermediate conv's
  output is the local feature map C(x) (8x8 for 32x32 and 64x64 images, 7x7 for 28x28), the last
  conv's output sum-pooled is the global feature (E_psi(x) in eq 1), then two linear layers: the
  first gives the penultimate features f_D of the normality score, the second the adversarial logit.
  Two projection heads (InfoMax-GAN: linear -> ReLU -> linear plus a linear shortcut, per
  position on the local map, i.e. 1x1 convs) map both to K = 8 * width dimensions.
- D_z, the latent discriminator: 3 spectrally normalised linear layers on the concatenated pair.

From the paper: Table 2's layer counts, the shared decoder/generator, f_D = the critic's penultimate
layer. From the authors' public code (LayaaRS/AD-CGAN): the relativistic loss, the InfoMax-GAN
local/global features and projection heads, spectral norm in the critic and in D_z, LeakyReLU(0.2),
D_z's 64 and 32 hidden units, Adam beta_1 = 0.5, D_z trained at the CGAN's learning rate, layer norm
on the encoder's output.
Our choices where both are silent, and departures from the code:
- The encoder is the paper's 5-conv network trained from scratch, not the code's
  ImageNet-pretrained ResNet-18 (no weights can be downloaded offline).
- Channel widths, kernel sizes and strides are ours (DCGAN-like: 4x4 stride-2, 3x3 stride-1,
  channels doubling from `width`); only the layer counts are the paper's.
- Instance norm (not the code's batch norm) in E and G, none in the critic, and no spectral
  norm in E and G (the code has it; InfoMax-GAN's generator does not). Every image is then
  independent of its batch mates: real and generated images share one critic call, and scores
  do not depend on how the test set is batched.
- D_z sees the pair concatenated along features (eq 3); the code stacks the two vectors along
  the batch instead, which discriminates single vectors.
- The encoder's side of eq 3 is the non-saturating loss (losses.latent_encoder_loss), stepped
  by the latent optimiser together with D_z; the code steps it on D_z's own loss.
- Biases that a loss cannot see are left out: the logit's (the relativistic loss only sees
  differences of logits), the local head's output (it adds the same score to every local in a
  softmax row) and those of layers followed by instance norm.
"""


from typing import NamedTuple

import keras
import tensorflow as tf

from models.layers import InstanceNormalization

LEAKY_RELU_SLOPE = 0.2
ENCODER_CONVOLUTIONS = 5


class Layout(NamedTuple):
    """The Table 2 layer counts of one image shape, as layer settings."""
    critic_convolutions: tuple  # (channels as a multiple of width, stride) of each critic conv
    local_convolution: int  # the critic conv (1-based) whose output is the local feature map
    generator_convolutions: int  # 3x3 convs after G's transposed convs, the tanh output conv included


TABLE_2 = {
    "cifar10": Layout(((1, 1), (2, 2), (2, 1), (4, 2), (4, 1), (8, 2)), 4, 3),
    "mnist": Layout(((1, 2), (2, 2), (4, 1), (8, 2)), 2, 2),
    "cats_vs_dogs": Layout(((1, 2), (2, 2), (2, 1), (4, 2), (4, 1), (8, 2)), 4, 2),
}


def table2_layout(image_shape) -> Layout:
    """Table 2's networks: (F)MNIST for 28x28x1 and 32x32x1, CIFAR-10 for 32x32x3, Cats-vs-Dogs for 64x64x3."""
    height, width, channels = image_shape
    name = {(28, 1): "mnist", (32, 1): "mnist", (32, 3): "cifar10", (64, 3): "cats_vs_dogs"}.get((height, channels))
    if name is None or height != width:
        raise ValueError(f"AD-CGAN has networks for 28x28x1, 32x32x1, 32x32x3 and 64x64x3 images "
                         f"(paper Table 2); got {tuple(image_shape)}")
    return TABLE_2[name]


@keras.saving.register_keras_serializable("adcgan")
class SpectralNormalization(keras.layers.SpectralNormalization):
    """keras.layers.SpectralNormalization without its guard against an all-zero kernel.

    The guard is an ops.cond, and under train_step's GradientTape TensorFlow builds gradient
    functions for each of them: dropping it halves the time to trace a training step. Our
    kernels start random and are never all zero.
    """

    def call(self, inputs, training=False):
        if training:
            vector_u, kernel = self.normalized_weights()
            self.vector_u.assign(vector_u)
            self.kernel.assign(kernel)
        return tf.cast(self.layer(inputs), inputs.dtype)


def spectral(layer: keras.layers.Layer) -> SpectralNormalization:
    return SpectralNormalization(layer)



@keras.saving.register_keras_serializable("adcgan")
class Encoder(keras.Model):
    """E: image (B, H, W, C) -> latent vector (B, latent_size), layer-normalised."""

    def __init__(self, image_shape, latent_size: int = 100, width: int = 64, **kwargs):
        super().__init__(**kwargs)
        self.image_shape = tuple(image_shape)
        self.latent_size = latent_size
        self.width = width
        self.hidden = []
        resolution = self.image_shape[0]
        for index in range(ENCODER_CONVOLUTIONS - 1):
            strides = 2 if resolution > 4 else 1
            convolution = keras.layers.Conv2D(width * 2 ** index, 4 if strides == 2 else 3, strides, "same",
                                              use_bias=index == 0)
            # As in DCGAN, the first layer sees the image unnormalised.
            normalization = [InstanceNormalization()] if index else []
            self.hidden.append(keras.Sequential(
                [convolution, *normalization, keras.layers.LeakyReLU(LEAKY_RELU_SLOPE)]))
            resolution = -(-resolution // strides)
        self.to_latent = keras.layers.Conv2D(latent_size, resolution, padding="valid")
        self.normalization = keras.layers.LayerNormalization()

    def call(self, images):
        features = images
        for layer in self.hidden:
            features = layer(features)
        return self.normalization(self.to_latent(features)[:, 0, 0, :])

    def get_config(self):
        return {"image_shape": self.image_shape, "latent_size": self.latent_size, "width": self.width,
                "name": self.name}


@keras.saving.register_keras_serializable("adcgan")
class Generator(keras.Model):
    """G: latent vector (B, L) -> image (B, H, W, C) in [-1, 1]; also the autoencoder's decoder."""

    def __init__(self, image_shape, width: int = 64, **kwargs):
        super().__init__(**kwargs)
        self.image_shape = tuple(image_shape)
        self.width = width
        layout = table2_layout(image_shape)
        size, channels = self.image_shape[0], self.image_shape[-1]

        # 4x4 'valid' steps take 1x1 to 4x4 (and on to 7x7 for 28x28), then doublings to the image size.
        steps = [(1, "valid")] * (2 if size == 28 else 1)
        resolution = 7 if size == 28 else 4
        while resolution < size:
            steps.append((2, "same"))
            resolution *= 2
        # Channels halve at every step, from 8 * width down to width.
        self.upsampling = [
            keras.Sequential([
                keras.layers.Conv2DTranspose(max(width, 8 * width // 2 ** index), 4, strides, padding,
                                             use_bias=False),
                InstanceNormalization(), keras.layers.ReLU()])
            for index, (strides, padding) in enumerate(steps)
        ]
        self.refinement = [
            keras.Sequential([keras.layers.Conv2D(width, 3, padding="same", use_bias=False),
                              InstanceNormalization(), keras.layers.ReLU()])
            for _ in range(layout.generator_convolutions - 1)
        ]
        self.to_image = keras.layers.Conv2D(channels, 3, padding="same")

    def call(self, latents):
        features = latents[:, tf.newaxis, tf.newaxis, :]
        for layer in self.upsampling + self.refinement:
            features = layer(features)
        return tf.tanh(self.to_image(features))

    def get_config(self):
        return {"image_shape": self.image_shape, "width": self.width, "name": self.name}


@keras.saving.register_keras_serializable("adcgan")
class ProjectionHead(keras.layers.Layer):
    """phi of eq 1 (InfoMax-GAN): linear -> ReLU -> linear, plus a linear shortcut; per position on a map."""

    def __init__(self, units: int, output_bias: bool = True, **kwargs):
        super().__init__(**kwargs)
        self.units = units
        self.output_bias = output_bias
        self.hidden = spectral(keras.layers.Dense(units))
        self.output_layer = spectral(keras.layers.Dense(units, use_bias=output_bias))
        # The two branches are summed: the output layer's bias serves both.
        self.shortcut = spectral(keras.layers.Dense(units, use_bias=False))

    def build(self, input_shape):
        self.hidden.build(input_shape)
        self.output_layer.build((*input_shape[:-1], self.units))
        self.shortcut.build(input_shape)

    def call(self, features, training=None):
        hidden = tf.nn.relu(self.hidden(features, training=training))
        return self.output_layer(hidden, training=training) + self.shortcut(features, training=training)

    def get_config(self):
        return {**super().get_config(), "units": self.units, "output_bias": self.output_bias}


@keras.saving.register_keras_serializable("adcgan")
class Critic(keras.Model):
    """D_cgan: images -> {"logits" (B,), "local_features" (B, M, M, C), "global_features", "penultimate_features"}."""

    def __init__(self, image_shape, width: int = 64, **kwargs):
        super().__init__(**kwargs)
        self.image_shape = tuple(image_shape)
        self.width = width
        layout = table2_layout(image_shape)
        self.local_convolution = layout.local_convolution
        self.convolutions = [
            spectral(keras.layers.Conv2D(multiple * width, 4 if strides == 2 else 3, strides, "same"))
            for multiple, strides in layout.critic_convolutions
        ]
        global_size = layout.critic_convolutions[-1][0] * width
        self.hidden = spectral(keras.layers.Dense(global_size))
        self.to_logit = spectral(keras.layers.Dense(1, use_bias=False))
        self.local_projection = ProjectionHead(global_size, output_bias=False)
        self.global_projection = ProjectionHead(global_size)
        # call() does not use the heads, so it cannot build them.
        local_channels = layout.critic_convolutions[layout.local_convolution - 1][0] * width
        self.local_projection.build((None, local_channels))
        self.global_projection.build((None, global_size))

    def call(self, images, training=None):
        features = images
        for number, convolution in enumerate(self.convolutions, 1):
            features = tf.nn.leaky_relu(convolution(features, training=training), LEAKY_RELU_SLOPE)
            if number == self.local_convolution:
                local_features = features
        global_features = tf.reduce_sum(features, axis=[1, 2])
        penultimate_features = tf.nn.leaky_relu(self.hidden(global_features, training=training), LEAKY_RELU_SLOPE)
        return {
            "logits": tf.squeeze(self.to_logit(penultimate_features, training=training), axis=-1),
            "local_features": local_features,
            "global_features": global_features,
            "penultimate_features": penultimate_features,
        }

    def project(self, outputs, training=None):
        """(C(x) projected (B, M, M, K), phi(E(x)) (B, K)): the two sides of eq 1's dot products."""
        return (self.local_projection(outputs["local_features"], training=training),
                self.global_projection(outputs["global_features"], training=training))

    def get_config(self):
        return {"image_shape": self.image_shape, "width": self.width, "name": self.name}


@keras.saving.register_keras_serializable("adcgan")
class LatentDiscriminator(keras.Model):
    """D_z: a pair of latent vectors (first, second), each (B, L) -> logit (B,) that the pair is (z, z)."""

    def __init__(self, width: int = 64, **kwargs):
        super().__init__(**kwargs)
        self.width = width
        # 64 and 32 units at the default width, as in the authors' code.
        self.hidden = [spectral(keras.layers.Dense(width)), spectral(keras.layers.Dense(max(1, width // 2)))]
        self.to_logit = spectral(keras.layers.Dense(1))

    def call(self, pairs, training=None):
        features = tf.concat(pairs, axis=-1)
        for layer in self.hidden:
            features = tf.nn.leaky_relu(layer(features, training=training), LEAKY_RELU_SLOPE)
        return tf.squeeze(self.to_logit(features, training=training), axis=-1)

    def get_config(self):
        return {"width": self.width, "name": self.name}
