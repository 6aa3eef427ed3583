"""The method contract (models/method.py, models/detector_model.py, models/settings.py) as a new method meets it.

A fourth method, sketched here against the contract alone (a 1x1 convolution that reconstructs its
input, scored by its error), is registered for the test and runs through main.py: trained, tested,
summarised and exported with no edit outside this file. That is what adding a method costs.
"""

import dataclasses
import json

import keras
import numpy as np
import pytest
import tensorflow as tf

import main
from models.detector_model import DetectorModel, float32
from models.method import Method, ScoreResult, ScoringImages, adam
from models.registry import METHODS
from models.settings import POSITIVE, SCORING, MethodSettings, setting
from utils.running.config import Config
from utils.scoring.batching import per_image_pass, timed


class OneByOne(DetectorModel):
    """x^ = a 1x1 convolution of x, trained on L1."""

    STEP_COUNTER = "convolution_optimizer"

    def __init__(self, image_shape, **kwargs):
        super().__init__(image_shape, **kwargs)
        self.convolution = keras.layers.Conv2D(image_shape[-1], 1)
        self.build_networks()

    def call_every_network(self, images):
        self.convolution(images)

    def optimizer_variables(self):
        return {"convolution_optimizer": self.convolution.trainable_variables}

    def training_inputs(self, images, seed):
        return images

    def train_step(self, images):
        with tf.GradientTape() as tape:
            loss = tf.reduce_mean(tf.abs(images - self.reconstruction(images)))
        self.update(tape, self.convolution_optimizer, [(loss, self.convolution.trainable_variables)])
        return self.reported({"loss": loss})

    def reconstruction(self, images):
        return float32(self.convolution(images))

    def preview_images(self, images, seed):
        return {"x": images, "x^": self.reconstruction(images)}


class OneByOneScorer:
    def __init__(self, model, batch_size, gain):
        self.model, self.batch_size, self.gain = model, batch_size, gain

    def errors(self, images):
        return {"error": self.gain * tf.reduce_mean(tf.abs(images - self.model.reconstruction(images)), [1, 2, 3])}

    def score(self, images: ScoringImages, scores, fitted=None):
        errors, seconds = timed(per_image_pass, self.errors, images.test, self.batch_size)
        return {score: ScoreResult(errors["error"], {"error": errors["error"]},
                                   {"images_per_second": len(errors["error"]) / seconds}) for score in scores}

    def serving_scores(self, scores, fitted):
        return lambda images: {score: self.errors(images)["error"] for score in scores}


@dataclasses.dataclass(frozen=True)
class OneByOneSettings(MethodSettings):
    gain: float = setting(1.0, help="the factor of every score", allowed=POSITIVE, changes=SCORING)


class OneByOneMethod(Method):
    name = "one_by_one"
    title = "OneByOne"
    description = "a 1x1 convolution, the contract's example"
    settings = OneByOneSettings
    score_choices = {"error": ("error",)}
    score_help = "error is the mean |x - x^|"
    defaults = {"score": "error", "batch_size": 16, "learning_rate": 1e-2, "iterations": 6, "jit_compile": False}

    def run_name_parts(self, config):
        return ["one_by_one", f"i{config.iterations}", f"seed{config.seed}"]

    def build(self, config, image_shape):
        keras.utils.set_random_seed(config.seed)
        model = OneByOne(image_shape)
        model.compile(convolution_optimizer=adam(config), jit_compile=config.jit_compile)
        return model

    def parameter_summary(self, model):
        return f"OneByOne: {model.count_params()} parameters"

    def scorer(self, model, config):
        return OneByOneScorer(model, config.batch_size, config.gain)

    def budget_text(self, config):
        return f"OneByOne: {config.iterations} iterations."


@pytest.fixture
def one_by_one_registered(monkeypatch):
    monkeypatch.setitem(METHODS, OneByOneMethod.name, OneByOneMethod())


@pytest.mark.slow
@pytest.mark.usefixtures("one_by_one_registered")
def test_a_method_written_against_the_contract_alone_runs_through_the_program(run_main, folders, capsys):
    flags = ["--method", "one_by_one", "--dataset", "digits", "--train_object", "0", "--gain", "2"]
    assert run_main(flags + ["--phase", "both"]) == 0
    config = Config(method="one_by_one", dataset="digits", gain=2.0, **folders)
    summary = json.loads((config.results_folder("error") / "summary.json").read_text())
    assert summary["config"]["gain"] == 2.0 and summary["config"]["method"] == "one_by_one"
    saved = json.loads((config.checkpoint_folder() / "0_0" / "config.json").read_text())
    assert saved["gain"] == 2.0 and "protocol" not in saved
    assert run_main(flags + ["--phase", "export"]) == 0
    capsys.readouterr()
    with pytest.raises(SystemExit):
        main.parse_arguments(["--help"])
    assert "OneByOne only (--method one_by_one)" in capsys.readouterr().out


def test_a_model_that_leaves_out_a_view_cannot_be_made():
    class Incomplete(DetectorModel):
        def call_every_network(self, images):
            pass

    with pytest.raises(TypeError, match="abstract"):
        Incomplete((8, 8, 1))


def test_an_optimiser_named_like_a_keras_attribute_is_refused():
    class Named(OneByOne):
        def optimizer_variables(self):
            return {"optimizer": self.convolution.trainable_variables}

    with pytest.raises(ValueError, match="optimiser name optimizer is taken by keras.Model"):
        Named((8, 8, 1)).compile(optimizer=keras.optimizers.Adam())


def test_a_score_without_its_speed_is_refused():
    with pytest.raises(ValueError, match="metrics must hold images_per_second"):
        ScoreResult(np.zeros(3), {}, {})


def test_a_setting_is_checked_and_typed_from_its_field():
    with pytest.raises(ValueError, match="--gain must be greater than 0, got -1.0"):
        OneByOneSettings(gain=-1.0).check()
    with pytest.raises(ValueError, match="changes must be"):
        setting(1, help="x", changes="everything")
