"""bench/study_runs.py: the studies find the run main.py named, and read its learning curve as written."""
from fnmatch import fnmatch

import pytest

import main
from bench.study_runs import only_file, read_curve, run_folder_pattern


def run_id(*flags: str) -> str:
    return main.config_from_arguments(main.parse_arguments(["--dataset", "digits", *flags])).run_id


@pytest.mark.parametrize("flags", [[], ["--variant", "gan"], ["--latent_channels", "4"], ["--l1_reading", "sum"]])
def test_the_pattern_matches_the_run_of_that_length_and_seed_only(flags):
    pattern = run_folder_pattern(1000, 0)
    assert fnmatch(run_id("--iterations", "1000", "--seed", "0", *flags), pattern)
    assert not fnmatch(run_id("--iterations", "10000", "--seed", "0", *flags), pattern)
    assert not fnmatch(run_id("--iterations", "1000", "--seed", "1", *flags), pattern)
    assert not fnmatch(run_id("--iterations", "1000", "--seed", "10", *flags), pattern)


def test_a_curve_is_read_with_integer_iterations_and_float_aucs(tmp_path):
    path = tmp_path / "learning_curve.csv"
    path.write_text("iteration,s_rec_auc,pca_floor_auc\n250,0.6621827309948777,0.95\n500,0.8582,0.95\n")
    assert read_curve(path) == [{"iteration": 250, "s_rec_auc": 0.6621827309948777, "pca_floor_auc": 0.95},
                                {"iteration": 500, "s_rec_auc": 0.8582, "pca_floor_auc": 0.95}]
    assert isinstance(read_curve(path)[0]["iteration"], int)


def test_only_file_refuses_none_and_several_with_what_it_found(tmp_path):
    with pytest.raises(SystemExit, match="expected one \\*.csv under .*, found 0"):
        only_file(tmp_path, "*.csv")
    for name in ("a", "b"):
        (tmp_path / name).mkdir()
        (tmp_path / name / "curve.csv").write_text("")
    with pytest.raises(SystemExit, match="found 2"):
        only_file(tmp_path, "*.csv")
    (tmp_path / "b" / "curve.csv").unlink()
    assert only_file(tmp_path, "*.csv") == tmp_path / "a" / "curve.csv"
