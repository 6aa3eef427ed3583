"""AD-CGAN's losses (paper section 2.1, eqs 1-3, and appendix A.1, eq 6) as pure functions of tensors.

AD-CGAN trains three games at once: an autoencoder (MSE), a contrastive GAN whose critic and
generator each add an InfoNCE loss between the critic's local and global features to a
relativistic adversarial loss (eq 2), and a latent discriminator D_z that tells (z, z) pairs
from (z, E(x)) pairs (eq 3). Every loss is a mean over the batch (and over pixels for the MSE),
so its size does not depend on the batch or image size. Adversarial losses take logits and use
binary cross-entropy with the sigmoid inside: BCE(a, 1) = -log sigmoid(a) = softplus(-a) and
BCE(a, 0) = softplus(a), which stay finite for any logit.
"""

import tensorflow as tf

ALPHA = 0.3
BETA = 0.3


def info_nce_loss(local_features, global_features):
    """Eq 1: L_cgan = -E_x E_i log p(C_i(x), E(x)), a softmax of raw dot products over the batch's locals."""
    # local_features (B, M*M, K) or (B, M, M, K) and global_features (B, K), both projected to K
    # dimensions. For image n the pairs (local i of n, global of n) are the positives. The softmax
    # runs over every local of every image, so the other positions of the same image (the paper's
    # negatives, j != i) and all positions of the other images compete; no temperature (InfoMax-GAN).
    batch_size = tf.shape(global_features)[0]
    local_features = tf.reshape(local_features, [batch_size, -1, tf.shape(global_features)[-1]])
    # scores[n, m, p]: local p of image m against the global feature of image n.
    scores = tf.einsum("mpk,nk->nmp", local_features, global_features)
    positive_scores = tf.einsum("npk,nk->np", local_features, global_features)
    log_partition = tf.reduce_logsumexp(scores, axis=[1, 2])
    return -tf.reduce_mean(positive_scores - log_partition[:, tf.newaxis])


def discriminator_adversarial_loss(real_logits, fake_logits):
    """Eq 6: L^D_adv = -E log sigmoid(C(x_r) - C(x_f)) = BCE-with-logits(C(x_r) - C(x_f), 1)."""
    return tf.reduce_mean(tf.nn.softplus(fake_logits - real_logits))


def generator_adversarial_loss(real_logits, fake_logits):
    """Eq 6: L^G_adv = -E log sigmoid(C(x_f) - C(x_r)) = BCE-with-logits(C(x_f) - C(x_r), 1)."""
    return tf.reduce_mean(tf.nn.softplus(real_logits - fake_logits))


def autoencoder_loss(images, reconstructions):
    """Section 2.1: L_AE = ||x - G(E(x))||^2, the mean squared error over pixels."""
    return tf.reduce_mean(tf.square(images - reconstructions))


def latent_discriminator_loss(real_pair_logits, fake_pair_logits):
    """Eq 3 for D_z, to minimise: -log D_z(z, z) - log(1 - D_z(z, E(x))) = BCE(real, 1) + BCE(fake, 0)."""
    # Eq 3 prints the second term as "1 - log D_z"; the standard GAN term log(1 - D_z) is meant.
    return tf.reduce_mean(tf.nn.softplus(-real_pair_logits)) + tf.reduce_mean(tf.nn.softplus(fake_pair_logits))


def latent_encoder_loss(fake_pair_logits):
    """Eq 3's adversary, the encoder: the non-saturating -log D_z(z, E(x)) = BCE(fake, 1)."""
    # The paper only says D_z is "adversarially learned" and gives no encoder loss. The authors'
    # code steps the encoder on D_z's own loss, which helps D_z instead of fooling it. The
    # non-saturating form is the usual adversarial choice and keeps gradients alive while D_z wins.
    return tf.reduce_mean(tf.nn.softplus(-fake_pair_logits))


def generator_loss(adversarial, contrastive_fake, alpha=ALPHA):
    """Eq 2: L_G = L^G_adv + alpha L_cgan(X_f), the contrastive loss on generated images only."""
    return adversarial + alpha * contrastive_fake


def critic_loss(adversarial, contrastive_real, beta=BETA):
    """Eq 2: L_Dcgan = L^D_adv + beta L_cgan(X_r), the contrastive loss on real images only."""
    return adversarial + beta * contrastive_real
