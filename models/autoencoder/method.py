"""The plain autoencoder baseline behind the method interface (models/method.py).

Not a paper's method: the classic reconstruction baseline, with DGAD's encoder and decoder at the
same --width and DGAD's paper budget (Adam 1e-4, 0.5, 0.999; batch 64; 10000 iterations), scored by
its pixel reconstruction error. Beside DGAD at the same settings it answers whether the
discriminator, the pretext task and the compactness loss beat a plain autoencoder.
"""

import dataclasses

import keras

from models.autoencoder.model import Autoencoder
from models.autoencoder.scoring import Scorer
from models.dgad.method import IMAGE_SIZE_MULTIPLE, ITERATIONS
from models.dgad.networks import default_latent_channels
from models.method import Method, adam
from models.settings import POSITIVE_INTEGER, MethodSettings, setting


@dataclasses.dataclass(frozen=True)
class AutoencoderSettings(MethodSettings):
    """The autoencoder's own setting: its latent, as DGAD's."""

    latent_channels: int | None = setting(help="channels of the latent z (at 1/4 of the image's size); the default "
                                               "is DGAD's, 2 x --width", allowed=POSITIVE_INTEGER)


class AutoencoderMethod(Method):
    name = "autoencoder"
    title = "Autoencoder"
    description = "a plain convolutional autoencoder (DGAD's encoder and decoder, L1 loss), the baseline"
    settings = AutoencoderSettings
    score_choices = {"rec": ("rec",)}
    score_help = "rec is the mean pixel reconstruction error |x - x^|"
    defaults = {"score": "rec", "batch_size": 64, "learning_rate": 1e-4, "iterations": ITERATIONS,
                "jit_compile": True}
    derived_from = {"latent_channels": ("width",)}
    # DGAD's, but in iterations: MVTec AD's 6000 epochs are a DGAD setting.
    dataset_defaults = {
        "mvtec": {"image_size": 128, "batch_size": 8, "max_zoom": 0.1},
        "cats_vs_dogs": {"image_size": 64},
        "digits": {"width": 8, "batch_size": 32, "iterations": 100},
    }

    def resolve(self, settings):
        if settings["latent_channels"] is None:
            settings["latent_channels"] = default_latent_channels(settings["width"])
        self.check_image_shape((settings["image_size"], settings["image_size"], None))
        return settings

    def check_image_shape(self, image_shape):
        if image_shape[0] % IMAGE_SIZE_MULTIPLE:
            raise ValueError(f"--image_size must be a multiple of {IMAGE_SIZE_MULTIPLE} for the autoencoder (its "
                             f"encoder halves it twice), got {image_shape[0]}")

    def run_name_parts(self, config):
        latent = [] if config.latent_channels == default_latent_channels(config.width) else [f"z{config.latent_channels}"]
        return ["autoencoder", config.scheme, f"w{config.width}", *latent, f"i{config.iterations}",
                f"b{config.batch_size}", f"seed{config.seed}"]

    def build(self, config, image_shape):
        keras.utils.set_random_seed(config.seed)
        model = Autoencoder(image_shape, config.width, config.latent_channels)
        model.compile(autoencoder_optimizer=adam(config), jit_compile=config.jit_compile)
        return model

    def parameter_summary(self, model):
        parameters = model.encoder.count_params() + model.decoder.count_params()
        return f"Autoencoder at width {model.width}: encoder + decoder {parameters / 1e6:.2f}M parameters (DGAD's)"

    def scorer(self, model, config):
        return Scorer(model, config.batch_size, config.jit_compile)

    def budget_text(self, config):
        return (f"Autoencoder: width {config.width}, batch {config.batch_size}, {config.iterations} iterations, "
                f"learning rate {config.learning_rate}, image size {config.image_size}.")


METHOD = AutoencoderMethod()
