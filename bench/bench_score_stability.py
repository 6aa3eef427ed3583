"""How far a trained model's raw score moves when the same image reaches it slightly changed, beside the gap
between its normal and anomalous test scores (issue 34: a caller's own JPEG decoder moved s_rec by a sixth
of the normalised range).

    python bench/bench_score_stability.py                      # digits class 3, width 8, 100 iterations
    python bench/bench_score_stability.py --train_object 0 --jpeg_quality 90

Trains and tests the class at the quick-start settings (about a minute on a CPU) unless its checkpoint
folder already holds a tested run, then scores the digits test split as the encoded files a user would
give --phase predict or the export's serve_bytes: PNG (the baseline), PNG with seeded uniform noise of
up to +-2 and +-4 grey levels, and JPEG decoded by TensorFlow (as predict and serve_bytes do) or by
Pillow (a caller decoding it and handing the uint8 pixels to the `serve` signature). Prints, per score
and change, the mean and max |change of the raw score| in raw units and as fractions of the gap between
the mean anomalous and mean normal baseline scores (its size) and of the test split's score range, and how many
decisions at the stored threshold flip; writes the same table as a CSV.
"""

import argparse
import io
import os
import sys
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402
from PIL import Image  # noqa: E402

import main  # noqa: E402
from data.pipeline import one_class_split  # noqa: E402
from data.sources import decode_image_bytes, load_dataset, to_source_image  # noqa: E402
from utils.reporting.files import write_text_atomically  # noqa: E402
from utils.reporting.reports import columns_csv  # noqa: E402
from utils.running.inference import TrainedDetector, tested_class_folder  # noqa: E402

REPOSITORY = Path(__file__).resolve().parent.parent
FINDINGS_CSV = REPOSITORY / "docs" / "findings" / "score_stability" / "score_stability.csv"
NOISE_LEVELS = (2, 4)
# Pillow's own default: what a user saving a JPEG gets.
DEFAULT_JPEG_QUALITY = 75


def parse_arguments():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--train_object", default="3", help="the digit class that is normal")
    parser.add_argument("--width", default="8")
    parser.add_argument("--iterations", default="100")
    parser.add_argument("--jpeg_quality", type=int, default=DEFAULT_JPEG_QUALITY)
    parser.add_argument("--noise_seed", type=int, default=0)
    parser.add_argument("--run_folder", type=Path, default=Path("/tmp/score_stability"),
                        help="where the run's checkpoints and results go (reused when already tested)")
    parser.add_argument("--csv", type=Path, default=FINDINGS_CSV)
    return parser.parse_args()


def trained_detector(arguments) -> TrainedDetector:
    """The tested digits class, trained and tested first when its run folder holds none."""
    flags = ["--dataset", "digits", "--train_object", arguments.train_object, "--width", arguments.width,
             "--iterations", arguments.iterations, "--score", "both",
             "--results_dir", str(arguments.run_folder / "results"),
             "--checkpoint_dir", str(arguments.run_folder / "checkpoints")]
    config = main.config_from_arguments(main.parse_arguments(flags))
    if not list(config.checkpoint_folder().glob("*/detector.json")):
        if main.main(flags + ["--phase", "both"]) != 0:
            raise SystemExit("training or testing the digits class failed; see above")
    return TrainedDetector(config, tested_class_folder(config, None))


def encoded(pixels: np.ndarray, file_format: str, **options) -> list[bytes]:
    """Each (H, W, 1) uint8 image as the bytes of a grayscale file, written by Pillow."""
    files = []
    for image in pixels:
        buffer = io.BytesIO()
        Image.fromarray(image[..., 0]).save(buffer, format=file_format, **options)
        files.append(buffer.getvalue())
    return files


def decoded_as_predict_does(files: list[bytes], source_shape) -> np.ndarray:
    """The files' pixels as --phase predict and serve_bytes read them: TensorFlow's decoder, the dataset's geometry."""
    return np.stack([to_source_image(decode_image_bytes(tf.constant(file)), *source_shape).numpy() for file in files])


def decoded_by_pillow(files: list[bytes]) -> np.ndarray:
    return np.stack([np.asarray(Image.open(io.BytesIO(file)).convert("L"))[..., None] for file in files])


def with_noise(pixels: np.ndarray, level: int, rng: np.random.Generator) -> np.ndarray:
    """Uniform integer noise in [-level, level] per pixel, clipped to uint8."""
    noise = rng.integers(-level, level + 1, size=pixels.shape)
    return np.clip(pixels.astype(np.int64) + noise, 0, 255).astype(np.uint8)


def main_bench():
    arguments = parse_arguments()
    detector = trained_detector(arguments)
    config, state = detector.config, detector.state
    dataset = load_dataset("digits", None)
    split = one_class_split(dataset, int(arguments.train_object))
    is_anomalous = split.test_anomaly_labels.astype(bool)
    source_shape = state.source_shape
    rng = np.random.default_rng(arguments.noise_seed)

    def raw_scores(pixels: np.ndarray) -> dict[str, np.ndarray]:
        return detector.raw_scores(detector.model_images(pixels))

    png_pixels = decoded_as_predict_does(encoded(split.test_images, "PNG"), source_shape)
    jpeg_files = encoded(split.test_images, "JPEG", quality=arguments.jpeg_quality)
    jpeg_by_tensorflow = decoded_as_predict_does(jpeg_files, source_shape)
    jpeg_by_pillow = decoded_by_pillow(jpeg_files)
    assert (png_pixels == split.test_images).all(), "PNG is lossless: the baseline is the test split's own pixels"
    baseline = raw_scores(png_pixels)
    jpeg_tensorflow_scores = raw_scores(jpeg_by_tensorflow)
    # (change, how the pixels differ from those it is compared with, its scores, the scores compared with)
    changes = []
    for level in NOISE_LEVELS:
        noisy = decoded_as_predict_does(encoded(with_noise(split.test_images, level, rng), "PNG"), source_shape)
        changes.append((f"PNG with uniform noise +-{level}", noisy, png_pixels, raw_scores(noisy), baseline))
    quality = arguments.jpeg_quality
    changes += [
        (f"JPEG q{quality} decoded by TensorFlow, vs PNG", jpeg_by_tensorflow, png_pixels, jpeg_tensorflow_scores,
         baseline),
        (f"JPEG q{quality} decoded by Pillow, vs PNG", jpeg_by_pillow, png_pixels, raw_scores(jpeg_by_pillow),
         baseline),
        (f"JPEG q{quality}: Pillow's decoding vs TensorFlow's", jpeg_by_pillow, jpeg_by_tensorflow,
         raw_scores(jpeg_by_pillow), jpeg_tensorflow_scores),
    ]

    columns = {name: [] for name in (
        "score", "change", "max_pixel_change", "mean_pixel_change", "mean_abs_score_change", "max_abs_score_change",
        "normal_anomalous_gap", "test_score_range", "mean_change_per_gap", "max_change_per_gap",
        "max_change_per_range", "flipped_decisions", "images")}
    print(f"digits class {state.class_name} ({config.checkpoint_folder().name}): {len(png_pixels)} test images, "
          f"{int(is_anomalous.sum())} anomalous; noise seed {arguments.noise_seed}")
    print("| score | change | pixel change: max / mean | mean score change | max score change | gap | range | "
          "mean / gap | max / gap | max / range | flipped decisions |")
    print("| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |")
    for score in config.scores:
        gap = baseline[score][is_anomalous].mean() - baseline[score][~is_anomalous].mean()
        score_range = np.ptp(baseline[score])
        threshold = detector.threshold(score)
        for change, pixels, compared_pixels, changed_scores, compared_scores in changes:
            difference = np.abs(changed_scores[score] - compared_scores[score])
            pixel_difference = np.abs(pixels.astype(np.int64) - compared_pixels)
            flipped = int((threshold.flags(changed_scores[score]) != threshold.flags(compared_scores[score])).sum())
            row = {"score": f"s_{score}", "change": change, "max_pixel_change": int(pixel_difference.max()),
                   "mean_pixel_change": float(pixel_difference.mean()),
                   "mean_abs_score_change": float(difference.mean()), "max_abs_score_change": float(difference.max()),
                   "normal_anomalous_gap": float(gap), "test_score_range": float(score_range),
                   "mean_change_per_gap": float(difference.mean() / abs(gap)),
                   "max_change_per_gap": float(difference.max() / abs(gap)),
                   "max_change_per_range": float(difference.max() / score_range),
                   "flipped_decisions": flipped, "images": len(difference)}
            for name, value in row.items():
                columns[name].append(value)
            print(f"| s_{score} | {change} | {row['max_pixel_change']} / {row['mean_pixel_change']:.2f} | "
                  f"{row['mean_abs_score_change']:.4g} | {row['max_abs_score_change']:.4g} | {gap:.4g} | "
                  f"{score_range:.4g} | {row['mean_change_per_gap']:.3f} | {row['max_change_per_gap']:.3f} | "
                  f"{row['max_change_per_range']:.3f} | {flipped} of {len(difference)} |")
    write_text_atomically(arguments.csv, columns_csv(columns))
    print(f"written to {arguments.csv}")


if __name__ == "__main__":
    main_bench()
