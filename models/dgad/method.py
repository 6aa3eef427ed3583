"""DGAD behind the method interface (models/method.py): its settings, their paper defaults, its model and scores.

The paper's settings (section 4.2): Adam (1e-4, 0.5, 0.999), batch 64, 10000 iterations,
lambda_cls = 10, lambda_rec = 20, lambda_cmp = 100 (losses/dgad.py), lambda_s = 10 (eq 15).
MVTec AD (section 4.4): 128x128, random zoom, batch 8, 6000 iterations, Protocol 3 (the zoom range
is ours, the paper gives none). Cats-vs-Dogs: 64x64, as in AD-CGAN. The embedded digits are in
neither paper: their defaults are CPU-sized so that the quick start takes minutes.
"""

import keras

from losses.dgad import LAMBDA_CLS, LAMBDA_CMP, LAMBDA_REC
from models.dgad.model import DGAD, RESTORATIONS
from models.dgad.scores import LAMBDA_S
from models.dgad.scoring import Scorer
from models.layers import PADDING_MODES
from models.method import Flag, Method, adam
from utils.reporting.paper_results import DGAD_PARAMETERS, ReportedRow, dgad_row

PROTOCOLS = (1, 2, 3)
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


class DGADMethod(Method):
    name = "dgad"
    title = "DGAD"
    score_choices = {"rec": ("rec",), "dir": ("dir",), "both": ("rec", "dir")}
    score_help = ("rec is s_rec (eq 15, fast), dir the Dirichlet score s_dir (eq 17, the discriminator only), "
                  "both writes each")
    own_fields = ("variant", "protocol", "padding", "coordconv", "restoration", "lambda_cls", "lambda_rec",
                  "lambda_cmp", "lambda_s")
    training_fields = ("method", "dataset", "data_dir", "scheme", "image_size", "max_zoom", "width", "batch_size",
                       "iterations", "learning_rate", "beta_1", "beta_2", "seed", "precision", "variant", "protocol",
                       "padding", "coordconv", "restoration", "lambda_cls", "lambda_rec", "lambda_cmp")
    scoring_fields = ("lambda_s",)
    defaults = {"score": "rec", "batch_size": 64, "iterations": 10000, "learning_rate": 1e-4, "variant": "dgad",
                "protocol": 1, "lambda_cls": LAMBDA_CLS, "lambda_rec": LAMBDA_REC, "lambda_s": LAMBDA_S}
    choices = {"variant": tuple(VARIANTS), "protocol": PROTOCOLS, "padding": PADDING_MODES, "coordconv": (False, True),
               "restoration": RESTORATIONS}
    derived_from = {name: ("variant",) for name in ("padding", "coordconv", "restoration", "lambda_cmp")}
    dataset_defaults = {
        "mvtec": {"image_size": 128, "batch_size": 8, "iterations": 6000, "protocol": 3, "max_zoom": 0.1},
        "cats_vs_dogs": {"image_size": 64},
        "digits": {"width": 8, "batch_size": 32, "iterations": 100},
    }
    run_flags = "--width/--iterations/--protocol/--variant/--batch_size/--seed"
    flags = (
        Flag("protocol", int, "pretext task: 1 rotation, 2 jigsaw, 3 jigsaw + tile rotation", choices["protocol"]),
        Flag("variant", str, VARIANT_HELP, choices["variant"]),
        Flag("lambda_s", float, "weight of the latent term in s_rec, eq 15"),
    )

    def resolve(self, settings: dict) -> dict:
        if settings["variant"] not in VARIANTS:
            raise ValueError(f"unknown variant {settings['variant']!r} for dgad; expected one of {tuple(VARIANTS)}")
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

    def upgrade_saved(self, saved):
        if "restoration" in saved:
            return saved
        # Before the variants were resolved in the configuration, config.json held the variant only (and
        # lambda_cmp 100 for no_compactness, which trained with 0).
        return {**saved, **ARCHITECTURE_DEFAULTS, **VARIANTS.get(saved.get("variant", "dgad"), {})}

    def check_image_shape(self, image_shape):
        if image_shape[0] % IMAGE_SIZE_MULTIPLE:
            raise ValueError(f"--image_size must be a multiple of {IMAGE_SIZE_MULTIPLE} for DGAD (the encoder halves "
                             f"it twice), got {image_shape[0]}")

    def run_name_parts(self, config):
        variant = [] if config.variant == "dgad" else [config.variant]
        return ["dgad", *variant, f"p{config.protocol}", config.scheme, f"w{config.width}", f"i{config.iterations}",
                f"b{config.batch_size}", f"seed{config.seed}"]

    def build(self, config, image_shape):
        keras.utils.set_random_seed(config.seed)
        model = DGAD(image_shape, config.protocol, config.width, config.padding, config.coordconv, config.restoration,
                     lambda_cls=config.lambda_cls, lambda_rec=config.lambda_rec, lambda_cmp=config.lambda_cmp)
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
        return (f"DGAD: width {config.width}, batch {config.batch_size}, {config.iterations} iterations, "
                f"learning rate {config.learning_rate}, image size {config.image_size}.")


METHOD = DGADMethod()
