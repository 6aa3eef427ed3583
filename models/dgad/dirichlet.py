"""The Dirichlet normality score s_dir (DGAD eq 17), as defined by GEOM (Golan & El-Yaniv 2018).

For each transformation T_t, the classifier's softmax outputs on the transformed normal training
images are modelled as draws from a Dirichlet distribution with parameters alpha_t, fitted by
maximum likelihood (Minka, "Estimating a Dirichlet distribution", 2000). A test image x scores

    s_dir(x) = mean over t of sum_k (alpha_t,k - 1) log P_t,k(T_t(x)),

the Dirichlet log-density up to a per-transformation constant, so higher means more normal.
DGAD eq 17 writes a sum over transformations; the mean used here (as in GEOM) only rescales it.

Protocol 3's classifier gives one softmax per label group (permutation, then each tile's rotation);
there is one Dirichlet per transformation and group, and the groups' scores add up.

Everything runs in float64, with probabilities clipped to [PROBABILITY_FLOOR, 1]: softmax outputs
of exactly 0 would otherwise give log 0 = -inf and NaN parameters.
"""

import numpy as np
import tensorflow as tf
from scipy.special import digamma, polygamma

PROBABILITY_FLOOR = 1e-10

# Rows of float32 softmax outputs sum to 1 only up to rounding; a row further off than this is
# not a probability vector (logits, or the wrong axis).
ROW_SUM_TOLERANCE = 1e-3

# Where Minka's initial guess for the inverse digamma switches from one asymptote to the other.
INVERSE_DIGAMMA_SWITCH = -2.22


def inverse_digamma(y: np.ndarray, newton_steps: int = 5) -> np.ndarray:
    """The x > 0 with digamma(x) = y, elementwise, by Newton's method from Minka's initial guess.

    The guess exp(y) + 1/2 follows digamma's behaviour for large x and -1/(y - digamma(1)) its
    pole at 0 for small x; from either, five Newton steps reach machine precision.
    """
    y = np.asarray(y, np.float64)
    # np.where evaluates both branches everywhere: the minimum keeps the small-x guess away from
    # its own pole at y = digamma(1) where that guess is not used anyway.
    small_x_guess = -1.0 / (np.minimum(y, INVERSE_DIGAMMA_SWITCH) - digamma(1.0))
    x = np.where(y >= INVERSE_DIGAMMA_SWITCH, np.exp(y) + 0.5, small_x_guess)
    for _ in range(newton_steps):
        x = x - (digamma(x) - y) / polygamma(1, x)
    return x


def _validated_probabilities(probabilities: np.ndarray) -> np.ndarray:
    """(N, K) probability rows as float64 clipped to [PROBABILITY_FLOOR, 1]; ValueError otherwise."""
    probabilities = np.asarray(probabilities, np.float64)
    if probabilities.ndim != 2:
        raise ValueError(f"probabilities must have shape (images, classes), got shape {probabilities.shape}")
    images, classes = probabilities.shape
    if images < 2:
        raise ValueError(f"fitting a Dirichlet needs at least 2 images, got {images}")
    if classes < 2:
        raise ValueError(f"a Dirichlet needs at least 2 classes, got {classes}")
    if not np.all(np.isfinite(probabilities)) or probabilities.min() < 0 or probabilities.max() > 1:
        raise ValueError("probabilities must be finite and in [0, 1]; pass softmax outputs, not logits")
    row_sums = probabilities.sum(axis=1)
    worst = int(np.argmax(np.abs(row_sums - 1.0)))
    if abs(row_sums[worst] - 1.0) > ROW_SUM_TOLERANCE:
        raise ValueError(f"probability rows must sum to 1, but row {worst} sums to {row_sums[worst]:.6g}; "
                         "pass softmax outputs with classes on the last axis")
    return np.clip(probabilities, PROBABILITY_FLOOR, 1.0)


def _moment_precision(probabilities: np.ndarray) -> float:
    """Minka's moment estimate of the precision s = sum_k alpha_k, used only to start the fit."""
    mean = probabilities.mean(axis=0)
    variance = probabilities.var(axis=0)
    # Each class k gives an estimate f_k (1 - f_k) / var_k - 1 (from Var[p_k] = f_k (1 - f_k) / (s + 1));
    # we average the finite, positive ones. A class with zero variance (identical rows) gives
    # infinity and one-hot rows give 0; if no class gives a usable estimate, start from s = 1:
    # the fixed-point iteration converges from any positive start.
    with np.errstate(divide="ignore", invalid="ignore"):
        estimates = mean * (1.0 - mean) / variance - 1.0
    usable = estimates[np.isfinite(estimates) & (estimates > 0)]
    return float(usable.mean()) if usable.size else 1.0


def fit_dirichlet(probabilities: np.ndarray, tolerance: float = 1e-9, max_iterations: int = 1000) -> np.ndarray:
    """Maximum-likelihood Dirichlet parameters alpha (K,) of probability rows (N, K).

    Starts from Minka's moment estimate alpha = f * s (f the mean row, s the precision) and
    iterates Minka's fixed point alpha <- psi^-1(psi(sum alpha) + mean_n log p_n) until no
    parameter moves by more than tolerance, or max_iterations is reached.
    """
    probabilities = _validated_probabilities(probabilities)
    mean_log_probabilities = np.log(probabilities).mean(axis=0)
    alpha = probabilities.mean(axis=0) * _moment_precision(probabilities)
    for _ in range(max_iterations):
        updated = inverse_digamma(digamma(alpha.sum()) + mean_log_probabilities)
        converged = np.max(np.abs(updated - alpha)) < tolerance
        alpha = updated
        if converged:
            break
    return alpha


def fit_dirichlet_per_transformation(train_probabilities: np.ndarray) -> np.ndarray:
    """One Dirichlet per transformation: (T, N, K) softmax outputs on training images -> alphas (T, K)."""
    train_probabilities = np.asarray(train_probabilities, np.float64)
    if train_probabilities.ndim != 3:
        raise ValueError("train_probabilities must have shape (transformations, images, classes), "
                         f"got shape {train_probabilities.shape}")
    return np.stack([fit_dirichlet(probabilities) for probabilities in train_probabilities])


def dirichlet_normality_score(test_probabilities: np.ndarray, alphas: np.ndarray) -> np.ndarray:
    """s_dir (eq 17) of each test image: (T, M, K) softmax outputs and alphas (T, K) -> (M,), higher = more normal."""
    test_probabilities = np.asarray(test_probabilities, np.float64)
    alphas = np.asarray(alphas, np.float64)
    if test_probabilities.ndim != 3:
        raise ValueError("test_probabilities must have shape (transformations, images, classes), "
                         f"got shape {test_probabilities.shape}")
    transformations, _, classes = test_probabilities.shape
    if alphas.shape != (transformations, classes):
        raise ValueError(f"alphas must have shape (transformations, classes) = {(transformations, classes)} "
                         f"to match test_probabilities, got shape {alphas.shape}")
    log_probabilities = np.log(np.clip(test_probabilities, PROBABILITY_FLOOR, 1.0))
    per_transformation = np.einsum("tmk,tk->tm", log_probabilities, alphas - 1.0)
    return per_transformation.mean(axis=0)


def _split_groups(probabilities: np.ndarray, label_groups) -> list[np.ndarray]:
    probabilities = np.asarray(probabilities, np.float64)
    if probabilities.shape[-1] != sum(label_groups):
        raise ValueError(f"probabilities have {probabilities.shape[-1]} classes on the last axis, but the label "
                         f"groups {tuple(label_groups)} add up to {sum(label_groups)}")
    return np.split(probabilities, np.cumsum(label_groups)[:-1], axis=-1)


def fit_grouped_dirichlet(train_probabilities: np.ndarray, label_groups) -> list[np.ndarray]:
    """One Dirichlet per transformation and label group: (T, N, sum(groups)) -> [alphas (T, K_g) per group]."""
    return [fit_dirichlet_per_transformation(part) for part in _split_groups(train_probabilities, label_groups)]


def grouped_dirichlet_normality_score(test_probabilities: np.ndarray, alphas: list[np.ndarray],
                                      label_groups) -> np.ndarray:
    """s_dir summed over label groups: (T, M, sum(groups)) and fit_grouped_dirichlet's alphas -> (M,)."""
    parts = _split_groups(test_probabilities, label_groups)
    if len(alphas) != len(parts):
        raise ValueError(f"got alphas for {len(alphas)} label groups, expected {len(parts)}")
    return sum(dirichlet_normality_score(part, group_alphas) for part, group_alphas in zip(parts, alphas))


def grouped_dirichlet_normality_tensor(test_probabilities: tf.Tensor, alphas: list[np.ndarray]) -> tf.Tensor:
    """grouped_dirichlet_normality_score as a TensorFlow graph, for an exported model: (T, N, K) -> (N,).

    The groups' mean-over-t scores add up to one mean over t of the sum over every label, so the
    groups' parameters are concatenated along the labels.
    """
    log_probabilities = tf.math.log(tf.clip_by_value(tf.cast(test_probabilities, tf.float64), PROBABILITY_FLOOR, 1.0))
    weights = tf.constant(np.concatenate(alphas, axis=-1) - 1.0, tf.float64)
    return tf.reduce_mean(tf.einsum("tmk,tk->tm", log_probabilities, weights), axis=0)
