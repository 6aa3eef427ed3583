"""The run configuration: its folder name and the check that a saved run matches the settings."""

import os

import pytest

from utils.config import Config, config_for_dataset


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
