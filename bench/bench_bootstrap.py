"""Seconds the 95% bootstrap intervals cost (utils/scoring/bootstrap.py), on random scores and maps.

    python bench/bench_bootstrap.py                          # 10000 images; 100 maps of 256x256
    python bench/bench_bootstrap.py --images 2000 --maps 20

The image-level AUC's resamples (one tenth anomalous) and the pixel AUROC's (half the maps with a defect),
each timed once, with the interval beside sklearn's AUC of the whole set.
"""

import argparse
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import numpy as np  # noqa: E402
from sklearn.metrics import roc_auc_score  # noqa: E402

from utils.scoring.bootstrap import RESAMPLES, percentile_interval, resampled_aucs, resampled_pixel_aurocs  # noqa: E402


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--images", type=int, default=10000)
    parser.add_argument("--maps", type=int, default=100)
    parser.add_argument("--map_size", type=int, default=256)
    arguments = parser.parse_args()
    rng = np.random.default_rng(0)

    labels = (rng.random(arguments.images) < 0.1).astype(int)
    scores = rng.normal(size=arguments.images) + labels
    started = time.perf_counter()
    interval = percentile_interval(resampled_aucs(labels, scores, (0, 0)))
    print(f"image AUC, {arguments.images} images, {RESAMPLES} resamples: {time.perf_counter() - started:.2f} s; "
          f"AUC {roc_auc_score(labels, scores):.4f} [{interval[0]:.4f}, {interval[1]:.4f}]")

    size = arguments.map_size
    masks = np.zeros((arguments.maps, size, size))
    masks[arguments.maps // 2:, size // 3:size // 2, size // 3:size // 2] = 1
    maps = rng.random(masks.shape) + 0.3 * masks
    started = time.perf_counter()
    interval = percentile_interval(resampled_pixel_aurocs(maps, masks, (0, 0)))
    print(f"pixel AUROC, {arguments.maps} maps of {size}x{size}, {RESAMPLES} resamples: "
          f"{time.perf_counter() - started:.2f} s; AUROC {roc_auc_score(masks.ravel() > 0, maps.ravel()):.4f} "
          f"[{interval[0]:.4f}, {interval[1]:.4f}]")


if __name__ == "__main__":
    main()
