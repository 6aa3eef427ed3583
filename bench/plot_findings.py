"""Draw every figure of docs/findings/ from the CSV files the studies wrote there.

    python bench/plot_findings.py

Each figure is read from its CSV alone (nothing is trained or scored here), so a number in a figure can be traced
to a file and the command that wrote it (the findings page beside the CSV names it). A study whose CSV is absent
is skipped with a line saying so. Figures are written next to their CSVs as PNG.
"""

import argparse
import csv
import sys
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
from sklearn.metrics import roc_auc_score, roc_curve  # noqa: E402

FINDINGS = Path(__file__).resolve().parent.parent / "docs" / "findings"
FLOOR_STYLE = {"PCA floor": {"color": "tab:gray", "linestyle": "--"}, "kNN floor": {"color": "black", "linestyle": ":"}}


def read_csv(path: Path) -> dict[str, np.ndarray]:
    """{column: values}, numeric columns as floats."""
    with path.open(newline="") as file:
        rows = list(csv.DictReader(file))
    columns = {}
    for key in rows[0]:
        values = [row[key] for row in rows]
        try:
            columns[key] = np.array([float(value) if value != "" else np.nan for value in values])
        except ValueError:
            columns[key] = np.array(values)
    return columns


def save(figure, path: Path):
    figure.tight_layout()
    figure.savefig(path, dpi=110)
    plt.close(figure)
    print(f"wrote {path.relative_to(FINDINGS.parent.parent)}")


def per_class_bars(csv_path: Path):
    """Grouped bars: each digit's s_rec AUC (its 95% bootstrap interval as an error bar) beside the two floors."""
    data = read_csv(csv_path)
    positions, width = np.arange(len(data["digit"])), 0.27
    figure, axes = plt.subplots(figsize=(8, 3.4))
    error = [data["s_rec_auc"] - data["interval_low"], data["interval_high"] - data["s_rec_auc"]]
    axes.bar(positions - width, data["s_rec_auc"], width, yerr=error, capsize=2, label="DGAD s_rec (95% interval)")
    axes.bar(positions, data["pca_floor_auc"], width, color="tab:gray", label="PCA floor")
    axes.bar(positions + width, data["knn_floor_auc"], width, color="black", label="kNN floor")
    axes.set_xticks(positions, [str(int(digit)) for digit in data["digit"]])
    axes.set_xlabel("normal digit")
    axes.set_ylabel("AUC")
    axes.set_ylim(0.8, 1.01)
    axes.set_title(f"Embedded digits, quick-start settings: mean s_rec AUC {np.mean(data['s_rec_auc']):.3f}")
    axes.legend(loc="lower left", fontsize=8, ncol=3)
    save(figure, csv_path.with_suffix(".png"))


def seed_rerun(csv_path: Path):
    """Each digit's seed-0 AUC with its 95% bootstrap interval, and the AUC a retraining with another seed gave."""
    data = read_csv(csv_path)
    rerun_column = next(key for key in data if key.endswith("_auc") and key != "seed0_auc")
    positions = np.arange(len(data["digit"]))
    figure, axes = plt.subplots(figsize=(8, 3.2))
    error = [data["seed0_auc"] - data["seed0_interval_low"], data["seed0_interval_high"] - data["seed0_auc"]]
    axes.errorbar(positions, data["seed0_auc"], yerr=error, fmt="o", capsize=3, label="seed 0 (95% interval)")
    axes.plot(positions + 0.15, data[rerun_column], "x", markersize=8,
              label=f"{rerun_column.removesuffix('_auc').replace('seed', 'seed ')}")
    axes.set_xticks(positions, [str(int(digit)) for digit in data["digit"]])
    axes.set_xlabel("normal digit")
    axes.set_ylabel("s_rec AUC")
    axes.set_title(f"Retrained with another seed: {int(data['covered'].sum())} of {len(positions)} "
                   f"inside seed 0's interval")
    axes.legend(fontsize=8, loc="lower left")
    save(figure, csv_path.with_suffix(".png"))


def learning_curves(csv_paths: list[Path]):
    """One panel per class: s_rec's AUC and its two parts against the iteration, the floors as lines."""
    figure, panels = plt.subplots(1, len(csv_paths), figsize=(4 * len(csv_paths), 3.2), squeeze=False, sharey=True)
    for axes, path in zip(panels[0], csv_paths):
        data = read_csv(path)
        for column, label in (("s_rec_auc", "s_rec"), ("image_error_auc", "pixel part"),
                              ("latent_error_auc", "latent part")):
            axes.plot(data["iteration"], data[column], marker="o", markersize=3, label=label)
        for floor, column in (("PCA floor", "pca_floor_auc"), ("kNN floor", "knn_floor_auc")):
            axes.axhline(data[column][-1], label=floor, **FLOOR_STYLE[floor])
        axes.set_title(path.stem.replace("learning_curve_", "").replace("digit", "digit "))
        axes.set_xlabel("training iteration")
    panels[0][0].set_ylabel("AUC")
    panels[0][0].legend(fontsize=8, loc="lower right")
    save(figure, csv_paths[0].parent / "learning_curves.png")


def roc_and_distributions(csv_path: Path):
    """The front page's picture: one class's ROC curve and its normal and anomalous score distributions."""
    data = read_csv(csv_path)
    anomalous, scores = data["anomaly_label"] == 1, data["s_rec"]
    false_positive_rate, true_positive_rate, _ = roc_curve(anomalous, scores)
    figure, (left, right) = plt.subplots(1, 2, figsize=(8, 3.2))
    left.plot(false_positive_rate, true_positive_rate, label=f"s_rec, AUC {roc_auc_score(anomalous, scores):.3f}")
    left.plot([0, 1], [0, 1], color="tab:gray", linestyle="--", label="chance")
    left.set_xlabel("false-positive rate")
    left.set_ylabel("true-positive rate")
    left.legend(loc="lower right", fontsize=8)
    bins = np.linspace(scores.min(), scores.max(), 40)
    right.hist(scores[~anomalous], bins=bins, alpha=0.6, density=True, label="normal")
    right.hist(scores[anomalous], bins=bins, alpha=0.6, density=True, label="anomalous")
    right.set_xlabel("s_rec (raw)")
    right.set_ylabel("density")
    right.legend(fontsize=8)
    figure.suptitle(f"Digits, {csv_path.stem.replace('scores_digit', 'digit ')} normal: test images' scores")
    save(figure, csv_path.parent / csv_path.name.replace("scores_", "roc_").replace(".csv", ".png"))


def false_alarms(csv_path: Path):
    """The false-positive rate on unseen normal images (95% interval) beside the target and the validation's (with the
    95% range a quantile of that many validation images allows)."""
    data = read_csv(csv_path)
    labels = [f"digit {int(digit)}\ntarget {target:g}" for digit, target in zip(data["digit"], data["target_fpr"])]
    positions = np.arange(len(labels))
    figure, axes = plt.subplots(figsize=(1.3 * len(labels) + 5, 3.4))
    error = [data["unseen_fpr"] - data["unseen_fpr_low"], data["unseen_fpr_high"] - data["unseen_fpr"]]
    axes.errorbar(positions, data["unseen_fpr"], yerr=error, fmt="o", capsize=3, label="unseen normal images")
    expected = [data["validation_fpr"] - data["expected_fpr_low"], data["expected_fpr_high"] - data["validation_fpr"]]
    axes.errorbar(positions + 0.15, data["validation_fpr"], yerr=expected, fmt="s", capsize=3,
                  label="validation images (the threshold's), and the range they leave for new images")
    axes.plot(positions, data["test_fpr"], "^", label="normal test images")
    axes.plot(positions, data["target_fpr"], "_", color="black", markersize=24, label="--target_fpr")
    axes.set_xticks(positions, labels, fontsize=8)
    axes.set_ylabel("false-positive rate")
    axes.legend(fontsize=8, loc="upper left", bbox_to_anchor=(1.01, 1.0))
    save(figure, csv_path.with_suffix(".png"))


def score_stability(csv_path: Path):
    """Mean and largest score change per perturbation, as a share of the normal-anomalous gap, per score."""
    data = read_csv(csv_path)
    scores = list(dict.fromkeys(data["score"]))
    figure, panels = plt.subplots(1, len(scores), figsize=(6 * len(scores), 3.6), squeeze=False)
    for axes, score in zip(panels[0], scores):
        rows = data["score"] == score
        positions = np.arange(rows.sum())
        axes.barh(positions + 0.2, data["max_change_per_gap"][rows], 0.4, label="largest change / gap")
        axes.barh(positions - 0.2, data["mean_change_per_gap"][rows], 0.4, label="mean change / gap")
        axes.set_yticks(positions, data["change"][rows], fontsize=7)
        axes.invert_yaxis()
        axes.set_xlabel("score change / (mean anomalous - mean normal)")
        axes.set_title(score)
    panels[0][0].legend(fontsize=8, loc="lower right")
    save(figure, csv_path.with_suffix(".png"))


def speed_ratios(csv_path: Path):
    """Table 5: s_rec's images/s over s_dir's, ours on this machine beside the paper's, per protocol."""
    data = read_csv(csv_path)
    positions, width = np.arange(len(data["protocol"])), 0.35
    figure, axes = plt.subplots(figsize=(5, 3.2))
    axes.bar(positions - width / 2, data["ratio"], width, label="ours (CPU)")
    axes.bar(positions + width / 2, data["paper_ratio"], width, label="paper (GPU)")
    axes.set_xticks(positions, [f"Protocol {int(protocol)}" for protocol in data["protocol"]])
    axes.set_ylabel("s_rec images/s / s_dir images/s")
    axes.axhline(1, color="tab:gray", linewidth=0.8)
    axes.legend(fontsize=8)
    save(figure, csv_path.with_suffix(".png"))


def runs_against_iterations(csv_path: Path):
    """Each run of the learning-curves study (DGAD, its `gan` variant, the sum reading), per digit: s_rec and s_dir
    against the iteration, each digit's floors as lines."""
    data = read_csv(csv_path)
    scores = [column for column in ("s_rec_auc", "s_dir_auc") if column in data]
    figure, panels = plt.subplots(1, len(scores), figsize=(4.5 * len(scores), 3.2), squeeze=False, sharey=True)
    for axes, column in zip(panels[0], scores):
        for name, digit in dict.fromkeys(zip(data["run"], data["digit"])):
            rows = (data["run"] == name) & (data["digit"] == digit)
            axes.plot(data["iteration"][rows], data[column][rows], marker="o", markersize=3,
                      label=f"{name}, digit {int(digit)}")
        for digit in dict.fromkeys(data["digit"]):
            for floor, floor_column in (("PCA floor", "pca_floor_auc"), ("kNN floor", "knn_floor_auc")):
                axes.axhline(data[floor_column][data["digit"] == digit][-1], label=f"{floor}, digit {int(digit)}",
                             **FLOOR_STYLE[floor])
        axes.set_title(column.removesuffix("_auc"))
        axes.set_xlabel("training iteration")
    panels[0][0].set_ylabel("AUC")
    panels[0][0].legend(fontsize=8, loc="lower right")
    save(figure, csv_path.parent / "dgad_against_gan.png")


def latent_channels(csv_path: Path):
    """Each latent channel count's last AUCs on the study's first digit beside the floors, and its parameter count at
    the paper's width."""
    data, parameters = read_csv(csv_path), read_csv(csv_path.parent / "parameters.csv")
    digit = data["digit"][0]
    data = {column: values[data["digit"] == digit] for column, values in data.items()}
    last = data["iteration"] == data["iteration"].max()
    order = np.argsort(data["latent_channels"][last])
    channels = data["latent_channels"][last][order]
    positions, width = np.arange(len(channels)), 0.38
    figure, (left, right) = plt.subplots(1, 2, figsize=(9, 3.3))
    for offset, column in ((-width / 2, "s_rec_auc"), (width / 2, "s_dir_auc")):
        left.bar(positions + offset, data[column][last][order], width, label=column.removesuffix("_auc"))
    for floor, floor_column in (("PCA floor", "pca_floor_auc"), ("kNN floor", "knn_floor_auc")):
        left.axhline(data[floor_column][-1], label=floor, **FLOOR_STYLE[floor])
    left.set_xticks(positions, [f"{int(count)}" for count in channels])
    left.set_xlabel(f"latent channels at width {int(data['width'][0])} (digit {int(digit)}, "
                    f"iteration {int(data['iteration'].max())})")
    left.set_ylabel("AUC")
    left.set_ylim(0.7, 1.0)
    left.legend(fontsize=8, loc="lower right", ncol=2)
    right.bar(np.arange(len(parameters["latent_channels_width64"])), parameters["parameters_width64_rgb"] / 1e6)
    paper = parameters["paper_parameters"][0] / 1e6
    right.axhline(paper, color="black", linestyle="--", label=f"the paper's {paper:g}M")
    right.set_xticks(np.arange(len(parameters["latent_channels_width64"])),
                     [f"{int(count)}" for count in parameters["latent_channels_width64"]])
    right.set_xlabel("latent channels at width 64")
    right.set_ylabel("encoder + decoder parameters (M)")
    right.set_ylim(8.0, 10.2)
    right.legend(fontsize=8)
    save(figure, csv_path.parent / "latent_channels.png")


def memorisation(csv_path: Path):
    """s_rec against the iteration per training-set size with its floors, and the error ratios of model and PCA."""
    data, errors = read_csv(csv_path), read_csv(csv_path.parent / "errors.csv")
    sizes = list(dict.fromkeys(data["training_images"]))
    figure, (left, right) = plt.subplots(1, 2, figsize=(10, 3.4))
    for size, color in zip(sizes, ("tab:blue", "tab:orange")):
        rows = data["training_images"] == size
        left.plot(data["iteration"][rows], data["s_rec_auc"][rows], marker="o", markersize=3, color=color,
                  label=f"s_rec, {int(size)} training images")
        for floor, floor_column in (("PCA floor", "pca_floor_auc"), ("kNN floor", "knn_floor_auc")):
            left.axhline(data[floor_column][rows][-1], color=color, linestyle=FLOOR_STYLE[floor]["linestyle"],
                         linewidth=1, label=f"{floor}, {int(size)} images")
    left.set_xlabel("training iteration")
    left.set_ylabel("AUC")
    left.legend(fontsize=7, loc="lower right")
    labels = [f"{name}\n{int(size)} images"
              for name, size in zip(errors["reconstructed_by"], errors["training_images"])]
    positions, width = np.arange(len(labels)), 0.38
    right.bar(positions - width / 2, errors["normal_over_train"], width, label="unseen normal / training")
    right.bar(positions + width / 2, errors["anomalous_over_normal"], width, label="anomalous / unseen normal")
    right.axhline(1, color="tab:gray", linewidth=0.8)
    right.set_ylim(0, 1.3 * max(errors["normal_over_train"].max(), errors["anomalous_over_normal"].max()))
    right.set_xticks(positions, labels, fontsize=8)
    right.set_ylabel("ratio of mean |x - x^|")
    right.legend(fontsize=8)
    save(figure, csv_path.parent / "memorisation.png")


def main():
    argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter).parse_args()
    studies = [
        (FINDINGS / "digits" / "per_class.csv", per_class_bars),
        (FINDINGS / "digits" / "scores_digit8.csv", roc_and_distributions),
        (FINDINGS / "digits" / "seed_rerun.csv", seed_rerun),
        (FINDINGS / "false_alarms" / "false_alarms.csv", false_alarms),
        (FINDINGS / "score_stability" / "score_stability.csv", score_stability),
        (FINDINGS / "table5_speed" / "speed.csv", speed_ratios),
        (FINDINGS / "learning_curves" / "curves.csv", runs_against_iterations),
        (FINDINGS / "latent_channels" / "curves.csv", latent_channels),
        (FINDINGS / "memorisation" / "curves.csv", memorisation),
    ]
    for path, draw in studies:
        if path.exists():
            draw(path)
        else:
            print(f"skipped {path.relative_to(FINDINGS)}: not written yet (see the findings page for its command)")
    curves = sorted((FINDINGS / "digits").glob("learning_curve_digit*.csv"))
    if curves:
        learning_curves(curves)
    else:
        print("skipped the learning curves: no digits/learning_curve_digit*.csv")
    return 0


if __name__ == "__main__":
    sys.exit(main())
