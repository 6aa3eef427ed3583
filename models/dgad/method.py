"""DGAD behind the method interface (models/method.py): its settings, their paper defaults, its model and scores.

The paper's settings (section 4.2): Adam (1e-4, 0.5, 0.999), batch 64, 10000 iterations,
lambda_cls = 10, lambda_rec = 20, lambda_cmp = 100 (losses/dgad.py), lambda_s = 10 (eq 15).
MVTec AD (section 4.4): 128x128, random zoom, batch 8, Protocol 3, and "6000 epochs with batch
size 8", read as written: 6000 passes over the category's normal training images (the zoom range
is ours, the paper gives none; --iterations 6000 gives the shorter reading). Cats-vs-Dogs: 64x64, as in AD-CGAN. The embedded digits are in
neither paper: their defaults are CPU-sized so that the quick start takes minutes.
"""

import dataclasses

import keras

from losses.dgad import L1_READINGS, LAMBDA_CLS, LAMBDA_CMP, LAMBDA_REC
from models.dgad.model import DGAD, RESTORATIONS
from models.dgad.networks import default_latent_channels
from models.dgad.paper_results import DGAD_PARAMETERS, dgad_row
from models.dgad.score_functions import LAMBDA_S
from models.dgad.scoring import Scorer
from models.layers import PADDING_MODES
from models.method import Method, Schedule, adam
from models.settings import NON_NEGATIVE, POSITIVE_INTEGER, SCORING, MethodSettings, setting
from utils.reporting.reported_row import ReportedRow

PROTOCOLS = (1, 2, 3)
# The paper's training length (section 4.2), where no length in epochs is given.
ITERATIONS = 10000
# The encoder halves the image twice.
IMAGE_SIZE_MULTIPLE = 4
# The paper's Table 4: each variant is DGAD with the concrete settings it changes.
VARIANTS = {
    "dgad": {},
    "gan": {"restoration": "pixel"},
    "no_compactness": {"lambda_cmp": 0.0},
    "zero_padding": {"padding": "zero"},
    "coordconv": {"coordconv": True},
}
VARIANT_HELP = ("the paper's Table 4 ablations: gan restores transformed images by pixel-level reconstruction "
                "instead of discriminator guidance; no_compactness drops L_cmp; zero_padding and coordconv add "
                "absolute position information")
# The settings a variant decides; a run records them in its config.json.
ARCHITECTURE_DEFAULTS = {"padding": "symmetric", "coordconv": False, "restoration": "discriminator"}


@dataclasses.dataclass(frozen=True)
class DGADSettings(MethodSettings):
    """DGAD's own settings; None is derived by DGADMethod.resolve (from --variant, or the latent from --width)."""

    protocol: int = setting(1, help="pretext task: 1 rotation, 2 jigsaw, 3 jigsaw + tile rotation", choices=PROTOCOLS)
    variant: str = setting("dgad", help=VARIANT_HELP, choices=tuple(VARIANTS))
    # The architecture and the loss weights are the paper's, or the variant's: the run's name is made from the
    # variant, so they are not flags of their own.
    padding: str | None = setting(help="the convolutions' padding; zero gives them absolute position information",
                                  choices=PADDING_MODES, flag=False)
    coordconv: bool | None = setting(help="add coordinate channels to every convolution's input",
                                     choices=(False, True), flag=False)
    restoration: str | None = setting(help="how the generator learns to restore x_t: guided by the discriminator, "
                                           "or pixel by pixel", choices=RESTORATIONS, flag=False)
    lambda_cls: float = setting(LAMBDA_CLS, help="weight of the classification losses, eqs 10-11",
                                allowed=NON_NEGATIVE, flag=False)
    lambda_rec: float = setting(LAMBDA_REC, help="weight of L_rec in the generator's loss, eq 11",
                                allowed=NON_NEGATIVE, flag=False)
    lambda_cmp: float | None = setting(help="weight of L_cmp in the generator's loss, eq 11", allowed=NON_NEGATIVE,
                                       flag=False)
    lambda_s: float = setting(LAMBDA_S, help="weight of the latent term in s_rec, eq 15", allowed=NON_NEGATIVE,
                              changes=SCORING)
    l1_reading: str = setting("mean", help="how ||.||_1 in eqs 6 (L_rec) and 15 (s_rec) is read: the mean of an "
                                           "image's (or latent's) absolute values, or their sum; the paper does not "
                                           "say", choices=L1_READINGS)
    latent_channels: int | None = setting(help="channels of the latent z (at 1/4 of the image's size); the paper "
                                               "does not give it, and the default is 2 x --width", allowed=POSITIVE_INTEGER)
    epochs: int | None = setting(help="the length in passes over the class's normal training images, instead of "
                                      "--iterations", allowed=POSITIVE_INTEGER)


class DGADMethod(Method):
    name = "dgad"
    title = "DGAD"
    description = "the DGAD paper: discriminator-guided generative representation learning"
    settings = DGADSettings
    score_choices = {"rec": ("rec",), "dir": ("dir",), "both": ("rec", "dir")}
    score_help = ("rec is s_rec (eq 15, fast), dir the Dirichlet score s_dir (eq 17, the discriminator only), "
                  "both writes each")
    # The length (10000 iterations unless --epochs or a dataset's epochs is given) is set in resolve().
    defaults = {"score": "rec", "batch_size": 64, "learning_rate": 1e-4, "jit_compile": True}
    derived_from = {**{name: ("variant",) for name in ("padding", "coordconv", "restoration", "lambda_cmp")},
                    "latent_channels": ("width",)}
    dataset_defaults = {
        "mvtec": {"image_size": 128, "batch_size": 8, "epochs": 6000, "protocol": 3, "max_zoom": 0.1},
        "cats_vs_dogs": {"image_size": 64},
        "digits": {"width": 8, "batch_size": 32, "iterations": 100},
    }

    def dataset_settings(self, dataset, given):
        settings = super().dataset_settings(dataset, given)
        # A length the user gives replaces the dataset's, in iterations (the digits') or in epochs (MVTec AD's).
        if "iterations" in given:
            settings.pop("epochs", None)
        if "epochs" in given:
            settings.pop("iterations", None)
        return settings

    def resolve(self, settings: dict) -> dict:
        if settings["iterations"] is not None and settings["epochs"] is not None:
            raise ValueError("give DGAD's length as --iterations or as --epochs, not both")
        if settings["iterations"] is None and settings["epochs"] is None:
            settings["iterations"] = ITERATIONS
        if settings["variant"] not in VARIANTS:
            raise ValueError(f"unknown variant {settings['variant']!r} for {self.name}; expected one of {tuple(VARIANTS)}")
        if settings["latent_channels"] is None:
            settings["latent_channels"] = default_latent_channels(settings["width"])
        concrete = {**ARCHITECTURE_DEFAULTS, "lambda_cmp": LAMBDA_CMP, **VARIANTS[settings["variant"]]}
        # Known now, before any data is read: the networks' own check, as build_model runs it.
        self.check_image_shape((settings["image_size"], settings["image_size"], None))
        for name, value in concrete.items():
            if settings[name] is None:
                settings[name] = value
            elif name in VARIANTS[settings["variant"]] and settings[name] != value:
                raise ValueError(f"variant {settings['variant']} sets {name} to {value!r}, not {settings[name]!r}; "
                                 "leave it out, or use variant dgad")
        return settings

    def check_image_shape(self, image_shape):
        if image_shape[0] % IMAGE_SIZE_MULTIPLE:
            raise ValueError(f"--image_size must be a multiple of {IMAGE_SIZE_MULTIPLE} for DGAD (the encoder halves "
                             f"it twice), got {image_shape[0]}")

    def run_name_parts(self, config):
        # A setting at its default is left out of the name, which then says how a run departs from the paper.
        variant = [] if config.variant == "dgad" else [config.variant]
        readings = [] if config.l1_reading == "mean" else [f"l1{config.l1_reading}"]
        latent = [] if config.latent_channels == default_latent_channels(config.width) else [f"z{config.latent_channels}"]
        return ["dgad", *variant, f"p{config.protocol}", config.scheme, f"w{config.width}", *latent, *readings,
                length_text(config), f"b{config.batch_size}", f"seed{config.seed}"]

    def schedule(self, config, train_size):
        if config.iterations:
            return Schedule(config.iterations)
        # As in the input pipeline, an epoch is the whole batches of the training set.
        return Schedule(config.epochs * max(1, train_size // config.batch_size))

    def build(self, config, image_shape):
        keras.utils.set_random_seed(config.seed)
        model = DGAD(image_shape, config.protocol, config.width, config.padding, config.coordconv, config.restoration,
                     lambda_cls=config.lambda_cls, lambda_rec=config.lambda_rec, lambda_cmp=config.lambda_cmp,
                     l1_reading=config.l1_reading, latent_channels=config.latent_channels)
        model.compile(generator_optimizer=adam(config), discriminator_optimizer=adam(config),
                      jit_compile=config.jit_compile)
        return model

    def parameter_summary(self, model):
        generator = model.encoder.count_params() + model.decoder.count_params()
        return (f"DGAD at width {model.width}: encoder + decoder {generator / 1e6:.2f}M parameters, discriminator "
                f"{model.discriminator.count_params() / 1e6:.2f}M (the paper, at width 64: about "
                f"{DGAD_PARAMETERS['encoder_decoder'] / 1e6:.1f}M and {DGAD_PARAMETERS['discriminator'] / 1e6:.1f}M)")

    def scorer(self, model, config):
        return Scorer(model, config.batch_size, config.lambda_s, config.jit_compile)

    def paper_row(self, dataset, config, score) -> ReportedRow | None:
        # Every DGAD result is one-vs-all.
        if config.scheme != "one_vs_all":
            return None
        return dgad_row(dataset, config.protocol, config.variant, score)

    def run_label(self, config):
        return f"{config.variant}, protocol {config.protocol}"

    def score_label(self, config, score):
        return f"DGAD (s_{score}, Protocol {config.protocol})"

    def budget_text(self, config):
        return (f"DGAD: width {config.width}, batch {config.batch_size}, {length_words(config)}, "
                f"learning rate {config.learning_rate}, image size {config.image_size}.")


def length_text(config) -> str:
    """A run's length in its name: i<iterations>, or e<epochs> for a length in epochs."""
    return f"i{config.iterations}" if config.iterations else f"e{config.epochs}"


def length_words(config) -> str:
    """A run's length in a sentence: "<iterations> iterations" or "<epochs> epochs"."""
    return f"{config.iterations} iterations" if config.iterations else f"{config.epochs} epochs"


METHOD = DGADMethod()
