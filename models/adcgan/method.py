"""AD-CGAN behind the method interface (models/method.py): its settings, their paper defaults, its model and scores.

The paper's settings (appendix A.3): Adam, batch 32, learning rates 3e-4 for the CGAN and 2e-4
for the autoencoder, latent size 100, and a length in epochs (EPOCHS). From the authors' code:
Adam beta_1 = 0.5 (also DGAD's), D_z trained at the CGAN's learning rate. AD-CGAN keeps (F)MNIST
at 28x28; Cats-vs-Dogs is 64x64 with a latent of 200. The embedded digits are in neither paper:
their defaults are CPU-sized.
"""

import dataclasses

import keras

from models.adcgan.model import ADCGAN
from models.adcgan.networks import table2_layout
from models.adcgan.paper_results import adcgan_row
from models.adcgan.score_functions import LAMBDA, RHO, SCORE_NAMES, SCORES
from models.adcgan.scoring import Scorer
from models.method import Method, Schedule, adam
from models.settings import (NON_NEGATIVE_INTEGER, POSITIVE, POSITIVE_INTEGER, SCORING, UNIT_INTERVAL,
                             MethodSettings, setting)

# Per scheme: (epochs, autoencoder warm-up epochs). "15 epochs with 5 warm-up epochs" and "35 epochs
# plus 15 warm-up epochs": we read both as warm-up epochs before the others.
EPOCHS = {"one_vs_all": (15, 5), "all_vs_one": (35, 15)}
LENGTH_FIELDS = ("epochs", "warmup_epochs")


@dataclasses.dataclass(frozen=True)
class ADCGANSettings(MethodSettings):
    """AD-CGAN's own settings; the lengths in epochs are derived from --scheme by ADCGANMethod.resolve."""

    latent_size: int = setting(100, help="latent vector size", allowed=POSITIVE_INTEGER)
    autoencoder_learning_rate: float = setting(2e-4, help="the autoencoder's learning rate", allowed=POSITIVE)
    epochs: int | None = setting(help="epochs after the warm-up, used when --iterations is not given",
                                 allowed=POSITIVE_INTEGER)
    warmup_epochs: int | None = setting(help="autoencoder-only epochs first; with --iterations, the warm-up takes "
                                             "the same share of them", allowed=NON_NEGATIVE_INTEGER)
    ns_lambda: float = setting(LAMBDA, help="lambda in NS, the feature share of L_Gr", allowed=UNIT_INTERVAL,
                               changes=SCORING)
    ns_rho: float = setting(RHO, help="rho in NS, the L_FE share of L_Fr", allowed=UNIT_INTERVAL, changes=SCORING)


class ADCGANMethod(Method):
    name = "adcgan"
    title = "AD-CGAN"
    description = "the AD-CGAN paper, the comparison method: a contrastive GAN with an encoder"
    settings = ADCGANSettings
    score_choices = {**{score: (score,) for score in SCORES}, "all": SCORES}
    score_help = "gf is the normality score NS (eqs 4-5); lg, lfe, lfl its Table 4 ablations; all writes the four"
    comparison_scores = SCORES
    # Without XLA: on a CPU, XLA's kernel gradients of these strided and transposed convolutions made
    # the step 5.8x slower than TensorFlow's own kernels (README, Speed).
    defaults = {"score": "gf", "batch_size": 32, "learning_rate": 3e-4, "jit_compile": False}
    derived_from = {name: ("scheme",) for name in LENGTH_FIELDS}
    dataset_defaults = {
        "mnist": {"image_size": 28},
        "fashion_mnist": {"image_size": 28},
        "cats_vs_dogs": {"image_size": 64, "latent_size": 200},
        "digits": {"width": 8, "iterations": 300},
    }

    def dataset_settings(self, dataset, given):
        settings = super().dataset_settings(dataset, given)
        if any(name in given for name in LENGTH_FIELDS):
            # Asking for a length in epochs drops the dataset's default length in iterations.
            settings.pop("iterations", None)
        return settings

    def resolve(self, settings):
        epochs, warmup_epochs = EPOCHS.get(settings["scheme"], (None, None))
        for name, value in (("epochs", epochs), ("warmup_epochs", warmup_epochs)):
            if settings[name] is None:
                settings[name] = value
        return settings

    def check_image_shape(self, image_shape):
        try:
            table2_layout(image_shape)
        except ValueError as error:
            raise ValueError(f"{error}; pass main.py --image_size 32 (or 28 for one channel, 64 for colour)") from error

    def run_name_parts(self, config):
        length = f"i{config.iterations}" if config.iterations else f"e{config.epochs}+{config.warmup_epochs}"
        return ["adcgan", config.scheme, f"w{config.width}", length, f"b{config.batch_size}", f"seed{config.seed}"]

    def schedule(self, config, train_size):
        """The paper's epochs, or a given number of iterations split between warm-up and the rest in the
        paper's proportion."""
        total_epochs = config.epochs + config.warmup_epochs
        if config.iterations:
            return Schedule(config.iterations, round(config.iterations * config.warmup_epochs / total_epochs))
        # As in the input pipeline, an epoch is the whole batches of the training set.
        batches_per_epoch = max(1, train_size // config.batch_size)
        return Schedule(total_epochs * batches_per_epoch, config.warmup_epochs * batches_per_epoch)

    def build(self, config, image_shape):
        keras.utils.set_random_seed(config.seed)
        model = ADCGAN(image_shape, config.latent_size, config.width)
        # The latent game D_z vs E runs at the CGAN's learning rate, as in the authors' code.
        model.compile(cgan_optimizer_g=adam(config), cgan_optimizer_d=adam(config), latent_optimizer=adam(config),
                      autoencoder_optimizer=adam(config, config.autoencoder_learning_rate),
                      jit_compile=config.jit_compile)
        return model

    def start_class(self, model, schedule):
        model.warmup_iterations.assign(schedule.warmup_iterations)

    def parameter_summary(self, model):
        return (f"AD-CGAN at width {model.width}, latent {model.latent_size}: encoder "
                f"{model.encoder.count_params() / 1e6:.2f}M parameters, generator (= decoder) "
                f"{model.generator.count_params() / 1e6:.2f}M, critic {model.critic.count_params() / 1e6:.2f}M, "
                f"D_z {model.latent_discriminator.count_params() / 1e6:.3f}M")

    def scorer(self, model, config):
        return Scorer(model, config.batch_size, config.seed, config.ns_lambda, config.ns_rho, config.jit_compile)

    def paper_row(self, dataset, config, score):
        return adcgan_row(dataset, config.scheme, score)

    def score_label(self, config, score):
        return SCORE_NAMES[score]

    def budget_text(self, config):
        length = (f"{config.iterations} iterations" if config.iterations
                  else f"{config.warmup_epochs} + {config.epochs} epochs")
        return (f"AD-CGAN: width {config.width}, batch {config.batch_size}, {length} (the first "
                f"{config.warmup_epochs}/{config.warmup_epochs + config.epochs} of them train the autoencoder only), "
                f"latent {config.latent_size}, learning rates {config.learning_rate} (CGAN, D_z) and "
                f"{config.autoencoder_learning_rate} (autoencoder), image size {config.image_size}, "
                f"lambda {config.ns_lambda}, rho {config.ns_rho}.")


METHOD = ADCGANMethod()
