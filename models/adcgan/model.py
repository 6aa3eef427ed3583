"""AD-CGAN as a keras.Model whose train_step is the paper's training (section 2.1, appendix A.3), with the
authors' public code (LayaaRS/AD-CGAN) where the paper is silent.

One step: an autoencoder update (MSE), then, after the warm-up, one simultaneous update of the
critic (eq 2, InfoNCE on real images), the generator (eq 2, InfoNCE on generated images), D_z and
the encoder (eq 3), from one forward pass. The design choices where the paper and the authors'
code differ are listed in models/adcgan/networks.py.
"""

import keras
import tensorflow as tf

from losses import adcgan as losses
from models.adcgan.networks import Critic, Encoder, Generator, LatentDiscriminator
from models.detector_model import DetectorModel, across_replicas, float32

ADVERSARIAL_LOSS_NAMES = ("d_loss", "d_adv", "d_nce", "g_loss", "g_adv", "g_nce", "dz_loss", "e_latent")


@keras.saving.register_keras_serializable("adcgan")
class ADCGAN(DetectorModel):
    """E, G, D_cgan and D_z of AD-CGAN, trained by fit(); models/adcgan/scoring.py scores it."""

    # The autoencoder is updated in every step, warm-up included.
    STEP_COUNTER = "autoencoder_optimizer"

    def __init__(self, image_shape, latent_size: int = 100, width: int = 64, alpha: float = losses.ALPHA,
                 beta: float = losses.BETA, warmup_iterations: int = 0, **kwargs):
        super().__init__(image_shape, **kwargs)
        self.latent_size = latent_size
        self.width = width
        self.alpha = alpha
        self.beta = beta
        # A variable, not a number: the compiled training step reads it, and one compiled model
        # serves classes whose warm-up (a number of epochs) differs with their training set size.
        self.warmup_iterations = self.add_weight(
            shape=(), dtype="int64", initializer=keras.initializers.Constant(warmup_iterations), trainable=False,
            name="warmup_iterations")
        self.encoder = Encoder(image_shape, latent_size, width, name="encoder")
        self.generator = Generator(image_shape, width, name="generator")
        self.critic = Critic(image_shape, width, name="critic")
        self.latent_discriminator = LatentDiscriminator(width, name="latent_discriminator")
        self.build_networks()

    def call_every_network(self, images):
        latents = self.encoder(images)
        self.generator(latents)
        self.critic(images)
        self.latent_discriminator((latents, latents))

    @property
    def autoencoder_variables(self):
        return self.encoder.trainable_variables + self.generator.trainable_variables

    @property
    def latent_variables(self):
        """D_z's and the encoder's: both sides of the latent game are stepped by one optimiser."""
        return self.latent_discriminator.trainable_variables + self.encoder.trainable_variables

    def optimizer_variables(self):
        return {"cgan_optimizer_g": self.generator.trainable_variables,
                "cgan_optimizer_d": self.critic.trainable_variables,
                "autoencoder_optimizer": self.autoencoder_variables, "latent_optimizer": self.latent_variables}

    def training_inputs(self, images, seed):
        """(x, z): the batch and one z ~ N(0, I) per image drawn from `seed`, for G(z) and D_z's pairs (eqs 2-3)."""
        return images, tf.random.stateless_normal((tf.shape(images)[0], self.latent_size), seed)

    def train_step(self, data):
        images, noise = data
        # Read before the autoencoder update below increments the counter.
        past_warmup = self.iterations >= self.warmup_iterations
        with tf.GradientTape() as tape:
            ae_loss = losses.autoencoder_loss(images, float32(self.generator(self.encoder(images))))
        self.update(tape, self.autoencoder_optimizer, [(ae_loss, self.autoencoder_variables)])
        # A condition, not a 0/1 weight on the losses: fed zero gradients, Adam would still count the
        # steps (skewing its bias correction later) and, once it has momentum, move the weights; the
        # spectral norm of the critic and of D_z would still iterate and rescale their kernels.
        adversarial_losses = self.step_if(
            past_warmup, self.adversarial_step, lambda: {name: tf.zeros(()) for name in ADVERSARIAL_LOSS_NAMES},
            images, noise)
        return self.reported({"ae_loss": ae_loss, **adversarial_losses})

    def adversarial_step(self, images, noise) -> dict:
        """One simultaneous update of the critic, the generator (eq 2), D_z and the encoder (eq 3)."""
        with tf.GradientTape(persistent=True) as tape:
            outputs = float32(self.critic(tf.concat([images, float32(self.generator(noise))], 0), training=True))
            real_logits, fake_logits = tf.split(outputs["logits"], 2)
            # InfoNCE's softmax runs over the locals of the whole batch: the global batch, under a strategy.
            real_local, fake_local, real_global, fake_global = (
                across_replicas(half) for features in float32(self.critic.project(outputs, training=True))
                for half in tf.split(features, 2))
            d_adv = losses.discriminator_adversarial_loss(real_logits, fake_logits)
            d_nce = losses.info_nce_loss(real_local, real_global)
            d_loss = losses.critic_loss(d_adv, d_nce, self.beta)
            g_adv = losses.generator_adversarial_loss(real_logits, fake_logits)
            g_nce = losses.info_nce_loss(fake_local, fake_global)
            g_loss = losses.generator_loss(g_adv, g_nce, self.alpha)

            pair_logits = float32(self.latent_discriminator(
                (tf.concat([noise, noise], 0), tf.concat([noise, float32(self.encoder(images))], 0)), training=True))
            real_pair_logits, fake_pair_logits = tf.split(pair_logits, 2)
            dz_loss = losses.latent_discriminator_loss(real_pair_logits, fake_pair_logits)
            e_latent = losses.latent_encoder_loss(fake_pair_logits)

        self.update(tape, self.cgan_optimizer_d, [(d_loss, self.critic.trainable_variables)])
        self.update(tape, self.cgan_optimizer_g, [(g_loss, self.generator.trainable_variables)])
        self.update(tape, self.latent_optimizer, [(dz_loss, self.latent_discriminator.trainable_variables),
                                                  (e_latent, self.encoder.trainable_variables)])
        del tape
        return {"d_loss": d_loss, "d_adv": d_adv, "d_nce": d_nce, "g_loss": g_loss, "g_adv": g_adv,
                "g_nce": g_nce, "dz_loss": dz_loss, "e_latent": e_latent}

    def reconstruction(self, images):
        """G(E(x)): the image whose pixel error is the residual loss L_GR (eq 4) and the anomaly map."""
        return float32(self.generator(self.encoder(images)))

    def preview_images(self, images, seed):
        """x, G(E(x)) and G(z) for a random z drawn from `seed`, for TensorBoard."""
        noise = tf.random.stateless_normal((tf.shape(images)[0], self.latent_size), seed)
        return {"x": images, "G(E(x))": self.reconstruction(images), "G(z)": float32(self.generator(noise))}

    def score_terms(self, images, seed):
        """The four per-image terms of the normality score (eqs 4-5), each a mean over elements.

        L_FL uses G(z) for a random z, as eq 5 and its text say (the authors' code puts G(E(x))
        there). z is drawn from `seed` (two int64s), once per batch and shared by its images, so an
        image's score does not depend on its place in the batch and the draw adds no image-to-image
        noise to the ranking.
        """
        latents = float32(self.encoder(images))
        reconstructions = float32(self.generator(latents))
        reconstruction_latents = float32(self.encoder(reconstructions))
        features = float32(self.critic(tf.concat([images, reconstructions], 0))["penultimate_features"])
        image_features, reconstruction_features = tf.split(features, 2)

        noise = tf.random.stateless_normal((1, self.latent_size), seed)
        generated_latents = float32(self.encoder(self.generator(noise)))
        noise_pair_logit = float32(self.latent_discriminator((generated_latents, noise)))
        image_pair_logits = float32(self.latent_discriminator(
            (latents, tf.broadcast_to(generated_latents, tf.shape(latents)))))
        return {
            # Halved: the authors' code measures it on images in [0, 1], ours are in [-1, 1], and
            # its weight against the other terms (eq 4) must stay theirs.
            "image_error": tf.reduce_mean(tf.abs(images - reconstructions), axis=[1, 2, 3]) / 2,
            "feature_error": tf.reduce_mean(tf.abs(image_features - reconstruction_features), axis=1),
            "encoded_error": tf.reduce_mean(tf.abs(latents - reconstruction_latents), axis=1),
            "latent_error": tf.abs(noise_pair_logit - image_pair_logits),
        }

    def get_config(self):
        return {
            "image_shape": self.image_shape, "latent_size": self.latent_size, "width": self.width,
            "alpha": self.alpha, "beta": self.beta, "warmup_iterations": int(self.warmup_iterations.numpy()),
            "name": self.name,
        }
