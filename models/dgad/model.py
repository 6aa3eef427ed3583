"""DGAD as a keras.Model whose train_step is the paper's Figure 3 (section 3.2).

One step: transform the real batch x_r into x_t with a random pretext transformation; encode
both (z_r, z_t); decode both (x^_r reconstructs x_r, x^_t restores x_t); re-encode the restored
image (z^_t = En(x^_t)); ask D for the adversarial logit and transformation logits of the three
pairs (x_r, z_r), (x_t, z_t), (x^_t, z^_t); then one discriminator and one generator update.
Both updates use gradients of the same forward pass (one D update per G update, as in the
paper). Instance norm and spectral norm keep every image independent of the rest of its batch,
so x_r and x_t share one encoder call, z_r and z_t one decoder call, and the three pairs one
discriminator call.

The model takes concrete settings, never a variant name: the variants of the paper's Table 4 are
resolved into them by the configuration (models/dgad/method.py). restoration="pixel" (the "gan"
variant) restores x_t by pixel-level reconstruction (|x_r - x^_t|_1) instead of the
discriminator's guidance, so the generator gets no classification loss while D still learns to
classify (s_dir needs it); lambda_cmp=0 drops L_cmp; padding="zero" and coordconv=True give every
convolution absolute position information.
"""

import keras
import tensorflow as tf

from losses import dgad as losses
from models.detector_model import DetectorModel, across_replicas, float32
from models.dgad.networks import Decoder, Discriminator, Encoder
from models.dgad.pretext import LABEL_GROUPS, apply_transformation, identity_labels, label_size, random_transformation

# How the generator learns to restore x_t: guided by the discriminator (DGAD) or pixel by pixel (GAN).
RESTORATIONS = ("discriminator", "pixel")


@keras.saving.register_keras_serializable("dgad")
class DGAD(DetectorModel):
    """Encoder, decoder and discriminator of DGAD, trained by fit(); models/dgad/scoring.py scores it."""

    # Each step updates both optimisers once.
    STEP_COUNTER = "generator_optimizer"

    def __init__(self, image_shape: tuple[int, int, int], protocol: int = 1, width: int = 64,
                 padding: str = "symmetric", coordconv: bool = False, restoration: str = "discriminator",
                 lambda_cls: float = losses.LAMBDA_CLS, lambda_rec: float = losses.LAMBDA_REC,
                 lambda_cmp: float = losses.LAMBDA_CMP, l1_reading: str = "mean", latent_channels: int | None = None,
                 **kwargs):
        super().__init__(image_shape, **kwargs)
        if restoration not in RESTORATIONS:
            raise ValueError(f"unknown restoration {restoration!r}; expected one of {RESTORATIONS}")
        self.protocol = protocol
        self.width = width
        self.padding = padding
        self.coordconv = coordconv
        self.restoration = restoration
        self.lambda_cls = lambda_cls
        self.lambda_rec = lambda_rec
        self.lambda_cmp = lambda_cmp
        self.l1_reading = l1_reading
        self.label_groups = LABEL_GROUPS[protocol]
        self.encoder = Encoder(width, padding, coordconv, latent_channels, name="encoder")
        self.latent_channels = self.encoder.latent_channels
        self.decoder = Decoder(width, image_shape[-1], padding, coordconv, name="decoder")
        self.discriminator = Discriminator(label_size(protocol), width, padding, coordconv, name="discriminator")
        self.build_networks()

    def call_every_network(self, images):
        latents = self.encoder(images)
        self.decoder(latents)
        self.discriminator((images, latents))

    @property
    def generator_variables(self):
        return self.encoder.trainable_variables + self.decoder.trainable_variables

    def optimizer_variables(self):
        return {"generator_optimizer": self.generator_variables,
                "discriminator_optimizer": self.discriminator.trainable_variables}

    def training_inputs(self, images, seed):
        """(x_r, x_t, c_t): the batch, each image under its random pretext transformation drawn from `seed`, and
        the transformations' labels."""
        transformed_images, transformation_labels = random_transformation(images, self.protocol, seed)
        return images, transformed_images, transformation_labels

    def train_step(self, data):
        real_images, transformed_images, transformation_labels = data
        batch_size = tf.shape(real_images)[0]

        with tf.GradientTape(persistent=True) as tape:
            real_latents, transformed_latents = tf.split(
                self.encoder(tf.concat([real_images, transformed_images], 0)), 2)
            reconstructions, restored_images = tf.split(
                float32(self.decoder(tf.concat([real_latents, transformed_latents], 0))), 2)
            restored_latents = self.encoder(restored_images)
            adversarial_logits, classification_logits = float32(self.discriminator(
                (tf.concat([real_images, transformed_images, restored_images], 0),
                 tf.concat([real_latents, transformed_latents, restored_latents], 0)),
                training=True))
            real_adversarial, _, restored_adversarial = tf.split(adversarial_logits, 3)
            _, transformed_classification, restored_classification = tf.split(classification_logits, 3)

            d_adv = losses.discriminator_adversarial_loss(real_adversarial, restored_adversarial)
            d_cls = losses.discriminator_classification_loss(
                transformation_labels, transformed_classification, self.label_groups)
            d_loss = losses.discriminator_loss(d_adv, d_cls, self.lambda_cls)

            g_adv = losses.generator_adversarial_loss(restored_adversarial)
            g_cls = losses.generator_classification_loss(
                transformation_labels, transformed_classification,
                identity_labels(batch_size, self.protocol), restored_classification, self.label_groups)
            rec = losses.reconstruction_loss(real_images, reconstructions, self.l1_reading)
            # A statistic of the batch: over the global batch, whichever replica holds an image.
            cmp = losses.compactness_loss(across_replicas(losses.channel_means(float32(real_latents))))
            if self.restoration == "pixel":
                restore = losses.restoration_loss(real_images, restored_images, self.l1_reading)
                g_loss = losses.pixel_guided_generator_loss(g_adv, rec, restore, cmp, self.lambda_rec,
                                                            self.lambda_cmp)
                generator_logs = {"restore": restore}
            else:
                g_loss = losses.generator_loss(g_adv, g_cls, rec, cmp, self.lambda_cls, self.lambda_rec,
                                               self.lambda_cmp)
                generator_logs = {"g_cls": g_cls}

        self.update(tape, self.discriminator_optimizer, [(d_loss, self.discriminator.trainable_variables)])
        self.update(tape, self.generator_optimizer, [(g_loss, self.generator_variables)])
        del tape
        return self.reported({"d_loss": d_loss, "d_adv": d_adv, "d_cls": d_cls, "g_loss": g_loss, "g_adv": g_adv,
                              "rec": rec, "cmp": cmp, **generator_logs})

    def reconstruct(self, images):
        """(x^, z, z^) for test images x: x^ = De(En(x)), z = En(x), z^ = En(x^) (section 3.5)."""
        latents = self.encoder(images)
        reconstructions = float32(self.decoder(latents))
        return reconstructions, float32(latents), float32(self.encoder(reconstructions))

    def reconstruction(self, images):
        """x^ = De(En(x)): s_rec's pixel term and the anomaly map are |x - x^|."""
        return float32(self.decoder(self.encoder(images)))

    def preview_images(self, images, seed):
        """x_r, x_t, x^_t and x^_r of one training step (Figure 3), for TensorBoard."""
        _, transformed_images, _ = self.training_inputs(images, seed)
        reconstructions, restored_images = tf.split(
            float32(self.decoder(self.encoder(tf.concat([images, transformed_images], 0)))), 2)
        return {"x_r": images, "x_t": transformed_images, "restored x^_t": restored_images,
                "reconstructed x^_r": reconstructions}

    def reconstruction_errors(self, images):
        """Per-image |x - x^|_1 and |z - z^|_1 (means or sums, as l1_reading says), the two parts of s_rec (eq 15)."""
        reconstructions, latents, reconstruction_latents = self.reconstruct(images)
        return {
            "image_error": losses.l1_norms(images - reconstructions, self.l1_reading),
            "latent_error": losses.l1_norms(latents - reconstruction_latents, self.l1_reading),
        }

    def transformation_probabilities(self, images, transformation):
        """D_cls(T(x), En(T(x))) as probabilities (B, label_size), softmax per label group (eq 17).

        transformation: label indices (G,) of one transformation, applied to every image.
        """
        label_indices = tf.tile(tf.cast(transformation, tf.int32)[None, :], [tf.shape(images)[0], 1])
        transformed_images = apply_transformation(images, self.protocol, label_indices)
        _, logits = float32(self.discriminator((transformed_images, self.encoder(transformed_images))))
        return tf.concat([tf.nn.softmax(group) for group in tf.split(logits, list(self.label_groups), axis=-1)], -1)

    def get_config(self):
        return {
            "image_shape": self.image_shape, "protocol": self.protocol, "width": self.width,
            "padding": self.padding, "coordconv": self.coordconv, "restoration": self.restoration, "lambda_cls": self.lambda_cls,
            "lambda_rec": self.lambda_rec, "lambda_cmp": self.lambda_cmp, "l1_reading": self.l1_reading,
            "latent_channels": self.latent_channels, "name": self.name,
        }
