"""The run configuration: the method's defaults, the variants resolved into concrete settings, its folder
name and the check that a saved run matches the settings."""

import json
import os
import re

import pytest

from models.registry import METHODS, get_method
from utils.running.config import Config, config_for_dataset, load_config_dict, save_config
from utils.running.experiment import ExperimentError, build_model


def test_run_id_names_the_variant_unless_it_is_dgad_itself():
    assert Config().run_id == "dgad-p1-one_vs_all-w64-i10000-b64-seed0"
    assert Config(variant="gan", protocol=2).run_id == "dgad-gan-p2-one_vs_all-w64-i10000-b64-seed0"


def test_the_l1_reading_and_the_latent_channels_name_a_run_only_when_they_are_not_the_default():
    assert Config(width=8).latent_channels == 16 and Config(width=8).l1_reading == "mean"
    assert Config(width=8, latent_channels=16).run_id == "dgad-p1-one_vs_all-w8-i10000-b64-seed0"
    assert Config(width=8, latent_channels=4, l1_reading="sum").run_id == (
        "dgad-p1-one_vs_all-w8-z4-l1sum-i10000-b64-seed0")
    with pytest.raises(ValueError, match="unknown l1_reading 'max'"):
        Config(l1_reading="max")
    with pytest.raises(ValueError, match="--latent_channels must be a positive integer, got 0"):
        Config(latent_channels=0)
    with pytest.raises(ValueError, match="--latent_channels is a setting of DGAD"):
        Config(method="adcgan", latent_channels=8)


def test_each_method_fills_in_its_defaults_and_leaves_the_other_methods_settings_out():
    dgad, adcgan = Config(), Config(method="adcgan")
    assert (dgad.score, dgad.batch_size, dgad.iterations, dgad.learning_rate, dgad.protocol) == ("rec", 64, 10000,
                                                                                                1e-4, 1)
    assert (adcgan.score, adcgan.batch_size, adcgan.iterations, adcgan.learning_rate, adcgan.latent_size,
            adcgan.epochs, adcgan.warmup_epochs) == ("gf", 32, None, 3e-4, 100, 15, 5)
    # Both read epochs; DGAD's length is in iterations unless a length in epochs is asked for.
    assert dgad.epochs is None
    shared = set(get_method("adcgan").settings.names()) & set(get_method("dgad").settings.names())
    assert shared == {"epochs"}
    assert not any(hasattr(dgad, name) for name in set(get_method("adcgan").settings.names()) - shared)
    assert not any(hasattr(adcgan, name) for name in set(get_method("dgad").settings.names()) - shared)
    assert set(dgad.to_dict()) - set(adcgan.to_dict()) == set(get_method("dgad").settings.names()) - shared


# Each variant of the paper's Table 4 and the concrete settings it trains with.
RESOLVED_VARIANTS = {
    "dgad": {"padding": "symmetric", "coordconv": False, "restoration": "discriminator", "lambda_cmp": 100.0},
    "gan": {"padding": "symmetric", "coordconv": False, "restoration": "pixel", "lambda_cmp": 100.0},
    "no_compactness": {"padding": "symmetric", "coordconv": False, "restoration": "discriminator", "lambda_cmp": 0.0},
    "zero_padding": {"padding": "zero", "coordconv": False, "restoration": "discriminator", "lambda_cmp": 100.0},
    "coordconv": {"padding": "symmetric", "coordconv": True, "restoration": "discriminator", "lambda_cmp": 100.0},
}


@pytest.mark.parametrize("variant", list(RESOLVED_VARIANTS))
def test_a_variant_resolves_into_the_settings_it_trains_with_and_config_json_records_them(variant, tmp_path):
    config = Config(variant=variant)
    assert {name: getattr(config, name) for name in RESOLVED_VARIANTS[variant]} == RESOLVED_VARIANTS[variant]
    saved = json.loads(save_config(config, tmp_path).read_text())
    assert {name: saved[name] for name in RESOLVED_VARIANTS[variant]} == RESOLVED_VARIANTS[variant]
    assert saved["variant"] == variant and load_config_dict(tmp_path) == saved


def test_a_setting_that_agrees_with_the_variant_or_that_it_leaves_alone_is_accepted():
    assert Config(variant="gan", restoration="pixel") == Config(variant="gan")
    assert Config(variant="no_compactness", padding="zero").padding == "zero"
    assert Config(lambda_cmp=5.0).lambda_cmp == 5.0


@pytest.mark.parametrize("settings, message", [
    ({"variant": "gan", "restoration": "discriminator"},
     "variant gan sets restoration to 'pixel', not 'discriminator'; leave it out, or use variant dgad"),
    ({"variant": "no_compactness", "lambda_cmp": 100.0},
     "variant no_compactness sets lambda_cmp to 0.0, not 100.0; leave it out, or use variant dgad"),
    ({"variant": "zero_padding", "padding": "symmetric"}, "variant zero_padding sets padding to 'zero', not"),
    ({"variant": "coordconv", "coordconv": False}, "variant coordconv sets coordconv to True, not False"),
])
def test_a_setting_that_contradicts_the_variant_is_refused(settings, message):
    with pytest.raises(ValueError) as caught:
        Config(**settings)
    assert str(caught.value).startswith(message)


@pytest.mark.parametrize("settings, message", [
    ({"latent_size": 8}, "--latent_size is a setting of AD-CGAN, which DGAD does not have (leave it out, or pass "
                         "--method adcgan)"),
    ({"ns_lambda": 0.1, "warmup_epochs": 3}, "--warmup_epochs, --ns_lambda are settings of AD-CGAN, which DGAD does "
                                             "not have"),
    ({"method": "adcgan", "protocol": 2}, "--protocol is a setting of DGAD, which AD-CGAN does not have (leave it "
                                          "out, or pass --method dgad)"),
    ({"method": "adcgan", "variant": "dgad"}, "--variant is a setting of DGAD, which AD-CGAN does not have"),
])
def test_a_setting_of_the_other_method_is_refused_with_the_method_it_belongs_to(settings, message):
    with pytest.raises(ValueError) as caught:
        Config(**settings)
    assert str(caught.value).startswith(message)


def test_replacing_the_variant_derives_its_settings_again():
    no_compactness = Config(variant="no_compactness", width=8)
    assert no_compactness.replace(variant="gan") == Config(variant="gan", width=8)
    assert no_compactness.replace(variant="dgad").lambda_cmp == 100.0
    assert Config(variant="gan").replace(variant="zero_padding") == Config(variant="zero_padding")
    # A change that is not the variant keeps what the variant derived.
    assert no_compactness.replace(width=16) == Config(variant="no_compactness", width=16)
    with pytest.raises(ValueError, match="variant gan sets restoration to 'pixel'"):
        Config().replace(variant="gan", restoration="discriminator")


def test_training_differences_name_each_changed_setting_and_ignore_test_settings():
    saved = Config(width=8).to_dict()
    assert Config(width=8, score="both").training_differences(saved) == []
    # The latent's default channel count follows the width.
    assert Config(width=16).training_differences(saved) == ["width: saved 8, now 16",
                                                            "latent_channels: saved 16, now 32"]


def test_scoring_differences_name_the_settings_that_change_scores_only():
    saved = Config().to_dict()
    assert Config(lambda_s=5.0).scoring_differences(saved) == ["lambda_s: saved 10.0, now 5.0"]
    assert Config(lambda_s=5.0).training_differences(saved) == []
    assert Config(method="adcgan", ns_rho=0.2).scoring_differences(Config(method="adcgan").to_dict()) == [
        "ns_rho: saved 0.5, now 0.2"]


def test_a_run_saved_without_a_setting_differs_from_every_config():
    """Runs written before a setting existed are trained again: their config.json is not guessed at."""
    saved = Config().to_dict()
    del saved["variant"]
    assert Config().training_differences(saved) == ["variant: saved None, now 'dgad'"]


@pytest.mark.parametrize("setting, value", [("variant", "dgad-cl"), ("score", "dirichlet")])
def test_an_unknown_variant_or_score_is_refused_where_the_config_is_built(setting, value):
    with pytest.raises(ValueError, match=f"unknown {setting} '{value}' for dgad; expected one of"):
        Config(**{setting: value})


def test_an_unknown_method_is_refused():
    with pytest.raises(ValueError, match=re.escape(f"unknown method 'ganomaly'; expected one of {tuple(METHODS)}")):
        Config(method="ganomaly")


def test_the_data_folder_is_part_of_the_training_settings_whatever_the_relative_path():
    config = config_for_dataset("npz", data_dir="data.npz")
    assert config.data_dir == os.path.abspath("data.npz")
    assert config.training_differences(config_for_dataset("npz", data_dir="./data.npz").to_dict()) == []
    assert config.training_differences(config_for_dataset("npz", data_dir="other.npz").to_dict()) != []


@pytest.mark.parametrize("settings, message", [
    ({"learning_rate": -1.0}, "--learning_rate must be greater than 0, got -1.0"),
    ({"learning_rate": 0.0}, "--learning_rate must be greater than 0, got 0.0"),
    ({"learning_rate": float("nan")}, "--learning_rate must be greater than 0, got nan"),
    ({"method": "adcgan", "autoencoder_learning_rate": 0.0}, "--autoencoder_learning_rate must be greater than 0"),
    ({"beta_1": 1.0}, "--beta_1 must be in [0, 1), got 1.0"),
    ({"beta_2": -0.1}, "--beta_2 must be in [0, 1), got -0.1"),
    ({"max_zoom": -1.0}, "--max_zoom must be in [0, 1), got -1.0"),
    ({"max_zoom": 1.0}, "--max_zoom must be in [0, 1), got 1.0"),
    ({"lambda_cls": -1.0}, "--lambda_cls must be 0 or more, got -1.0"),
    ({"lambda_s": float("inf")}, "--lambda_s must be 0 or more, got inf"),
    ({"method": "adcgan", "ns_lambda": 1.5}, "--ns_lambda must be in [0, 1], got 1.5"),
    ({"method": "adcgan", "ns_rho": -0.1}, "--ns_rho must be in [0, 1], got -0.1"),
    ({"checkpoint_every": 0}, "--checkpoint_every must be a positive integer, got 0"),
    ({"width": 0}, "--width must be a positive integer, got 0"),
    ({"width": 8.5}, "--width must be a positive integer, got 8.5"),
    ({"batch_size": -4}, "--batch_size must be a positive integer, got -4"),
    ({"iterations": 0}, "--iterations must be a positive integer, got 0"),
    ({"method": "adcgan", "latent_size": 0}, "--latent_size must be a positive integer, got 0"),
    ({"method": "adcgan", "epochs": 0}, "--epochs must be a positive integer, got 0"),
    ({"method": "adcgan", "warmup_epochs": -1}, "--warmup_epochs must be 0 or a positive integer, got -1"),
    ({"seed": 2**32}, "--seed must be an integer from 0 to 2**32 - 1, got 4294967296"),
    ({"image_size": 0}, "--image_size must be a positive integer, got 0"),
    ({"protocol": 4}, "unknown protocol 4; expected one of (1, 2, 3)"),
    ({"scheme": "one_vs_one"}, "unknown scheme 'one_vs_one' for dgad; expected one of ('one_vs_all', 'all_vs_one')"),
    ({"dataset": "imagenet"}, "unknown dataset 'imagenet'; expected one of"),
    ({"dataset": "digits", "data_dir": "/data"}, "--dataset digits reads no files, so --data_dir would be ignored"),
    ({"run_name": "../elsewhere"}, "--run_name must be a plain folder name (no '/', not '.' or '..')"),
    ({"run_name": ""}, "--run_name must be a plain folder name"),
])
def test_a_setting_out_of_range_is_refused_where_the_config_is_built(settings, message):
    with pytest.raises(ValueError) as caught:
        Config(**settings)
    assert str(caught.value).startswith(message) and "\n" not in str(caught.value)


def test_the_ends_of_each_range_that_are_allowed_are_accepted():
    Config(beta_1=0.0, max_zoom=0.0, lambda_cls=0.0, lambda_rec=0.0, lambda_cmp=0.0, lambda_s=0.0, seed=2**32 - 1)
    Config(method="adcgan", ns_lambda=0.0, ns_rho=1.0, warmup_epochs=0)
    for dataset in ("mvtec", "folder", "npz", "cifar10"):
        assert config_for_dataset(dataset, data_dir="somewhere").data_dir == os.path.abspath("somewhere")


def test_the_image_size_is_checked_by_the_method_that_builds_the_networks():
    # DGAD's networks take any multiple of 4, known from the config alone; AD-CGAN's also depend on the
    # channels, known once the data is loaded (build_model and the pre-flight check).
    dgad_message = r"^--image_size must be a multiple of 4 for DGAD \(the encoder halves it twice\), got 30$"
    with pytest.raises(ValueError, match=dgad_message):
        Config(image_size=30, width=4)
    with pytest.raises(ExperimentError, match=dgad_message):
        build_model(Config(image_size=32, width=4), (30, 30, 1))
    adcgan = Config(method="adcgan", image_size=48, width=4)
    with pytest.raises(ExperimentError, match=r"^AD-CGAN has networks for 28x28x1, 32x32x1, 32x32x3 and 64x64x3 "
                                              r"images \(paper Table 2\); got \(48, 48, 1\); pass main.py "
                                              r"--image_size 32 \(or 28 for one channel, 64 for colour\)$"):
        build_model(adcgan, (48, 48, 1))
