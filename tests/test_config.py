"""The run configuration: its folder name and the check that a saved run matches the settings."""

import os

import pytest

from utils.running.config import Config, config_for_dataset


def test_run_id_names_the_variant_unless_it_is_dgad_itself():
    assert Config().run_id == "dgad-p1-one_vs_all-w64-i10000-b64-seed0"
    assert Config(variant="gan", protocol=2).run_id == "dgad-gan-p2-one_vs_all-w64-i10000-b64-seed0"


def test_training_differences_name_each_changed_setting_and_ignore_test_settings():
    saved = Config(width=8).to_dict()
    assert Config(width=8, score="both").training_differences(saved) == []
    assert Config(width=16).training_differences(saved) == ["width: saved 8, now 16"]


def test_a_run_saved_before_a_setting_existed_had_its_default():
    saved = Config().to_dict()
    del saved["variant"]
    assert Config().training_differences(saved) == []
    assert Config(variant="gan").training_differences(saved) == ["variant: saved 'dgad', now 'gan'"]


@pytest.mark.parametrize("setting, value", [("variant", "dgad-cl"), ("score", "dirichlet")])
def test_an_unknown_variant_or_score_is_refused_where_the_config_is_built(setting, value):
    with pytest.raises(ValueError, match=f"unknown {setting} '{value}' for dgad; expected one of"):
        Config(**{setting: value})


def test_an_unknown_method_is_refused():
    with pytest.raises(ValueError, match="unknown method 'ganomaly'; expected one of \\('dgad', 'adcgan'\\)"):
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
    ({"image_size": 30}, "--image_size must be a multiple of 4 (the encoder halves it twice), got 30"),
    ({"image_size": 0}, "--image_size must be a positive integer, got 0"),
    ({"protocol": 4}, "unknown protocol 4; expected one of (1, 2, 3)"),
    ({"scheme": "one_vs_one"}, "unknown scheme 'one_vs_one'; expected one of ('one_vs_all', 'all_vs_one')"),
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
