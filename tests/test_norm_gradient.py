"""bench/bench_norm_gradient.py's hand-written instance-norm gradient against autodiff's through the layer."""

import numpy as np
import pytest
import tensorflow as tf

from bench.bench_norm_gradient import normalise_with_written_gradient, written_gradient
from models.layers import InstanceNormalization


def outputs_and_gradients(normalise, layer, features, upstream):
    with tf.GradientTape() as tape:
        tape.watch(features)
        outputs = normalise(layer, features)
        objective = tf.reduce_sum(outputs * upstream)
    return [outputs, *tape.gradient(objective, [features, layer.gamma.value, layer.beta.value])]


@pytest.fixture
def layer_and_batch():
    features = tf.random.stateless_normal((3, 6, 5, 4), seed=[1, 2]) * 3.0 + 1.0
    # The last image's maps are constant: the layer outputs beta there, and its gradient is zero.
    features = tf.concat([features[:2], tf.fill((1, 6, 5, 4), 0.7)], axis=0)
    layer = InstanceNormalization()
    layer.build(features.shape)
    layer.gamma.assign([0.5, -1.5, 2.0, 1.0])
    layer.beta.assign([0.1, 0.2, -0.3, 0.0])
    return layer, features, tf.random.stateless_normal(features.shape, seed=[3, 4])


def test_the_written_gradient_equals_autodiffs(layer_and_batch):
    layer, features, upstream = layer_and_batch
    autodiff = outputs_and_gradients(InstanceNormalization.call, layer, features, upstream)
    written = outputs_and_gradients(normalise_with_written_gradient, layer, features, upstream)
    for name, expected, actual in zip(("outputs", "input", "gamma", "beta"), autodiff, written):
        np.testing.assert_allclose(actual, expected, rtol=1e-5, atol=2e-5, err_msg=name)
    np.testing.assert_array_equal(written[1][2], np.zeros((6, 5, 4)))


def test_the_layer_gets_autodiffs_gradient_back_after_the_context_even_on_an_error():
    with pytest.raises(RuntimeError), written_gradient():
        assert InstanceNormalization.call is normalise_with_written_gradient
        raise RuntimeError
    assert InstanceNormalization.call is not normalise_with_written_gradient
