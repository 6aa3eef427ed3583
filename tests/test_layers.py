"""Padded convolution, CoordConv and instance norm against their definitions."""

import keras
import numpy as np
import pytest
import tensorflow as tf

from models.layers import (PaddedConv2D, ResidualBlock, add_coordinates, instance_normalization, same_padding,
                           upsample_bilinear_2x)


@pytest.mark.parametrize("size, kernel, strides, expected", [
    (32, 7, 1, (3, 3)), (32, 4, 2, (1, 1)), (16, 5, 1, (2, 2)), (8, 3, 1, (1, 1)), (32, 1, 1, (0, 0)),
    (7, 4, 2, (1, 2)),
])
def test_same_padding(size, kernel, strides, expected):
    assert same_padding(size, kernel, strides) == expected


@pytest.mark.parametrize("kernel, strides", [(3, 1), (4, 2), (5, 1), (7, 1)])
def test_zero_padding_matches_keras_same_padding(kernel, strides):
    images = tf.random.stateless_normal((2, 16, 16, 3), seed=[1, 2])
    padded = PaddedConv2D(4, kernel, strides, padding="zero")
    padded(images)
    reference = keras.layers.Conv2D(4, kernel, strides=strides, padding="same")
    reference(images)
    reference.set_weights(padded.convolution.get_weights())
    np.testing.assert_allclose(padded(images), reference(images), atol=1e-5)


def test_symmetric_padding_gives_no_border_cue_on_a_constant_image():
    constant_image = tf.ones((1, 8, 8, 2))
    symmetric = PaddedConv2D(3, 5, padding="symmetric")
    zero = PaddedConv2D(3, 5, padding="zero")
    symmetric_output = symmetric(constant_image)
    zero(constant_image)
    zero.convolution.set_weights(symmetric.convolution.get_weights())
    zero_output = zero(constant_image)
    assert float(tf.math.reduce_std(symmetric_output[..., 0])) < 1e-5
    assert float(tf.math.reduce_std(zero_output[..., 0])) > 1e-3


def test_add_coordinates_appends_row_and_column_in_minus_one_to_one():
    with_coordinates = add_coordinates(tf.zeros((2, 3, 5, 1))).numpy()
    assert with_coordinates.shape == (2, 3, 5, 3)
    np.testing.assert_allclose(with_coordinates[0, :, 0, 1], [-1.0, 0.0, 1.0])
    np.testing.assert_allclose(with_coordinates[1, 0, :, 2], [-1.0, -0.5, 0.0, 0.5, 1.0])


def test_coordconv_gives_a_position_cue_even_with_symmetric_padding():
    layer = PaddedConv2D(3, 3, padding="symmetric", coordconv=True)
    output = layer(tf.ones((1, 8, 8, 2)))
    assert float(tf.math.reduce_std(output[..., 0])) > 1e-3


def test_spectral_norm_wraps_the_convolution():
    layer = PaddedConv2D(3, 3, spectral_norm=True)
    layer(tf.ones((1, 8, 8, 2)), training=True)
    assert isinstance(layer.convolution, keras.layers.SpectralNormalization)
    kernel = layer.convolution.layer.kernel.numpy().reshape(-1, 3)
    assert np.linalg.svd(kernel, compute_uv=False)[0] == pytest.approx(1.0, abs=0.3)


def test_padding_mode_is_validated():
    with pytest.raises(ValueError, match="reflect"):
        PaddedConv2D(3, 3, padding="reflect")


def test_instance_normalization_normalises_each_image_and_channel_alone():
    images = tf.random.stateless_normal((3, 6, 6, 4), seed=[3, 4]) * 5.0 + 2.0
    normalised = instance_normalization()(images).numpy()
    np.testing.assert_allclose(normalised.mean(axis=(1, 2)), 0.0, atol=1e-5)
    np.testing.assert_allclose(normalised.std(axis=(1, 2)), 1.0, atol=1e-3)
    alone = instance_normalization()(images[:1]).numpy()
    np.testing.assert_allclose(alone, normalised[:1], atol=1e-5)


def test_residual_block_keeps_shape_and_config_round_trips():
    block = ResidualBlock(4, padding="zero", coordconv=True)
    assert block(tf.ones((2, 8, 8, 4))).shape == (2, 8, 8, 4)
    rebuilt = ResidualBlock.from_config(block.get_config())
    assert (rebuilt.filters, rebuilt.padding, rebuilt.coordconv) == (4, "zero", True)


def test_padded_conv_config_round_trips():
    layer = PaddedConv2D(5, 4, 2, padding="zero", coordconv=True, spectral_norm=True)
    rebuilt = PaddedConv2D.from_config(layer.get_config())
    assert rebuilt.get_config() == layer.get_config()


@pytest.mark.parametrize("jit_compile", [False, True])
def test_bilinear_upsampling_equals_tensorflows_resize(jit_compile):
    features = tf.random.stateless_uniform((2, 5, 8, 3), seed=[4, 2])
    upsample = tf.function(upsample_bilinear_2x, jit_compile=jit_compile)
    expected = tf.image.resize(features, (10, 16), method="bilinear")
    np.testing.assert_allclose(upsample(features), expected, atol=1e-6)
