"""DGAD's three networks (paper section 4.2): encoder En, decoder De and discriminator D.

En: 7x7 conv -> two 4x4 stride-2 convs -> 3 residual blocks -> 3x3 conv -> tanh latent z.
De mirrors En; it up-samples with bilinear x2 followed by a 5x5 conv. Every generator layer but
the last is followed by instance norm and ReLU. D is BiGAN-style: two stride-2 convs on x, then
z is concatenated to the feature map and more convs follow; LeakyReLU(0.01) and spectral norm on
every layer; two heads: D_adv (real/fake of the pair (x, z)) and D_cls (transformation logits).
`width` is the base channel count (64 in the paper). The paper does not give the latent's channel
count; the default, 2 * width at 1/4 of the image's resolution (8x8x128 for 32x32 images at width
64), brings En + De + D to 12.2M parameters against the paper's 8.9M + 3.5M = 12.4M (README,
"Parameters"); `latent_channels` sets another.
"""

import keras
import tensorflow as tf

from models.layers import ConvNormReLU, PaddedConv2D, ResidualBlock, upsample_bilinear_2x

LEAKY_RELU_SLOPE = 0.01
RESIDUAL_BLOCKS = 3


def default_latent_channels(width: int) -> int:
    return 2 * width


@keras.saving.register_keras_serializable("dgad")
class Encoder(keras.Model):
    """En: image (B, H, W, C) in [-1, 1] -> latent z (B, H/4, W/4, latent_channels) in [-1, 1]."""

    def __init__(self, width: int = 64, padding: str = "symmetric", coordconv: bool = False,
                 latent_channels: int | None = None, **kwargs):
        super().__init__(**kwargs)
        self.width = width
        self.padding = padding
        self.coordconv = coordconv
        self.latent_channels = default_latent_channels(width) if latent_channels is None else latent_channels
        self.stem = ConvNormReLU(width, 7, 1, padding, coordconv)
        self.down = [
            ConvNormReLU(2 * width, 4, 2, padding, coordconv),
            ConvNormReLU(4 * width, 4, 2, padding, coordconv),
        ]
        self.residual_blocks = [ResidualBlock(4 * width, padding, coordconv) for _ in range(RESIDUAL_BLOCKS)]
        self.to_latent = PaddedConv2D(self.latent_channels, 3, 1, padding, coordconv)

    def call(self, images):
        features = self.stem(images)
        for layer in self.down + self.residual_blocks:
            features = layer(features)
        return tf.tanh(self.to_latent(features))

    def get_config(self):
        return {"width": self.width, "padding": self.padding, "coordconv": self.coordconv,
                "latent_channels": self.latent_channels, "name": self.name}


@keras.saving.register_keras_serializable("dgad")
class Decoder(keras.Model):
    """De: latent z -> image (B, H, W, channels) in [-1, 1]; the mirror of the encoder."""

    def __init__(self, width: int = 64, channels: int = 3, padding: str = "symmetric", coordconv: bool = False,
                 **kwargs):
        super().__init__(**kwargs)
        self.width = width
        self.channels = channels
        self.padding = padding
        self.coordconv = coordconv
        self.from_latent = ConvNormReLU(4 * width, 3, 1, padding, coordconv)
        self.residual_blocks = [ResidualBlock(4 * width, padding, coordconv) for _ in range(RESIDUAL_BLOCKS)]
        self.up = [
            ConvNormReLU(2 * width, 5, 1, padding, coordconv),
            ConvNormReLU(width, 5, 1, padding, coordconv),
        ]
        self.to_image = PaddedConv2D(channels, 7, 1, padding, coordconv)

    def call(self, latents):
        features = self.from_latent(latents)
        for block in self.residual_blocks:
            features = block(features)
        for layer in self.up:
            features = layer(upsample_bilinear_2x(features))
        return tf.tanh(self.to_image(features))

    def get_config(self):
        return {"width": self.width, "channels": self.channels, "padding": self.padding,
                "coordconv": self.coordconv, "name": self.name}


@keras.saving.register_keras_serializable("dgad")
class Discriminator(keras.Model):
    """D(x, z) -> (adversarial logit (B,), classification logits (B, num_labels))."""

    def __init__(self, num_labels: int, width: int = 64, padding: str = "symmetric", coordconv: bool = False,
                 **kwargs):
        super().__init__(**kwargs)
        self.num_labels = num_labels
        self.width = width
        self.padding = padding
        self.coordconv = coordconv

        def conv(filters, kernel_size, strides):
            return PaddedConv2D(filters, kernel_size, strides, padding, coordconv, spectral_norm=True)

        self.image_path = [conv(width, 4, 2), conv(2 * width, 4, 2)]
        self.joint_path = [conv(4 * width, 3, 1), conv(8 * width, 4, 2)]
        self.adversarial_head = keras.layers.SpectralNormalization(keras.layers.Dense(1))
        self.classification_head = keras.layers.SpectralNormalization(keras.layers.Dense(num_labels))

    def call(self, inputs, training=None):
        images, latents = inputs
        features = images
        for layer in self.image_path:
            features = tf.nn.leaky_relu(layer(features, training=training), LEAKY_RELU_SLOPE)
        features = tf.concat([features, latents], axis=-1)
        for layer in self.joint_path:
            features = tf.nn.leaky_relu(layer(features, training=training), LEAKY_RELU_SLOPE)
        pooled = tf.reduce_mean(features, axis=[1, 2])
        adversarial_logits = tf.squeeze(self.adversarial_head(pooled, training=training), axis=-1)
        return adversarial_logits, self.classification_head(pooled, training=training)

    def get_config(self):
        return {"num_labels": self.num_labels, "width": self.width, "padding": self.padding,
                "coordconv": self.coordconv, "name": self.name}
