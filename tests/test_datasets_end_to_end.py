"""Every dataset kind from local files through the command line, at a tiny budget.

The MVTec AD layout and the image folder are built from crops of the two real photographs that
scikit-learn ships (a temple and a flower), so no download is needed.
"""

import json

import numpy as np
import pytest
from PIL import Image
from sklearn.datasets import load_sample_images

TINY_BUDGET = ["--width", "4", "--iterations", "2", "--no_xla", "--run_name", "tiny"]
# Each test runs main.py on its data, training and testing a model, with its steps run eagerly.
pytestmark = [pytest.mark.slow, pytest.mark.usefixtures("eager_functions")]


@pytest.fixture(scope="module")
def photographs():
    temple, flower = load_sample_images().images
    return temple, flower


def crops(photograph, count, size=96, seed=0):
    random = np.random.default_rng(seed)
    height, width = photograph.shape[:2]
    for _ in range(count):
        top, left = random.integers(0, height - size), random.integers(0, width - size)
        yield photograph[top:top + size, left:left + size]


def save_images(folder, images, suffix=".png", mode=None):
    folder.mkdir(parents=True, exist_ok=True)
    for index, image in enumerate(images):
        picture = Image.fromarray(image)
        (picture.convert(mode) if mode else picture).save(folder / f"{index:03d}{suffix}")


@pytest.fixture
def run(run_main):
    return lambda arguments: run_main(arguments + TINY_BUDGET)


def summary(tmp_path, dataset):
    return json.loads((tmp_path / "results" / dataset / "tiny" / "s_rec" / "summary.json").read_text())


def test_mvtec_layout_from_photographs_trains_and_tests_a_category(run, tmp_path, photographs):
    temple, flower = photographs
    root = tmp_path / "mvtec"
    save_images(root / "screw/train/good", crops(temple, 8))
    save_images(root / "screw/test/good", crops(temple, 4, seed=1))
    save_images(root / "screw/test/scratch", crops(flower, 4))
    save_images(root / "screw/ground_truth/scratch", [np.zeros((96, 96), np.uint8)] * 4)
    arguments = ["--dataset", "mvtec", "--data_dir", str(root), "--image_size", "32", "--batch_size", "4",
                 "--phase", "both"]
    assert run(arguments + ["--train_object", "13"]) == 0
    result = summary(tmp_path, "mvtec")
    assert list(result["per_class_auc"]) == ["screw"]
    assert result["config"]["protocol"] == 3 and result["config"]["max_zoom"] == 0.1
    assert result["paper"]["per_class"][13] == 0.67
    scores = (tmp_path / "results/mvtec/tiny/s_rec/0_screw/scores.csv").read_text().splitlines()
    assert len(scores) == 1 + 8


def test_image_folder_with_mixed_modes_and_a_corrupt_file(run, tmp_path, photographs, capsys):
    temple, flower = photographs
    root = tmp_path / "parts"
    save_images(root / "train", crops(temple, 4), ".png", "L")
    save_images(root / "train/batch2", crops(temple, 4, seed=1), ".jpg")
    save_images(root / "test/good", crops(temple, 3, seed=2), ".bmp", "RGBA")
    save_images(root / "test/dent", crops(flower, 3), ".png")
    (root / "test/dent/broken.png").write_bytes(b"\x89PNG\r\n\x1a\n not really a picture")
    # Eight training images are too few to hold any out (the default --val_fraction is refused, with the fix).
    arguments = ["--dataset", "folder", "--data_dir", str(root), "--batch_size", "4", "--phase", "both",
                 "--val_fraction", "0"]

    assert run(arguments) == 2
    error = capsys.readouterr().err
    assert "broken.png" in error and "Traceback" not in error

    (root / "test/dent/broken.png").unlink()
    assert run(arguments) == 0
    result = summary(tmp_path, "folder")
    assert list(result["per_class_auc"]) == ["parts"]
    assert result["paper"] is None


@pytest.mark.parametrize("scheme, expected_train_images", [("one_vs_all", 2), ("all_vs_one", 4)])
def test_npz_under_both_schemes(scheme, expected_train_images, run, tmp_path, capsys):
    random = np.random.default_rng(0)
    labels = np.array([0, 1, 2] * 2)
    path = tmp_path / "tiny.npz"
    np.savez(path, x_train=random.integers(0, 255, (6, 28, 28), np.uint8), y_train=labels,
             x_test=random.integers(0, 255, (6, 28, 28), np.uint8), y_test=labels)
    arguments = ["--dataset", "npz", "--data_dir", str(path), "--scheme", scheme, "--train_object", "1",
                 "--batch_size", "2", "--phase", "both"]
    assert run(arguments) == 0
    assert f"on {expected_train_images} normal images" in capsys.readouterr().out
    assert summary(tmp_path, "npz")["config"]["scheme"] == scheme


@pytest.mark.parametrize("dataset, normal_class", [("cifar10", "cat"), ("mnist", "1"), ("fashion_mnist", "Trouser")])
def test_downloadable_datasets_from_their_offline_files(dataset, normal_class, run, tmp_path, cifar_files,
                                                        mnist_files):
    folder = tmp_path / "files"
    if dataset == "cifar10":
        cifar_files.write(folder)
    else:
        mnist_files.write(folder, gzipped=True)
    arguments = ["--dataset", dataset, "--data_dir", str(folder), "--train_object", normal_class,
                 "--batch_size", "2", "--phase", "both"]
    assert run(arguments) == 0
    result = summary(tmp_path, dataset)
    assert len(result["per_class_auc"]) == 1
    assert result["paper"] is not None or dataset == "fashion_mnist"


def test_cats_vs_dogs_from_a_petimages_folder(run, tmp_path, photographs):
    temple, flower = photographs
    save_images(tmp_path / "PetImages/Cat", crops(temple, 10), ".jpg")
    save_images(tmp_path / "PetImages/Dog", crops(flower, 10), ".jpg")
    arguments = ["--dataset", "cats_vs_dogs", "--data_dir", str(tmp_path / "PetImages"), "--train_object", "cat",
                 "--batch_size", "4", "--phase", "both"]
    assert run(arguments) == 0
    assert summary(tmp_path, "cats_vs_dogs")["config"]["image_size"] == 64
