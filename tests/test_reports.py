"""Tests for utils.reporting.reports and utils.reporting.plots, and the transcribed numbers in
models/dgad/paper_results.py and models/adcgan/paper_results.py as each method's paper_row gives them."""

import csv
import json
import os
import re
from pathlib import Path

import matplotlib.figure
import matplotlib.pyplot as plt
import numpy as np
import pytest

from data.sources import MVTEC_CATEGORIES
from models.adcgan.paper_results import ADCGAN_ABLATION_MEAN_AUC, ADCGAN_AUC, adcgan_row
from models.dgad.paper_results import DGAD_AUC, DGAD_DISCRIMINATOR_ACCURACY, DGAD_SCORING_SPEED, dgad_row
from models.registry import METHODS, get_method
from utils.reporting.plots import plot_roc
from utils.reporting.reports import (read_class_metrics, read_resampled, roc_auc, rows_csv, write_class_results,
                                    write_summary)
from utils.scoring.bootstrap import RESAMPLES, mean_interval, percentile_interval, resampled_aucs, summary_intervals
from utils.running.config import Config

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
MNIST_CLASSES = [str(digit) for digit in range(10)]


def paper_row(method, dataset, score=None, **settings):
    """The paper's row for a run of `method` on `dataset` with `settings`, as the experiment asks for it."""
    config = Config(method=method, dataset=dataset, **settings)
    return get_method(method).paper_row(dataset, config, score or config.score)


def dgad_reference(dataset, protocol=1, **settings):
    return paper_row("dgad", dataset, protocol=protocol, **settings).reference()


# roc_auc


def test_roc_auc_counts_correctly_ordered_normal_anomalous_pairs():
    # Normal scores 0.1, 0.4; anomalous 0.2, 0.5. Of the 4 (normal, anomalous) pairs only
    # (0.4, 0.2) has the normal image scored higher, so AUC = 3/4.
    labels = [0, 1, 0, 1]
    scores = [0.1, 0.2, 0.4, 0.5]
    assert roc_auc(labels, scores) == pytest.approx(0.75)


def test_roc_auc_counts_a_tie_as_half_a_pair():
    # Pairs (0.3, 0.3) tie = 1/2 and (0.3, 0.5) correct = 1: (1/2 + 1) / 2.
    assert roc_auc([0, 1, 1], [0.3, 0.3, 0.5]) == pytest.approx(0.75)


def test_roc_auc_is_one_for_perfect_separation_and_zero_when_inverted():
    labels = np.array([0, 0, 0, 1, 1])
    scores = np.array([0.1, 0.2, 0.3, 0.8, 0.9])
    assert roc_auc(labels, scores) == 1.0
    assert roc_auc(labels, -scores) == 0.0


def test_roc_auc_returns_a_python_float():
    assert type(roc_auc([0, 1], [0.2, 0.7])) is float


@pytest.mark.parametrize("labels", [[0, 0, 0], [1, 1]])
def test_roc_auc_rejects_a_test_set_with_one_class(labels):
    with pytest.raises(ValueError, match="needs both normal and anomalous images"):
        roc_auc(labels, np.linspace(0, 1, len(labels)))


def test_roc_auc_rejects_labels_other_than_zero_and_one():
    with pytest.raises(ValueError, match="0 \\(normal\\) or 1 \\(anomalous\\)"):
        roc_auc([1, 2, 1, 2], [0.1, 0.2, 0.3, 0.4])


# write_class_results


def _read_csv(path):
    with open(path, newline="", encoding="utf-8") as csv_file:
        return list(csv.reader(csv_file))


def test_write_class_results_writes_scores_and_both_figures(tmp_path):
    labels = np.array([0, 1, 0, 1, 1, 0])
    # Values with long decimal expansions, a float32, a tiny and a large one: the CSV must be exact.
    scores = np.array([0.1 + 0.2, 1 / 3, float(np.float32(0.7)), 2.5e-17, 123456.78901234567, 0.0])
    class_labels = np.array([3, 5, 3, 7, 0, 3])

    resampled = resampled_aucs(labels, scores, (0, 3))
    auc = write_class_results(
        tmp_path / "run", labels, scores, "3", extra_columns={"class_label": class_labels},
        metrics={"images_per_second": 12.5}, resampled={"auc": resampled},
        intervals={"auc": percentile_interval(resampled)},
    )

    assert auc == pytest.approx(roc_auc(labels, scores))
    run_dir = tmp_path / "run"
    metrics = read_class_metrics(run_dir)
    assert metrics == {"auc": auc, "auc_interval": metrics["auc_interval"], "images_per_second": 12.5,
                       "bootstrap_resamples": 1000}
    low, high = metrics["auc_interval"]
    assert low <= auc <= high
    assert np.array_equal(read_resampled(run_dir)["auc"], resampled)
    assert read_class_metrics(tmp_path / "never_tested") is None
    assert sorted(path.name for path in run_dir.iterdir()) == [
        "bootstrap_resamples.csv",
        "metrics.json",
        "roc.png",
        "score_distribution.png",
        "scores.csv",
    ]
    rows = _read_csv(run_dir / "scores.csv")
    assert rows[0] == ["index", "anomaly_label", "score", "class_label"]
    assert [int(row[0]) for row in rows[1:]] == list(range(6))
    assert [int(row[1]) for row in rows[1:]] == labels.tolist()
    assert [float(row[2]) for row in rows[1:]] == scores.tolist()
    assert [int(row[3]) for row in rows[1:]] == class_labels.tolist()
    for figure_name in ("roc.png", "score_distribution.png"):
        content = (run_dir / figure_name).read_bytes()
        assert len(content) > 1000
        assert content.startswith(PNG_SIGNATURE)


def test_write_class_results_keeps_float_extra_columns_exact_and_closes_figures(tmp_path):
    plt.close("all")
    rng = np.random.default_rng(0)
    labels = np.array([0] * 20 + [1] * 20)
    scores = rng.normal(size=40) + labels
    image_part = rng.random(40, dtype=np.float32)

    write_class_results(tmp_path, labels, scores, "cat", extra_columns={"image_part": image_part})

    rows = _read_csv(tmp_path / "scores.csv")
    assert [float(row[3]) for row in rows[1:]] == image_part.astype(np.float64).tolist()
    assert plt.get_fignums() == []


def test_write_class_results_writes_nothing_for_a_test_set_without_normal_images(tmp_path):
    with pytest.raises(ValueError, match="needs both normal and anomalous images"):
        write_class_results(tmp_path / "run", [1, 1, 1], [0.1, 0.2, 0.3], "0")
    assert not (tmp_path / "run").exists()


def test_a_test_set_of_normal_images_only_has_no_auc_and_no_roc_curve(tmp_path):
    auc = write_class_results(tmp_path, [0, 0, 0], [0.1, 0.2, 0.3], "0", metrics={"f1": None})
    assert auc is None
    assert json.loads((tmp_path / "metrics.json").read_text()) == {"auc": None, "f1": None}
    assert not (tmp_path / "roc.png").exists() and (tmp_path / "score_distribution.png").exists()

    _, markdown_path = write_summary(tmp_path, {"0": None}, ["0"], {}, None,
                                     per_class_columns={"Precision": {"0": None}, "F1 if all flagged": {"0": None}})
    assert "| 0 | — | — | — | — | — |" in markdown_path.read_text()


def test_summary_columns_follow_the_papers_with_their_means(tmp_path):
    columns = {"Pixel AUROC": {"1": 0.8, "8": 0.6}, "F1": {"1": 0.5, "8": None}}
    json_path, markdown_path = write_summary(tmp_path, {"1": 0.99, "8": 0.95}, MNIST_CLASSES, {}, None,
                                             per_class_columns=columns)
    markdown = markdown_path.read_text()
    assert "| Class | Our AUC | Paper AUC | Difference | Pixel AUROC | F1 |" in markdown
    assert "| 8 | 0.9500 | — | — | 0.6000 | — |" in markdown
    # A mean is over the classes that have the value.
    assert "| Mean (2 classes) | 0.9700 | — | — | 0.7000 | 0.5000 |" in markdown
    assert json.loads(json_path.read_text())["per_class"]["1"] == {"Pixel AUROC": 0.8, "F1": 0.5}
    assert (tmp_path / "summary.html").exists()


def test_write_class_results_rejects_an_extra_column_of_the_wrong_length(tmp_path):
    with pytest.raises(ValueError, match="extra column 'parts'"):
        write_class_results(tmp_path, [0, 1], [0.1, 0.9], "0", {"parts": np.zeros(3)})


def test_a_failed_figure_save_keeps_the_previous_figure_and_no_temporary_file(
    tmp_path, monkeypatch
):
    path = tmp_path / "roc.png"
    plot_roc([0, 1, 0, 1], [0.1, 0.9, 0.2, 0.8], path, "first run")
    first_figure = path.read_bytes()

    def write_half_then_fail(figure, target, **kwargs):
        # A path or a file object, whichever the figure is rendered into.
        if isinstance(target, (str, os.PathLike)):
            Path(target).write_bytes(PNG_SIGNATURE)
        else:
            target.write(PNG_SIGNATURE)
        raise OSError("disk full")

    monkeypatch.setattr(matplotlib.figure.Figure, "savefig", write_half_then_fail)
    with pytest.raises(OSError, match="disk full"):
        plot_roc([0, 1, 0, 1], [0.9, 0.1, 0.8, 0.2], path, "second run")

    assert path.read_bytes() == first_figure
    assert [entry.name for entry in tmp_path.iterdir()] == ["roc.png"]
    assert plt.get_fignums() == []


# write_summary


def test_write_summary_json_holds_per_class_mean_config_paper_and_extra(tmp_path):
    paper = dgad_reference("mnist")
    config = {"method": "dgad", "dataset": "mnist", "protocol": 1, "batch_size": 64}

    json_path, markdown_path = write_summary(
        tmp_path, {"8": 0.95, "1": 0.99}, MNIST_CLASSES, config, paper, extra={"seconds": 12.5}
    )

    assert json_path == tmp_path / "summary.json"
    assert markdown_path == tmp_path / "summary.md"
    summary = json.loads(json_path.read_text(encoding="utf-8"))
    # Classes come out in class-index order whatever order they were passed in.
    assert list(summary["per_class_auc"].items()) == [("1", 0.99), ("8", 0.95)]
    assert summary["mean_auc"] == pytest.approx(0.97)
    assert summary["config"] == config
    assert summary["paper"]["source"] == "DGAD paper, Table 1"
    assert summary["paper"]["per_class"][8] == 0.9631
    assert summary["paper"]["mean"] == 0.9864
    assert summary["seconds"] == 12.5


def test_write_summary_markdown_table_sets_our_auc_beside_the_papers(tmp_path):
    paper = dgad_reference("mnist")
    config = {"method": "dgad", "dataset": "mnist", "protocol": 1, "unlisted_detail": 7}

    _, markdown_path = write_summary(tmp_path, {"1": 0.99, "8": 0.95}, MNIST_CLASSES, config, paper)

    markdown = markdown_path.read_text(encoding="utf-8")
    assert "| 1 | 0.9900 | 0.9981 | -0.0081 |" in markdown
    assert "| 8 | 0.9500 | 0.9631 | -0.0131 |" in markdown
    # Paper mean over the same two classes: (0.9981 + 0.9631) / 2 = 0.9806.
    assert "| Mean (2 classes) | 0.9700 | 0.9806 | -0.0106 |" in markdown
    assert "printed mean over all its 10 classes: 0.9864" in markdown
    assert "Paper numbers: DGAD paper, Table 1." in markdown
    assert "- protocol: 1" in markdown
    assert "unlisted_detail" not in markdown


def test_write_summary_matches_mvtec_categories_by_name_not_position(tmp_path):
    alphabetical = sorted(MVTEC_CATEGORIES)
    paper = dgad_reference("mvtec", protocol=3)

    _, markdown_path = write_summary(tmp_path, {"screw": 0.7}, alphabetical, {}, paper)

    assert "| screw | 0.7000 | 0.6700 | +0.0300 |" in markdown_path.read_text(encoding="utf-8")


def test_write_summary_without_paper_numbers_prints_dashes_and_null(tmp_path):
    json_path, markdown_path = write_summary(tmp_path, {"3": 0.9}, MNIST_CLASSES, {}, None)

    assert json.loads(json_path.read_text(encoding="utf-8"))["paper"] is None
    markdown = markdown_path.read_text(encoding="utf-8")
    assert "| 3 | 0.9000 | — | — |" in markdown
    assert "| Mean (1 classes) | 0.9000 | — | — |" in markdown


def test_write_summary_rejects_a_class_list_that_does_not_match_the_paper(tmp_path):
    paper = dgad_reference("cifar10")
    with pytest.raises(ValueError, match="every class of the dataset"):
        write_summary(tmp_path, {"cat": 0.7}, ["cat"], {}, paper)
    assert list(tmp_path.iterdir()) == []


def test_the_summary_shows_each_auc_and_pixel_auroc_with_its_interval_and_the_means(tmp_path):
    rng = np.random.default_rng(0)
    folders, aucs = {}, {}
    for index, name in enumerate(("1", "8")):
        labels = (np.arange(200) % 4 == 0).astype(int)
        folders[name] = tmp_path / name
        scores = rng.normal(size=200) + labels
        resampled = {"auc": resampled_aucs(labels, scores, (0, index)),
                     "pixel_auroc": np.full(RESAMPLES, 0.6 + 0.1 * index)}
        aucs[name] = write_class_results(folders[name], labels, scores, name,
                                         metrics={"pixel_auroc": 0.6 + 0.1 * index}, resampled=resampled,
                                         intervals={key: percentile_interval(values)
                                                    for key, values in resampled.items()})
    metrics = read_class_metrics(folders["8"])
    assert metrics["pixel_auroc_interval"] == pytest.approx([0.7, 0.7])
    resampled = {name: read_resampled(folder) for name, folder in folders.items()}
    pixel = {"1": 0.6, "8": 0.7}

    json_path, markdown_path = write_summary(
        tmp_path / "summary", aucs, MNIST_CLASSES, {}, None, per_class_columns={"Pixel AUROC": pixel},
        class_folders=folders, intervals=summary_intervals({"auc": aucs, "pixel_auroc": pixel}, resampled))

    summary = json.loads(json_path.read_text())["intervals"]
    assert summary["resamples"] == RESAMPLES and summary["confidence"] == 0.95
    assert summary["auc"]["per_class"]["8"] == pytest.approx(metrics["auc_interval"])
    mean_low, mean_high = summary["auc"]["mean"]
    assert (mean_low, mean_high) == pytest.approx(mean_interval([resampled["1"]["auc"], resampled["8"]["auc"]]))
    low, high = percentile_interval(resampled["8"]["auc"])
    markdown = markdown_path.read_text()
    assert f"| 8 | {aucs['8']:.4f} [{low:.4f}, {high:.4f}] | — | — | 0.7000 [0.7000, 0.7000] |" in markdown
    mean = (aucs["1"] + aucs["8"]) / 2
    assert (f"| Mean (2 classes) | {mean:.4f} [{mean_low:.4f}, {mean_high:.4f}] | — | — | 0.6500 [0.6500, 0.6500] |"
            in markdown)
    assert f"<td>{aucs['8']:.4f} [{low:.4f}, {high:.4f}]</td>" in (tmp_path / "summary/summary.html").read_text()


def test_a_mean_over_classes_of_which_one_has_no_resamples_has_no_interval(tmp_path):
    labels = np.array([0, 1] * 20)
    scores = labels + np.linspace(0, 2, 40)
    auc = write_class_results(tmp_path / "1", labels, scores, "1",
                              resampled={"auc": resampled_aucs(labels, scores, (0, 1))})
    aucs = {"1": auc, "8": 0.9}
    intervals = summary_intervals({"auc": aucs}, {"1": read_resampled(tmp_path / "1"), "8": {}})
    assert intervals["auc"]["mean"] is None and intervals["auc"]["per_class"]["1"] is not None
    _, markdown_path = write_summary(tmp_path / "summary", aucs, MNIST_CLASSES, {}, None, intervals=intervals)
    assert f"| Mean (2 classes) | {(auc + 0.9) / 2:.4f} | — | — |" in markdown_path.read_text()


def test_write_summary_rejects_a_tested_class_missing_from_the_class_list(tmp_path):
    with pytest.raises(ValueError, match="not in class_names_in_order"):
        write_summary(tmp_path, {"11": 0.5}, MNIST_CLASSES, {}, None)


# paper_results: spot checks against the papers' text


def test_dgad_numbers_match_the_paper_text():
    assert dgad_row("mnist", 1).per_class[8] == 0.9631
    assert dgad_row("mnist", 1).mean == 0.9864
    assert dgad_row("mnist", 2).per_class[3] == 0.9549
    assert dgad_row("cifar10", 1).mean == 0.8012
    assert dgad_row("cifar10", 2).per_class[0] == 0.800
    assert dgad_row("cifar10", 2, "coordconv", "dir").mean == 0.6802
    assert dgad_row("cifar10", 1, "gan").per_class[8] == 0.859
    assert dgad_row("cifar10", 2, "no_compactness").per_class[3] == 0.690
    assert dgad_row("cifar10", 1, "dgad", "dir").mean == 0.8144
    mvtec = dict(zip(MVTEC_CATEGORIES, dgad_row("mvtec", 3).per_class))
    assert mvtec["screw"] == 0.67
    assert mvtec["bottle"] == 0.97
    assert mvtec["zipper"] == 0.82
    assert DGAD_SCORING_SPEED[(2, "dir")] == 14.18
    assert DGAD_DISCRIMINATOR_ACCURACY[("all", "dgad")].per_class[4] == 0.254


def test_adcgan_numbers_match_the_paper_text_as_fractions():
    assert adcgan_row("fashion_mnist", "one_vs_all").per_class[7] == 0.985
    assert adcgan_row("cifar10", "all_vs_one").mean == 0.845
    assert adcgan_row("mnist", "all_vs_one").per_class[0] == 0.946
    assert adcgan_row("cats_vs_dogs", "one_vs_all").per_class == (0.927, 0.869)
    assert ADCGAN_ABLATION_MEAN_AUC[("mnist", "all_vs_one", "lfl")] == 0.732


def test_adcgan_full_score_ablation_equals_the_table_3_means():
    for (dataset, scheme, variant), mean in ADCGAN_ABLATION_MEAN_AUC.items():
        if variant == "gf":
            assert mean == adcgan_row(dataset, scheme).mean, (dataset, scheme)


def test_every_per_class_row_has_one_value_per_class():
    expected_lengths = {"mnist": 10, "cifar10": 10, "fashion_mnist": 10, "mvtec": 15,
                        "cats_vs_dogs": 2}
    for (dataset, *_), row in DGAD_AUC.items():
        assert len(row.per_class) == expected_lengths[dataset], dataset
    for (dataset, _), row in ADCGAN_AUC.items():
        assert len(row.per_class) == expected_lengths[dataset], dataset
    for row in DGAD_DISCRIMINATOR_ACCURACY.values():
        assert len(row.per_class) == 10
    assert len(MVTEC_CATEGORIES) == 15


# DGAD Table 3 prints its mean with two decimals: the per-class mean 0.7973 rounds to the printed
# 0.80 but differs from it by 0.0027, more than the tolerance, so it is checked at two decimals.
ROWS_PRINTED_TO_TWO_DECIMALS = {("mvtec", 3, "dgad", "rec")}


def _all_rows():
    tables = (
        DGAD_AUC,
        DGAD_DISCRIMINATOR_ACCURACY,
        ADCGAN_AUC,
    )
    return [(key, row) for table in tables for key, row in table.items()]


@pytest.mark.parametrize("key, row", _all_rows(), ids=lambda value: str(value))
def test_printed_mean_agrees_with_the_per_class_values(key, row):
    per_class_mean = float(np.mean(row.per_class))
    if key in ROWS_PRINTED_TO_TWO_DECIMALS:
        assert round(per_class_mean, 2) == row.mean
    else:
        assert per_class_mean == pytest.approx(row.mean, abs=0.002)


# paper_results: lookups, through each method's paper_row


def test_the_dgad_paper_row_names_its_table():
    assert dgad_reference("cifar10") == {
        "source": "DGAD paper, Table 2",
        "per_class": [0.746, 0.876, 0.732, 0.711, 0.766, 0.804, 0.760, 0.884, 0.862, 0.872],
        "mean": 0.8012,
    }
    ablation = paper_row("dgad", "cifar10", "dir", protocol=2, variant="zero_padding").reference()
    assert ablation["source"] == "DGAD paper, Table 4"
    assert ablation["mean"] == 0.7115
    mvtec = dgad_reference("mvtec", protocol=3)
    assert mvtec["source"] == "DGAD paper, Table 3"
    # The paper numbers the categories in its footnote's order, which the reference carries.
    assert mvtec["class_names"] == list(MVTEC_CATEGORIES) and mvtec["class_names"][13] == "screw"
    assert "class_names" not in dgad_reference("mnist")


def test_the_adcgan_paper_row_is_table_3_for_ns_and_table_4_means_for_its_ablations():
    reference = paper_row("adcgan", "mnist", scheme="all_vs_one").reference()
    assert reference["source"] == "AD-CGAN paper, Table 3"
    assert reference["mean"] == 0.850
    assert reference["per_class"][7] == 0.761
    ablation = paper_row("adcgan", "mnist", "lfe")
    assert ablation == ("AD-CGAN paper, Table 4", None, 0.844, None)


def test_there_is_no_paper_row_where_the_paper_has_none():
    assert paper_row("dgad", "cifar10", protocol=1, scheme="all_vs_one") is None
    assert paper_row("dgad", "fashion_mnist", protocol=1) is None
    assert paper_row("dgad", "mnist", protocol=1, variant="coordconv") is None
    assert paper_row("adcgan", "cats_vs_dogs", scheme="all_vs_one") is None
    assert paper_row("adcgan", "mvtec") is None
    assert paper_row("adcgan", "cats_vs_dogs", "lg") is None
    assert dgad_row("mvtec", 1) is None
    assert dgad_row("cifar10", 1, "gan", "dir") is None
    assert adcgan_row("cats_vs_dogs", "all_vs_one") is None


def test_lookups_reject_misspelt_choices():
    with pytest.raises(ValueError, match=re.escape(f"unknown method 'ad-cgan'; expected one of {tuple(METHODS)}")):
        get_method("ad-cgan")
    with pytest.raises(ValueError, match="unknown scheme"):
        adcgan_row("mnist", "one-vs-all")
    # A variant reaches paper_row only through a Config, which refuses a misspelt one.
    with pytest.raises(ValueError, match="unknown variant 'coord' for dgad"):
        paper_row("dgad", "cifar10", protocol=1, variant="coord")


def test_rows_csv_writes_the_first_rows_keys_as_header_and_every_float_exactly():
    rows = [{"run": "dgad", "iteration": 250, "auc": 0.6621827309948777},
            {"run": "gan", "iteration": 500, "auc": 0.1 + 0.2}]
    assert rows_csv(rows) == "run,iteration,auc\ndgad,250,0.6621827309948777\ngan,500,0.30000000000000004\n"
