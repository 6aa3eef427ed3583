"""Normalisation (eq 16), the stored decision threshold, its metrics, the overlay selection and detector.json.

Fast: no model is built or trained. Expected values are computed by hand in the comments.
"""

import dataclasses
import json

import numpy as np
import pytest

from utils.running.detector import (DETECTOR_FILE, DetectorState, ScoreState, load_detector_state,
                                    save_detector_state)
from utils.running.evaluation import decide, overlay_captions, overlay_selection
from utils.scoring.normalise import Normalisation, min_max_normalise
from utils.scoring.thresholds import (NORMAL_PERCENTILE, ORACLE_RULE, Threshold, choose_threshold, decision_metrics,
                                      f1_optimal_threshold)


def hand_f1(labels, flags):
    """F1 = 2 TP / (2 TP + FP + FN), the definition, for cross-checks."""
    labels, flags = np.asarray(labels, bool), np.asarray(flags, bool)
    tp = np.count_nonzero(labels & flags)
    fp = np.count_nonzero(~labels & flags)
    fn = np.count_nonzero(labels & ~flags)
    return 2 * tp / (2 * tp + fp + fn)


# --- Normalisation (eq 16) ---

def test_the_test_split_lands_in_0_1_with_min_at_0_and_max_at_1():
    raw = np.array([3.0, -1.0, 7.0, 2.0, 5.0])
    normalisation = Normalisation.fit(raw)
    assert (normalisation.minimum, normalisation.maximum) == (-1.0, 7.0)
    normalised = normalisation(raw)
    np.testing.assert_allclose(normalised, [0.5, 0.0, 1.0, 0.375, 0.75])
    assert normalised.min() == 0.0 and normalised.max() == 1.0
    np.testing.assert_array_equal(min_max_normalise(raw), normalised)


def test_new_scores_outside_the_range_map_outside_0_1_linearly():
    normalisation = Normalisation(2.0, 6.0)
    np.testing.assert_allclose(normalisation([0.0, 2.0, 4.0, 6.0, 10.0]), [-0.5, 0.0, 0.5, 1.0, 2.0])


def test_a_single_images_normalised_score_does_not_depend_on_the_other_images():
    normalisation = Normalisation.fit(np.random.default_rng(0).normal(size=50))
    batch = np.array([-3.0, 0.1, 0.7, 4.0])
    together = normalisation(batch)
    for index, score in enumerate(batch):
        assert float(normalisation([score])[0]) == together[index]
        assert float(normalisation(score)) == together[index]
    # The other images of the batch change nothing, even extreme ones.
    assert normalisation([0.1, 1e6])[0] == normalisation([0.1, -1e6])[0] == together[1]


def test_equal_scores_normalise_to_zeros():
    assert np.array_equal(min_max_normalise(np.full(4, 2.5)), np.zeros(4))
    normalisation = Normalisation.fit([2.5, 2.5])
    assert np.array_equal(normalisation([1.0, 2.5, 9.0]), np.zeros(3))


@pytest.mark.parametrize("bad", [np.nan, np.inf])
def test_nan_or_infinite_scores_are_refused_with_a_message_naming_nan(bad):
    with pytest.raises(ValueError, match="NaN"):
        Normalisation.fit(np.array([0.1, bad, 0.3]))
    with pytest.raises(ValueError, match="NaN"):
        min_max_normalise(np.array([bad, 0.2]))


def test_raw_inverts_the_normalisation():
    normalisation = Normalisation(2.0, 6.0)
    assert normalisation.raw(0.0) == 2.0 and normalisation.raw(1.0) == 6.0 and normalisation.raw(0.25) == 3.0
    assert normalisation.raw(1.5) == 8.0 and normalisation.raw(-0.5) == 0.0
    for value in (-0.3, 0.0, 0.42, 1.0, 1.7):
        assert float(normalisation(normalisation.raw(value))) == pytest.approx(value)


# --- The decision rule and the F1-optimal threshold ---

def test_flags_are_raw_scores_at_or_above_the_threshold():
    threshold = Threshold(raw=0.5, normalised=0.5, chosen_by="test")
    np.testing.assert_array_equal(threshold.flags([0.4999, 0.5, 0.5001, 1.0, -2.0]),
                                  [False, True, True, True, False])


# Labels and scores of six images; F1 of flagging score >= t, by hand:
#   t=0.1: 6 flagged, TP 3: P 3/6, R 1   -> F1 2/3
#   t=0.2: 5 flagged, TP 3: P 3/5, R 1   -> F1 3/4
#   t=0.3: 4 flagged, TP 3: P 3/4, R 1   -> F1 6/7   (the best)
#   t=0.4: 3 flagged, TP 2: P 2/3, R 2/3 -> F1 2/3
#   t=0.5: 2 flagged, TP 2: P 1,   R 2/3 -> F1 4/5
#   t=0.6: 1 flagged, TP 1: P 1,   R 1/3 -> F1 1/2
SIX_LABELS = np.array([0, 0, 1, 0, 1, 1])
SIX_SCORES = np.array([0.1, 0.2, 0.3, 0.4, 0.5, 0.6])
SIX_F1 = {0.1: 2 / 3, 0.2: 3 / 4, 0.3: 6 / 7, 0.4: 2 / 3, 0.5: 4 / 5, 0.6: 1 / 2}


def test_the_f1_optimal_threshold_of_a_hand_made_example():
    for t, f1 in SIX_F1.items():  # the hand values above are the definition's
        assert hand_f1(SIX_LABELS, SIX_SCORES >= t) == pytest.approx(f1)
    assert f1_optimal_threshold(SIX_LABELS, SIX_SCORES) == 0.3
    # Shuffling the images changes nothing.
    order = np.random.default_rng(1).permutation(6)
    assert f1_optimal_threshold(SIX_LABELS[order], SIX_SCORES[order]) == 0.3


def test_tied_scores_are_decided_together_at_or_above_the_threshold():
    # Scores 0.1, 0.5, 0.5, 0.9 with labels 0, 1, 0, 1:
    #   t=0.1: all flagged, P 1/2, R 1 -> 2/3; t=0.5: 3 flagged, P 2/3, R 1 -> 4/5; t=0.9: P 1, R 1/2 -> 2/3.
    labels, scores = np.array([0, 1, 0, 1]), np.array([0.1, 0.5, 0.5, 0.9])
    raw = f1_optimal_threshold(labels, scores)
    assert raw == 0.5
    flags = Threshold(raw, 0.5, "test").flags(scores)
    np.testing.assert_array_equal(flags, [False, True, True, True])  # both tied images, by >=
    assert decision_metrics(labels, flags)["f1"] == pytest.approx(4 / 5)


def test_an_f1_tie_between_thresholds_gives_one_of_the_best():
    # Scores 1, 2, 3, 4 with labels 1, 0, 0, 1: F1 2/3 at t=1 (all flagged) and at t=4 (P 1, R 1/2);
    # 2/5 at t=2, 1/2 at t=3.
    labels, scores = np.array([1, 0, 0, 1]), np.array([1.0, 2.0, 3.0, 4.0])
    raw = f1_optimal_threshold(labels, scores)
    assert raw in (1.0, 4.0)
    assert hand_f1(labels, scores >= raw) == pytest.approx(2 / 3)


def test_the_f1_optimal_threshold_is_a_score_and_no_score_does_better():
    rng = np.random.default_rng(2)
    for _ in range(20):
        labels = rng.integers(0, 2, 40)
        labels[:2] = [0, 1]
        scores = np.round(rng.normal(size=40) + labels, 1)  # rounding makes ties
        raw = f1_optimal_threshold(labels, scores)
        assert raw in scores
        best = max(hand_f1(labels, scores >= t) for t in np.unique(scores))
        assert hand_f1(labels, scores >= raw) == pytest.approx(best)


# --- choose_threshold ---

def test_the_percentile_rule_on_all_normal_labels_flags_the_scores_at_or_above_np_percentile():
    scores = np.random.default_rng(3).normal(size=500)
    normalisation = Normalisation.fit(scores)
    for percentile in (NORMAL_PERCENTILE, 80.0):
        threshold = choose_threshold(np.zeros(500), scores, normalisation, percentile=percentile)
        np.testing.assert_array_equal(threshold.flags(scores), scores >= np.percentile(scores, percentile))
        assert threshold.normalised == pytest.approx(float(normalisation(threshold.raw)))
        # Halfway between the lowest flagged score and the next lower one.
        flagged, kept = scores[threshold.flags(scores)], scores[~threshold.flags(scores)]
        assert threshold.raw == pytest.approx((flagged.min() + kept.max()) / 2)


def test_the_percentile_threshold_flags_about_5_percent_of_fresh_normal_draws():
    rng = np.random.default_rng(0)
    fitted_on, fresh = rng.normal(size=2000), rng.normal(size=20000)
    threshold = choose_threshold(np.zeros(2000), fitted_on, Normalisation.fit(fitted_on))
    share = float(threshold.flags(fresh).mean())
    assert abs(share - (100 - NORMAL_PERCENTILE) / 100) <= 0.01, share


@pytest.mark.parametrize("count", [2, 3, 10, 1000])
def test_the_percentile_threshold_is_never_the_minimum(count):
    scores = np.random.default_rng(count).normal(size=count)
    threshold = choose_threshold(np.zeros(count), scores, Normalisation.fit(scores))
    assert threshold.raw > scores.min()
    assert not threshold.flags(scores).all()
    assert threshold.flags(scores).any()  # and not above every score either


def test_a_given_threshold_converts_through_the_normalisation_and_wins():
    normalisation = Normalisation(2.0, 6.0)
    labels, scores = np.array([0, 1, 0, 1]), np.array([2.0, 3.0, 5.0, 6.0])
    for labels_ in (labels, np.zeros(4)):
        threshold = choose_threshold(labels_, scores, normalisation, given=0.25)
        assert threshold == Threshold(3.0, 0.25, "given (--threshold)")
    assert choose_threshold(labels, scores, normalisation, given=1.5).raw == 8.0
    assert choose_threshold(labels, scores, normalisation, given=0.0).raw == 2.0


def test_chosen_by_texts():
    scores = np.array([0.1, 0.2, 0.3, 0.4, 0.5, 0.6])
    normalisation = Normalisation.fit(scores)
    f1 = choose_threshold(SIX_LABELS, SIX_SCORES, normalisation)
    assert f1.chosen_by == ORACLE_RULE
    # The F1-optimal score is 0.3; the threshold lies halfway to the next lower score, 0.2.
    assert (f1.raw, f1.normalised) == (pytest.approx(0.25), pytest.approx(0.3))
    assert choose_threshold(np.zeros(6), scores, normalisation).chosen_by == \
        "95th percentile of the held-out normal test images' scores"
    assert choose_threshold(np.zeros(6), scores, normalisation, percentile=99.5).chosen_by == \
        "99.5th percentile of the held-out normal test images' scores"
    assert choose_threshold(SIX_LABELS, scores, normalisation, given=0.5).chosen_by == "given (--threshold)"


# --- decision_metrics ---

def test_decision_metrics_of_a_hand_made_10_image_example():
    # 4 anomalies (indices 0-3); flagged: 0, 1 (true positives) and 4, 5, 6 (false positives).
    labels = np.array([1, 1, 1, 1, 0, 0, 0, 0, 0, 0])
    flags = np.array([1, 1, 0, 0, 1, 1, 1, 0, 0, 0], bool)
    metrics = decision_metrics(labels, flags)
    # P = 2/5, R = 2/4, F1 = 2 (0.4)(0.5) / 0.9 = 4/9; flagged 5/10; FPR 3/6; flag-all F1 2 (0.4) / 1.4 = 4/7.
    assert metrics["precision"] == pytest.approx(0.4)
    assert metrics["recall"] == pytest.approx(0.5)
    assert metrics["f1"] == pytest.approx(4 / 9)
    assert metrics["flagged_fraction"] == pytest.approx(0.5)
    assert metrics["false_positive_rate"] == pytest.approx(0.5)
    assert metrics["f1_flag_all"] == pytest.approx(4 / 7)
    assert metrics["f1"] == pytest.approx(hand_f1(labels, flags))
    assert set(metrics) == {"precision", "recall", "f1", "f1_flag_all", "flagged_fraction", "false_positive_rate"}


def test_decision_metrics_none_where_undefined():
    labels = np.array([1, 0, 0, 1, 0])
    nothing_flagged = decision_metrics(labels, np.zeros(5, bool))
    assert nothing_flagged["precision"] is None
    assert nothing_flagged["recall"] == 0.0
    assert nothing_flagged["flagged_fraction"] == 0.0 and nothing_flagged["false_positive_rate"] == 0.0

    no_anomalies = decision_metrics(np.zeros(5), np.array([1, 0, 1, 0, 0], bool))
    assert no_anomalies["recall"] is None and no_anomalies["f1"] is None
    assert no_anomalies["precision"] == 0.0
    assert no_anomalies["false_positive_rate"] == pytest.approx(0.4)
    assert no_anomalies["f1_flag_all"] is None  # flagging all of no anomaly has no F1 either

    all_anomalies = decision_metrics(np.ones(4), np.array([1, 1, 0, 0], bool))
    assert all_anomalies["false_positive_rate"] is None
    assert all_anomalies["precision"] == 1.0 and all_anomalies["recall"] == 0.5


def test_f1_is_zero_when_every_flag_is_wrong():
    metrics = decision_metrics(np.array([1, 0, 0]), np.array([0, 1, 1], bool))
    assert (metrics["precision"], metrics["recall"], metrics["f1"]) == (0.0, 0.0, 0.0)


@pytest.mark.parametrize("anomalies, count", [(1, 10), (9, 10), (5, 10), (3, 7), (7, 7)])
def test_f1_flag_all_is_2p_over_1_plus_p_and_the_f1_of_flagging_everything(anomalies, count):
    labels = np.zeros(count, int)
    labels[:anomalies] = 1
    share = anomalies / count
    metrics = decision_metrics(labels, np.ones(count, bool))
    assert metrics["f1_flag_all"] == pytest.approx(2 * share / (1 + share))
    assert metrics["f1_flag_all"] == pytest.approx(metrics["f1"])
    assert metrics["flagged_fraction"] == 1.0
    # The flag-all floor does not depend on the flags.
    assert decision_metrics(labels, np.zeros(count, bool))["f1_flag_all"] == metrics["f1_flag_all"]
    if (anomalies, count) == (9, 10):
        assert metrics["f1_flag_all"] == pytest.approx(18 / 19)  # one-vs-all: 0.947


# --- decide, overlay_selection, overlay_captions ---

def test_decide_normalises_thresholds_and_measures():
    decision = decide(np.arange(1.0, 7.0), SIX_LABELS, None, NORMAL_PERCENTILE)
    assert decision.normalisation == Normalisation(1.0, 6.0)
    np.testing.assert_allclose(decision.normalised_scores, [0.0, 0.2, 0.4, 0.6, 0.8, 1.0])
    assert decision.threshold.raw == 2.5 and decision.threshold.normalised == pytest.approx(0.3)
    np.testing.assert_array_equal(decision.flags, [False, False, True, True, True, True])
    assert decision.metrics["threshold"] == dataclasses.asdict(decision.threshold)
    assert decision.metrics["f1"] == pytest.approx(6 / 7)
    assert decision.metrics["precision"] == pytest.approx(3 / 4) and decision.metrics["recall"] == 1.0

    given = decide(np.arange(1.0, 7.0), SIX_LABELS, 0.7, NORMAL_PERCENTILE)
    assert given.threshold.raw == pytest.approx(4.5) and given.threshold.normalised == 0.7
    np.testing.assert_array_equal(given.flags, [False, False, False, False, True, True])


def test_overlay_selection_picks_the_highest_and_the_lowest():
    scores = np.array([0.3, 0.9, 0.1, 0.7, 0.5, 0.2, 0.8])
    selection = overlay_selection(scores, 3)
    np.testing.assert_array_equal(selection["most_anomalous"], [1, 6, 3])
    np.testing.assert_array_equal(selection["least_anomalous"], [2, 5, 0])
    assert overlay_selection(scores)["most_anomalous"].tolist() == [1, 6, 3, 4]  # OVERLAY_IMAGES = 4


def test_overlay_selection_with_fewer_images_than_asked():
    selection = overlay_selection(np.array([0.2, 0.5]), 4)
    np.testing.assert_array_equal(selection["most_anomalous"], [1, 0])
    np.testing.assert_array_equal(selection["least_anomalous"], [0, 1])
    empty = overlay_selection(np.array([]), 4)
    assert len(empty["most_anomalous"]) == len(empty["least_anomalous"]) == 0


def test_overlay_selection_is_stable_for_ties_among_the_most_anomalous():
    selection = overlay_selection(np.array([0.9, 0.1, 0.9, 0.5, 0.9]), 2)
    np.testing.assert_array_equal(selection["most_anomalous"], [0, 2])  # the first of the tied, in order


def test_overlay_selection_is_stable_for_ties_among_the_least_anomalous():
    # Three images tie at the lowest score; a stable pick of the two lowest takes the first two of them
    # (indices 0, 1), in index order, as most_anomalous does for its ties.
    selection = overlay_selection(np.array([0.1, 0.1, 0.1, 0.9]), 2)
    np.testing.assert_array_equal(selection["least_anomalous"], [0, 1])


def test_overlay_captions_name_the_image_its_scores_the_decision_and_the_truth():
    raw, normalised = np.array([1.23456, 0.5]), np.array([1.0, 0.0])
    flags, labels = np.array([True, False]), np.array([0, 1])
    assert overlay_captions([0, 1], raw, normalised, flags, labels, None) == [
        "test image 0: score 1.235 (normalised 1.000), flagged; truly normal",
        "test image 1: score 0.5 (normalised 0.000), not flagged; truly anomalous"]
    paths = np.array(["data/good/a.png", "b.png"])
    assert overlay_captions([1, 0], raw, normalised, flags, labels, paths) == [
        "b.png: score 0.5 (normalised 0.000), not flagged; truly anomalous",
        "a.png: score 1.235 (normalised 1.000), flagged; truly normal"]


# --- detector.json ---

def score_state(minimum=0.5, maximum=2.5, raw=1.5, fitted=None):
    normalisation = Normalisation(minimum, maximum)
    return ScoreState(normalisation, Threshold(raw, float(normalisation(raw)), ORACLE_RULE),
                      fitted if fitted is not None else {"alphas": [[0.25, 1.5, 3.0], [2.0, 0.125]]},
                      {"batch_size": 64, "scores": ["rec", "dir"], "threshold": None}, 0.05)


def detector_state():
    return DetectorState("digit 3", (28, 28, 1), (32, 32, 1), 1200,
                         {"rec": score_state(fitted={}), "dir": score_state(0.1, 0.9, 0.7)})


def test_score_and_detector_states_round_trip_through_dicts_and_json():
    state = detector_state()
    assert ScoreState.from_dict(json.loads(json.dumps(state.scores["dir"].to_dict()))) == state.scores["dir"]
    assert DetectorState.from_dict(json.loads(json.dumps(state.to_dict()))) == state


def test_save_and_load_detector_state(tmp_path):
    assert load_detector_state(tmp_path) is None
    state = detector_state()
    path = save_detector_state(tmp_path, state)
    assert path == tmp_path / DETECTOR_FILE
    loaded = load_detector_state(tmp_path)
    assert loaded == state
    assert isinstance(loaded.source_shape, tuple) and isinstance(loaded.image_shape, tuple)
    assert isinstance(loaded.scores["dir"].threshold, Threshold)
    assert json.loads(path.read_text())["scores"]["dir"]["threshold"]["raw"] == 0.7


def test_with_scores_replaces_a_same_named_score_and_keeps_the_others():
    state = detector_state()
    new_rec = score_state(10.0, 20.0, 15.0, {"new": True})
    updated = state.with_scores({"rec": new_rec, "cls": score_state()})
    assert updated.scores == {"rec": new_rec, "dir": state.scores["dir"], "cls": score_state()}
    assert (updated.class_name, updated.source_shape, updated.image_shape, updated.trained_iterations) == \
        (state.class_name, state.source_shape, state.image_shape, state.trained_iterations)
    assert state.scores["rec"] == score_state(fitted={})  # the original is unchanged
    assert DetectorState.from_dict(json.loads(json.dumps(updated.to_dict()))) == updated


def test_scores_tied_at_the_bottom_do_not_flag_every_normal_image():
    scores = np.r_[np.zeros(96), np.linspace(1, 2, 4)]
    threshold = choose_threshold(np.zeros(100), scores, Normalisation.fit(scores))
    assert threshold.flags(scores).sum() == 4
    equal = np.ones(10)
    assert not choose_threshold(np.zeros(10), equal, Normalisation.fit(equal)).flags(equal).any()
