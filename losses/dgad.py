"""DGAD's losses (paper section 3.3, eqs 6-14) as pure functions of tensors.

The paper writes L_rec = E ||x_r - x^_r||_1 (eq 6) and s_rec = ||x - x^||_1 + lambda_s ||z - z^||_1
(eq 15) without saying whether ||.||_1 is a sum or a mean over an image's elements. L1_READINGS
offers both: "mean" (the default) keeps the weights lambda_rec = 20, lambda_cls = 10,
lambda_cmp = 100 and lambda_s = 10 independent of the image size; "sum" multiplies L_rec by the
image's element count (3072 on CIFAR-10) and, in s_rec, each term by its own count. A transformation label is a one-hot vector (Protocols 1, 2) or a multi-hot vector of
independent one-hot groups (Protocol 3: permutation, then one rotation per moved tile);
-log D_cls(c | x, z) is the sum of the groups' softmax cross-entropies, i.e. the negative log of
the product of the group probabilities.
"""

from collections.abc import Sequence

import tensorflow as tf

LAMBDA_CLS = 10.0
LAMBDA_REC = 20.0
LAMBDA_CMP = 100.0
# sqrt has an infinite slope at 0, reached when every latent in a batch has the same channel means.
COMPACTNESS_EPSILON = 1e-8
# How ||.||_1 in eqs 6 and 15 is read: the mean or the sum of an image's (or latent's) absolute values.
L1_READINGS = ("mean", "sum")


def l1_norms(differences, reading: str = "mean"):
    """Eqs 6 and 15: ||d||_1 of each item of a batch (B, ...), as the mean or (reading "sum") the sum of |d|."""
    if reading not in L1_READINGS:
        raise ValueError(f"unknown L1 reading {reading!r}; expected one of {L1_READINGS}")
    axes = list(range(1, differences.shape.rank))
    if reading == "mean":
        return tf.reduce_mean(tf.abs(differences), axis=axes)
    return tf.reduce_sum(tf.abs(differences), axis=axes)


def _batch_l1(differences, reading: str):
    """The batch mean of l1_norms; under "mean" one reduction over every element, as before "sum" existed."""
    if reading == "mean":
        return tf.reduce_mean(tf.abs(differences))
    return tf.reduce_mean(l1_norms(differences, reading))


def reconstruction_loss(images, reconstructions, reading: str = "mean"):
    """Eq 6: L_rec = || x_r - De(En(x_r)) ||_1."""
    return _batch_l1(images - reconstructions, reading)


def restoration_loss(images, restored_images, reading: str = "mean"):
    """Table 4's "GAN" variant: eq 6 applied to the restoration, || x_r - De(En(x_t)) ||_1."""
    return _batch_l1(images - restored_images, reading)


def classification_cross_entropy(labels, logits, label_groups: Sequence[int]):
    """-log D_cls(c | x, z), averaged over the batch; used by eqs 7 and 8."""
    label_parts = tf.split(labels, list(label_groups), axis=-1)
    logit_parts = tf.split(logits, list(label_groups), axis=-1)
    per_image = tf.add_n(
        [tf.nn.softmax_cross_entropy_with_logits(part_labels, part_logits)
         for part_labels, part_logits in zip(label_parts, logit_parts)]
    )
    return tf.reduce_mean(per_image)


def discriminator_classification_loss(transformation_labels, transformed_logits, label_groups):
    """Eq 7: L^D_cls = -log D_cls(c_t | x_t, z_t)."""
    return classification_cross_entropy(transformation_labels, transformed_logits, label_groups)


def generator_classification_loss(transformation_labels, transformed_logits, identity_labels, restored_logits,
                                  label_groups):
    """Eq 8: L^G_cls = -log D_cls(c_t | x_t, z_t) - log D_cls(c_r | x^_t, z^_t)."""
    return (classification_cross_entropy(transformation_labels, transformed_logits, label_groups)
            + classification_cross_entropy(identity_labels, restored_logits, label_groups))


def channel_means(latents):
    """Eq 9: apc(z), each channel's mean over its spatial positions, (B, H, W, C) -> (B, C)."""
    return tf.reduce_mean(latents, axis=[1, 2])


def compactness_loss(channel_means):
    """Eq 10: L_cmp = sqrt(var_b(apc(z_r))), from the batch's channel means apc(z_r) (B, C)."""
    batch_variance = tf.reduce_mean(tf.square(channel_means - tf.reduce_mean(channel_means, axis=0)))
    return tf.sqrt(batch_variance + COMPACTNESS_EPSILON)


def discriminator_adversarial_loss(real_logits, fake_logits):
    """Eq 11: hinge loss, real = (x_r, z_r), fake = (x^_t, z^_t)."""
    return tf.reduce_mean(tf.nn.relu(1.0 - real_logits)) + tf.reduce_mean(tf.nn.relu(1.0 + fake_logits))


def generator_adversarial_loss(fake_logits):
    """Eq 12: L^G_adv = -D_adv(x^_t, z^_t)."""
    return -tf.reduce_mean(fake_logits)


def discriminator_loss(adversarial, classification, lambda_cls=LAMBDA_CLS):
    """Eq 13: L_D = L^D_adv + lambda_cls L^D_cls."""
    return adversarial + lambda_cls * classification


def pixel_guided_generator_loss(adversarial, reconstruction, restoration, compactness, lambda_rec=LAMBDA_REC,
                                lambda_cmp=LAMBDA_CMP):
    """Eq 14 for Table 4's "GAN" variant: lambda_cls L^G_cls replaced by lambda_rec L_restore."""
    return adversarial + lambda_rec * (reconstruction + restoration) + lambda_cmp * compactness


def generator_loss(adversarial, classification, reconstruction, compactness, lambda_cls=LAMBDA_CLS,
                   lambda_rec=LAMBDA_REC, lambda_cmp=LAMBDA_CMP):
    """Eq 14: L_En,De = L^G_adv + lambda_cls L^G_cls + lambda_rec L_rec + lambda_cmp L_cmp."""
    return adversarial + lambda_cls * classification + lambda_rec * reconstruction + lambda_cmp * compactness
