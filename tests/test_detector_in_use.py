"""The detector in use, end to end on a folder of real photographs with exact defect masks: train and test
through main.py, then predict new files, export a SavedModel and load it in a fresh process, where its
signatures (uint8 images, encoded files) score as the checkpoint and as predict do.

One tiny run per method is trained once for the module; every test reads or scores it.
"""

import csv
import json
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

import main
from data.sources import read_images
from photo_folders import make_odd_images, make_photo_folder
from utils.running.detector import load_detector_state
from utils.scoring.thresholds import ORACLE_RULE

pytestmark = pytest.mark.slow

REPOSITORY = Path(__file__).resolve().parent.parent
SCORES = {"dgad": ("rec", "dir"), "adcgan": ("gf",), "autoencoder": ("rec",)}
TRAINING = {"dgad": ["--width", "4", "--iterations", "30", "--score", "both"],
            "adcgan": ["--width", "4", "--iterations", "20", "--score", "gf"],
            "autoencoder": ["--width", "4", "--iterations", "20"]}


def read_csv(path) -> list[dict]:
    with open(path, newline="") as file:
        return list(csv.DictReader(file))


class TrainedRun:
    """A tiny run of one method trained and tested on a photo folder, with the flags that name it."""

    def __init__(self, root: Path, method: str, all_normal: bool = False):
        self.method = method
        self.photos = make_photo_folder(root / "photos", all_normal=all_normal)
        self.folders = ["--results_dir", str(root / "results"), "--checkpoint_dir", str(root / "checkpoints")]
        self.flags = ["--method", method, "--dataset", "folder", "--data_dir", str(self.photos["data_dir"]),
                      "--batch_size", "16", "--no_xla", *TRAINING[method], *self.folders]
        self.config = main.config_from_arguments(main.parse_arguments(self.flags))
        assert main.main(self.flags + ["--phase", "both"]) == 0

    def run(self, *arguments) -> int:
        return main.main(self.flags + list(arguments))

    def class_results(self, score: str) -> Path:
        return self.config.results_folder(score) / f"0_{self.photos['data_dir'].name}"

    def checkpoint_folder(self) -> Path:
        return self.config.checkpoint_folder() / f"0_{self.photos['data_dir'].name}"

    def latest_predictions(self) -> list[dict]:
        found = sorted((self.config.results_folder("x").parent / "predictions").glob("*/*/predictions.csv"))
        return read_csv(found[-1])

    def test_raw_scores(self, score: str) -> dict[str, float]:
        """{file: raw anomaly score} of the test phase, from scores.csv (s_dir's column is the normality)."""
        column = {"rec": "s_rec", "dir": "s_dir"}.get(score, f"ns_{score}")
        sign = -1.0 if score == "dir" else 1.0
        return {row["path"]: sign * float(row[column]) for row in read_csv(self.class_results(score) / "scores.csv")}


@pytest.fixture(scope="module", params=list(SCORES))
def trained(request, tmp_path_factory):
    return TrainedRun(tmp_path_factory.mktemp(request.param), request.param)


def test_the_test_phase_stores_thresholds_maps_paths_and_pixel_auroc(trained):
    photos = trained.photos
    for score in SCORES[trained.method]:
        folder = trained.class_results(score)
        rows = read_csv(folder / "scores.csv")
        assert [row["path"] for row in rows] == [str(path) for path in photos["test_files"]]
        metrics = json.loads((folder / "metrics.json").read_text())
        # A folder holds out a validation split by default: the threshold is set on it, the oracle reported beside.
        assert metrics["threshold"]["chosen_by"].startswith("0.95 quantile of the validation images' scores")
        assert metrics["oracle"]["threshold"]["chosen_by"] == ORACLE_RULE
        assert metrics["target_false_positive_rate"] == 0.05 and 0 <= metrics["false_positive_rate"] <= 1
        assert 0 <= metrics["pixel_auroc"] <= 1 and 0 <= metrics["f1"] <= 1
        flagged = [row["anomalous"] == "1" for row in rows]
        raw = trained.test_raw_scores(score)
        assert flagged == [raw[row["path"]] >= metrics["threshold"]["raw"] for row in rows]
        assert metrics["flagged_fraction"] == pytest.approx(np.mean(flagged))
        assert (folder / "maps" / "most_anomalous.png").exists() and (folder / "maps" / "least_anomalous.png").exists()
        summary = (folder.parent / "summary.md").read_text()
        assert "Pixel AUROC" in summary and "F1" in summary
        html = (folder.parent / "summary.html").read_text()
        assert html.count("data:image/png;base64,") >= 4
    state = load_detector_state(trained.checkpoint_folder())
    assert set(state.scores) == set(SCORES[trained.method])


def test_predict_gives_the_test_phase_raw_scores_and_uses_the_stored_normalisation(trained):
    test_folder = trained.photos["data_dir"] / "test"
    assert trained.run("--phase", "predict", "--images", str(test_folder)) == 0
    predictions = trained.latest_predictions()
    assert [Path(row["path"]) for row in predictions] == trained.photos["test_files"]
    state = load_detector_state(trained.checkpoint_folder())
    for score in SCORES[trained.method]:
        expected = trained.test_raw_scores(score)
        raw = np.array([float(row[f"raw_score_{score}"]) for row in predictions])
        np.testing.assert_allclose(raw, [expected[row["path"]] for row in predictions], rtol=1e-6)
        normalised = [float(row[f"normalised_score_{score}"]) for row in predictions]
        np.testing.assert_allclose(normalised, state.scores[score].normalisation(raw))
        threshold = state.scores[score].threshold.raw
        assert [row[f"anomalous_{score}"] for row in predictions] == ["yes" if value >= threshold else "no"
                                                                       for value in raw]

    # One image alone: its scores do not depend on the images scored with it.
    lonely = trained.photos["defect_files"][0]
    assert trained.run("--phase", "predict", "--images", str(lonely)) == 0
    (alone,) = trained.latest_predictions()
    together = next(row for row in predictions if row["path"] == str(lonely))
    for score in SCORES[trained.method]:
        assert float(alone[f"raw_score_{score}"]) == pytest.approx(float(together[f"raw_score_{score}"]), rel=1e-6)
        assert float(alone[f"normalised_score_{score}"]) == pytest.approx(
            float(together[f"normalised_score_{score}"]), rel=1e-6)


def test_predict_reads_every_image_mode_and_size_and_saves_maps_at_each_files_size(trained, tmp_path):
    odd = make_odd_images(tmp_path / "odd")
    assert trained.run("--phase", "predict", "--images", str(tmp_path / "odd"), "--save_maps",
                       "--threshold", "0.5") == 0
    predictions = trained.latest_predictions()
    assert sorted(Path(row["path"]).name for row in predictions) == sorted(path.name for path in odd.values())
    for row in predictions:
        for score in SCORES[trained.method]:
            assert np.isfinite(float(row[f"raw_score_{score}"]))
            expected = "yes" if float(row[f"normalised_score_{score}"]) >= 0.5 else "no"
            assert row[f"anomalous_{score}"] == expected
    maps = sorted((trained.config.results_folder("x").parent / "predictions").glob("*/*/maps/*.png"))
    assert sorted(path.stem for path in maps[-len(odd):]) == sorted(path.stem for path in odd.values())


def in_fresh_process(program: str, *arguments: str, cwd: Path) -> dict:
    """What `program` prints last as JSON, run by a new Python with `arguments`: no state of this process (a
    traced function, an imported module of this project) can make the SavedModel work."""
    result = subprocess.run([sys.executable, "-c", program, *arguments], capture_output=True, text=True, cwd=cwd,
                            timeout=300)
    assert result.returncode == 0, result.stderr[-2000:]
    return json.loads(result.stdout.strip().splitlines()[-1])


def test_the_export_in_a_fresh_process_scores_arrays_as_the_checkpoint_and_files_as_predict(trained, tmp_path,
                                                                                           capsys):
    """One new Python loads the export: serve() on decoded test images gives the test phase's raw scores, and
    serve_bytes() on files of every mode and size (among them colour and grayscale JPEGs written here and decoded by
    nothing before) gives predict's scores and decisions, and refuses a corrupt file."""
    export = trained.checkpoint_folder() / "export"
    # Replacing an export does not depend on the method, so DGAD's run alone checks it (an export takes 10-20 s).
    for replaced in (False, True) if trained.method == "dgad" else (False,):
        assert trained.run("--phase", "export") == 0
        assert (f"note: replacing the export in {export}" in capsys.readouterr().out.splitlines()) == replaced
    assert json.loads((export / "config.json").read_text())["method"] == trained.method
    assert set(json.loads((export / "detector.json").read_text())["scores"]) == set(SCORES[trained.method])
    test_paths = trained.photos["test_files"]
    images, _ = read_images(test_paths, 32, 32, 3)
    np.save(tmp_path / "images.npy", images)
    files = tmp_path / "files"
    odd = make_odd_images(files)
    Image.fromarray(np.asarray(Image.open(odd["gray"]))[:, ::-1]).save(files / "gray_jpeg.jpg")
    for path in test_paths[::6]:
        shutil.copy(path, files / f"tile_{path.parent.name}_{path.name}")
    assert trained.run("--phase", "predict", "--images", str(files)) == 0
    predictions = trained.latest_predictions()
    file_paths = [row["path"] for row in predictions]
    assert {Path(path).suffix for path in file_paths} == {".png", ".jpg", ".bmp"}
    program = (
        "import json, sys, numpy as np, tensorflow as tf\n"
        "detector = tf.saved_model.load(sys.argv[1])\n"
        "def lists(outputs):\n"
        "    return {name: value.numpy().tolist() for name, value in outputs.items()}\n"
        "files = [open(path, 'rb').read() for path in json.loads(sys.argv[3])]\n"
        "outputs = {'arrays': lists(detector.serve(tf.constant(np.load(sys.argv[2])))),\n"
        "           'files': lists(detector.serve_bytes(tf.constant(files)))}\n"
        "try:\n"
        "    detector.serve_bytes(tf.constant([files[0], b'not an image']))\n"
        "    outputs['refusal'] = None\n"
        "except tf.errors.InvalidArgumentError as error:\n"
        "    outputs['refusal'] = error.message\n"
        "print(json.dumps(outputs))\n"
    )
    outputs = in_fresh_process(program, str(export), str(tmp_path / "images.npy"), json.dumps(file_paths), cwd=tmp_path)
    state = load_detector_state(trained.checkpoint_folder())
    arrays, from_files = outputs["arrays"], outputs["files"]
    for score in SCORES[trained.method]:
        expected = trained.test_raw_scores(score)
        np.testing.assert_allclose(arrays[f"score_{score}"], [expected[str(path)] for path in test_paths],
                                   rtol=1e-5, atol=1e-5)
        np.testing.assert_allclose(from_files[f"score_{score}"],
                                   [float(row[f"raw_score_{score}"]) for row in predictions], rtol=1e-5, atol=1e-5)
        for served in (arrays, from_files):
            # On the raw score's last digits a narrow normalisation range magnifies, so compared through the raw.
            np.testing.assert_allclose(served[f"normalised_score_{score}"],
                                       state.scores[score].normalisation(np.array(served[f"score_{score}"])),
                                       atol=1e-6)
        assert arrays[f"anomalous_{score}"] == [value >= state.scores[score].threshold.raw
                                                for value in arrays[f"score_{score}"]]
        assert ["yes" if flag else "no" for flag in from_files[f"anomalous_{score}"]] == [
            row[f"anomalous_{score}"] for row in predictions]
    assert np.array(arrays["anomaly_map"]).shape == (len(test_paths), 32, 32)
    assert np.array(from_files["anomaly_map"]).shape == (len(file_paths), 32, 32)
    assert "Unknown image file format" in outputs["refusal"]


def test_predict_and_export_name_what_is_missing(trained, tmp_path, capsys):
    assert trained.run("--phase", "predict", "--images", str(tmp_path / "nothing_here")) == 2
    assert "does not exist" in capsys.readouterr().err
    assert trained.run("--phase", "predict") == 2
    assert "--images" in capsys.readouterr().err
    assert trained.run("--phase", "predict", "--images", str(tmp_path), "--test_object", "7") == 2
    assert "is not a tested class" in capsys.readouterr().err
    other_run = [*trained.flags, "--run_name", "never_trained"]
    assert main.main(other_run + ["--phase", "export"]) == 2
    error = capsys.readouterr().err
    assert "no class of the run never_trained was trained" in error
    assert f"Runs that exist for folder in {trained.config.checkpoint_folder().parent}: {trained.config.run_id} (" in error


def test_a_folder_of_normal_images_only_gets_a_percentile_threshold_that_flags_few_new_normal_images(tmp_path):
    photos = make_photo_folder(tmp_path / "photos", test_good=36, all_normal=True, masks=False)
    good = photos["data_dir"] / "test" / "good"
    new = tmp_path / "new"
    new.mkdir()
    # Held out of both training and the test split: the new normal images the threshold is for.
    for path in sorted(good.glob("*.png"))[::3]:
        shutil.move(path, new / path.name)
    # Without a validation split, the held-out normal test images set the threshold.
    flags = ["--dataset", "folder", "--data_dir", str(photos["data_dir"]), "--batch_size", "16", "--no_xla",
             "--val_fraction", "0", "--width", "4", "--iterations", "30", "--results_dir", str(tmp_path / "results"),
             "--checkpoint_dir", str(tmp_path / "checkpoints")]
    assert main.main(flags + ["--phase", "both"]) == 0
    metrics = json.loads(next((tmp_path / "results").glob("folder/*/s_rec/*/metrics.json")).read_text())
    assert metrics["auc"] is None and metrics["f1"] is None
    assert metrics["threshold"]["chosen_by"].startswith("95th percentile")
    # The 95th percentile of 24 scores lies between the two highest, so the highest one or two are flagged.
    assert 1 / 24 <= metrics["flagged_fraction"] <= 2 / 24
    assert main.main(flags + ["--phase", "predict", "--images", str(new)]) == 0
    (predictions,) = (tmp_path / "results").glob("folder/*/predictions/*/*/predictions.csv")
    flagged = [row["anomalous_rec"] == "yes" for row in read_csv(predictions)]
    assert len(flagged) == 12 and sum(flagged) < 6
