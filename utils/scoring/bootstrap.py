"""95% bootstrap intervals of an AUC over the test images: how far the AUC would move on another draw of
test images like these, the model held fixed.

Resampling is stratified by label: each resample draws, with replacement, as many normal images from the
normal ones and as many anomalous images from the anomalous ones as the test set has, so every resample has
both kinds and an AUC. The interval is the 2.5th to 97.5th percentile of the RESAMPLES resamples' AUCs.
The draws come from numpy's generator seeded with (the run's seed, the stream's id, the class index), so the
same run gives the same interval bit for bit.

Every resample's AUC is computed at once from histograms over the ordered scores (the Mann-Whitney count:
each (anomalous, normal) pair ranked right counts 1, a tie 1/2), not by calling sklearn once per resample:
10000 images and 1000 resamples take about a second on one core (README, Outputs).

The pixel AUROC resamples images, not pixels (the pixels of one image are not independent draws), stratified
by whether an image has defect pixels. Its histograms have PIXEL_BINS bins at quantiles of all the map
values, so a resample's value is exact up to the pairs that share a bin; the point value beside it is exact.
"""

from collections.abc import Sequence

import numpy as np

from data.random_streams import IMAGE_BOOTSTRAP_STREAM, PIXEL_BOOTSTRAP_STREAM

RESAMPLES = 1000
CONFIDENCE = 0.95
PIXEL_BINS = 1000
# Resamples drawn and scored together: bounds the memory at this many rows of one count per test image.
_CHUNK = 100


def auc_from_histograms(positive: np.ndarray, negative: np.ndarray) -> np.ndarray:
    """The AUC of each row of (..., K) counts of anomalous (positive) and normal (negative) items per score bin,
    the bins in increasing score order; NaN for a row without one of the kinds."""
    negatives_below = np.cumsum(negative, axis=-1) - negative
    pairs_right = np.sum(positive * (negatives_below + 0.5 * negative), axis=-1)
    with np.errstate(invalid="ignore", divide="ignore"):
        return pairs_right / (positive.sum(axis=-1) * negative.sum(axis=-1))


def resampled_aucs(anomaly_labels, anomaly_scores, seed: Sequence[int]) -> np.ndarray:
    """(RESAMPLES,) image-level AUCs of stratified resamples of the test images; seed: (run seed, class index)."""
    labels = np.asarray(anomaly_labels).ravel() == 1
    scores = np.asarray(anomaly_scores, np.float64).ravel()
    # One bin per distinct score, so the AUC is exact, ties included: the items in score order, tied ones summed.
    order = np.argsort(scores, kind="stable")
    first_of_each_score = np.flatnonzero(np.r_[True, np.diff(scores[order]) != 0])
    positive_in_order = labels[order]

    def histograms(counts):
        in_order = counts[:, order]
        return tuple(np.add.reduceat(in_order * kind, first_of_each_score, axis=1)
                     for kind in (positive_in_order, ~positive_in_order))

    return _resampled(labels, histograms, [*seed, IMAGE_BOOTSTRAP_STREAM])


def resampled_pixel_aurocs(maps: np.ndarray, masks: np.ndarray, seed: Sequence[int]) -> np.ndarray:
    """(RESAMPLES,) pixel AUROCs (defective pixels positive) of resamples of the images; seed: (run seed, class
    index). NaN for a resample whose pixels are all of one kind."""
    maps = np.asarray(maps, np.float64).reshape(len(maps), -1)
    defective = np.asarray(masks).reshape(len(maps), -1) > 0
    edges = np.unique(np.quantile(maps, np.linspace(0, 1, PIXEL_BINS + 1)[1:-1]))
    bins = np.searchsorted(edges, maps, side="right")
    bin_count = len(edges) + 1
    offsets = np.arange(len(maps))[:, None] * bin_count

    def per_image(pixels):
        return np.bincount((offsets + bins)[pixels], minlength=len(maps) * bin_count).reshape(len(maps), bin_count)

    positive, negative = per_image(defective), per_image(~defective)
    return _resampled(defective.any(axis=1), lambda counts: (counts @ positive, counts @ negative),
                      [*seed, PIXEL_BOOTSTRAP_STREAM])


def _resampled(strata: np.ndarray, histograms, entropy: list[int]) -> np.ndarray:
    """The AUCs of RESAMPLES resamples of items stratified by `strata`; histograms maps (rows, items) counts of
    each item's draws to the rows' (positive, negative) counts per score bin."""
    rng = np.random.default_rng(entropy)
    members = [np.flatnonzero(strata == stratum) for stratum in np.unique(strata)]
    aucs = []
    for start in range(0, RESAMPLES, _CHUNK):
        rows = min(_CHUNK, RESAMPLES - start)
        counts = np.zeros((rows, len(strata)))
        for items in members:
            drawn = items[rng.integers(0, len(items), (rows, len(items)))]
            counts += np.bincount((np.arange(rows)[:, None] * len(strata) + drawn).ravel(),
                                  minlength=rows * len(strata)).reshape(rows, len(strata))
        aucs.append(auc_from_histograms(*histograms(counts)))
    return np.concatenate(aucs)


def percentile_interval(resampled: np.ndarray) -> tuple[float, float] | None:
    """The central CONFIDENCE interval of resampled values (NaNs left out); None if there are none."""
    resampled = np.asarray(resampled, np.float64)
    if np.isnan(resampled).all():
        return None
    tail = 100 * (1 - CONFIDENCE) / 2
    low, high = np.nanpercentile(resampled, [tail, 100 - tail])
    return float(low), float(high)


def mean_interval(resampled_per_class: list[np.ndarray]) -> tuple[float, float] | None:
    """The interval of a mean over classes: each class's test images are resampled on their own (independent
    streams), so the mean of every class's i-th resample is one resample of the mean."""
    if not resampled_per_class:
        return None
    return percentile_interval(np.mean(np.stack(resampled_per_class), axis=0))


def summary_intervals(values_by_key: dict[str, dict[str, float | None]],
                      resampled: dict[str, dict[str, np.ndarray]]) -> dict:
    """A summary's intervals: {"confidence", "resamples", and per metrics key {"per_class": {class: interval},
    "mean": interval}} for the keys some class has resamples of; {} if none has. values_by_key: {key: {class:
    value}}; resampled: {class: {key: its resamples}}."""
    intervals = _per_key_intervals(values_by_key, resampled)
    return {"confidence": CONFIDENCE, "resamples": RESAMPLES, **intervals} if intervals else {}


def _per_key_intervals(values_by_key: dict[str, dict[str, float | None]],
                       resampled: dict[str, dict[str, np.ndarray]]) -> dict[str, dict]:
    """{metrics key: {"per_class": {class: interval}, "mean": interval}} for the keys some class has resamples of.

    The mean's interval only where every class with a value has its resamples: otherwise it would be the
    interval of another mean.
    """
    intervals = {}
    for key, values in values_by_key.items():
        known = [name for name, value in values.items() if value is not None]
        per_class = {name: percentile_interval(resampled[name][key]) for name in known
                     if key in resampled.get(name, {})}
        if per_class:
            complete = len(per_class) == len(known)
            intervals[key] = {"per_class": per_class, "mean": mean_interval(
                [resampled[name][key] for name in known]) if complete else None}
    return intervals
