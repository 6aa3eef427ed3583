"""The plain autoencoder baseline's loss: the L1 reconstruction error, as DGAD's L_rec reads it by default."""

import tensorflow as tf


def reconstruction_loss(images, reconstructions):
    """DGAD's eq 6 read as a mean: L_rec = mean over the batch and every element of |x - De(En(x))|."""
    return tf.reduce_mean(tf.abs(images - reconstructions))


def image_errors(images, reconstructions):
    """The anomaly score of each image (B,): the mean of |x - De(En(x))| over its pixels and channels."""
    return tf.reduce_mean(tf.abs(images - reconstructions), axis=[1, 2, 3])
