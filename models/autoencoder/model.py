"""A plain convolutional autoencoder: DGAD's encoder and decoder, trained on L1 reconstruction alone.

The classic reconstruction baseline of one-class anomaly detection. It has DGAD's backbone at the
same width (no discriminator, no pretext task, no compactness loss), so a comparison at the same
budget asks whether DGAD's adversarial machinery earns its cost.
"""

import keras
import tensorflow as tf

from losses import autoencoder as losses
from models.detector_model import DetectorModel, float32
from models.dgad.networks import Decoder, Encoder


@keras.saving.register_keras_serializable("autoencoder")
class Autoencoder(DetectorModel):
    """Encoder and decoder trained by one optimiser; models/autoencoder/scoring.py scores it."""

    STEP_COUNTER = "autoencoder_optimizer"

    def __init__(self, image_shape: tuple[int, int, int], width: int = 64, latent_channels: int | None = None,
                 **kwargs):
        super().__init__(image_shape, **kwargs)
        self.width = width
        self.encoder = Encoder(width, latent_channels=latent_channels, name="encoder")
        self.latent_channels = self.encoder.latent_channels
        self.decoder = Decoder(width, image_shape[-1], name="decoder")
        self.build_networks()

    def call_every_network(self, images):
        self.decoder(self.encoder(images))

    def optimizer_variables(self):
        return {"autoencoder_optimizer": self.encoder.trainable_variables + self.decoder.trainable_variables}

    def training_inputs(self, images, seed):
        """The batch alone: the autoencoder draws nothing at random."""
        return images

    def train_step(self, images):
        with tf.GradientTape() as tape:
            loss = losses.reconstruction_loss(images, self.reconstruction(images))
        self.update(tape, self.autoencoder_optimizer, [(loss, self.optimizer_variables()["autoencoder_optimizer"])])
        return self.reported({"rec": loss})

    def reconstruction(self, images):
        """x^ = De(En(x)), whose error |x - x^| is the score and the anomaly map."""
        return float32(self.decoder(self.encoder(images)))

    def preview_images(self, images, seed):
        """x, x^ and |x - x^| (shifted to the images' [-1, 1] scale: black is no error), for TensorBoard."""
        reconstructions = self.reconstruction(images)
        return {"x": images, "x^": reconstructions, "|x - x^|": tf.abs(images - reconstructions) - 1.0}

    def get_config(self):
        return {"image_shape": self.image_shape, "width": self.width, "latent_channels": self.latent_channels,
                "name": self.name}
