"""Padded convolution, CoordConv and instance norm against their definitions."""

import keras
import numpy as np
import pytest
import tensorflow as tf

from models.layers import (CONSTANT_MAP_VARIANCE, InstanceNormalization, PaddedConv2D, ResidualBlock, add_coordinates,
                           same_padding, upsample_bilinear_2x)


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
    # One power iteration from a random vector: how close it gets depends on the draw (1.6 for some), so
    # the draw must not depend on what ran before.
    keras.utils.set_random_seed(0)
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
    normalised = InstanceNormalization()(images).numpy()
    np.testing.assert_allclose(normalised.mean(axis=(1, 2)), 0.0, atol=1e-5)
    np.testing.assert_allclose(normalised.std(axis=(1, 2)), 1.0, atol=1e-3)
    alone = InstanceNormalization()(images[:1]).numpy()
    np.testing.assert_allclose(alone, normalised[:1], atol=1e-5)


def normalisation_and_gradients(layer, features, jit_compile):
    """The layer's output and the gradients of a non-linear function of it w.r.t. its input, gamma and beta."""
    weights = tf.random.stateless_normal(features.shape, seed=[9, 9])

    @tf.function(jit_compile=jit_compile)
    def run():
        with tf.GradientTape() as tape:
            tape.watch(features)
            outputs = layer(features)
            loss = tf.reduce_sum(tf.sin(outputs) * weights)
        return [outputs, *tape.gradient(loss, [features, layer.gamma, layer.beta])]
    return [tensor.numpy() for tensor in run()]


def normalisation_pair(channels):
    ours, keras_layer = InstanceNormalization(), keras.layers.GroupNormalization(groups=-1, epsilon=1e-5)
    for layer in (ours, keras_layer):
        layer.build((None, None, None, channels))
        layer.gamma.assign(tf.linspace(0.5, 1.5, channels))
        layer.beta.assign(tf.linspace(-0.2, 0.3, channels))
    return ours, keras_layer


@pytest.mark.parametrize("jit_compile", [False, True])
def test_instance_normalization_is_keras_group_normalization_bit_for_bit_on_ordinary_maps(jit_compile):
    features = tf.random.stateless_normal((4, 32, 32, 8), seed=[5, 6]) * 0.2 + 0.3
    ours, keras_layer = normalisation_pair(8)
    for expected, actual in zip(normalisation_and_gradients(keras_layer, features, jit_compile),
                                normalisation_and_gradients(ours, features, jit_compile), strict=True):
        np.testing.assert_array_equal(actual, expected)


def test_a_constant_map_normalises_to_beta_with_zero_gradient_to_its_input():
    # Image 0 is constant but for float rounding-sized noise; image 1 is ordinary.
    noise = tf.random.stateless_normal((1, 16, 16, 3), seed=[1, 1]) * 1e-6
    features = tf.concat([0.7 + noise, tf.random.stateless_normal((1, 16, 16, 3), seed=[2, 2])], 0)
    assert float(tf.reduce_max(tf.math.reduce_variance(features[0], axis=[0, 1]))) < CONSTANT_MAP_VARIANCE
    ours, keras_layer = normalisation_pair(3)
    outputs, input_gradient, gamma_gradient, _ = normalisation_and_gradients(ours, features, False)
    np.testing.assert_array_equal(outputs[0], np.broadcast_to(ours.beta.numpy(), (16, 16, 3)))
    np.testing.assert_array_equal(input_gradient[0], 0.0)
    # Keras' layer amplifies the same noise ~316x into its output and its input gradient.
    keras_outputs, keras_input_gradient, _, _ = normalisation_and_gradients(keras_layer, features, False)
    assert np.abs(keras_outputs[0] - ours.beta.numpy()).max() > 1e-4
    assert np.abs(keras_input_gradient[0]).max() > 100
    # The ordinary image is untouched, and gamma learns nothing from the constant one.
    np.testing.assert_array_equal(outputs[1], keras_outputs[1])
    assert np.isfinite(gamma_gradient).all()
    _, _, constant_image_gamma_gradient, _ = normalisation_and_gradients(ours, features[:1], False)
    np.testing.assert_array_equal(constant_image_gamma_gradient, 0.0)


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
