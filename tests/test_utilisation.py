"""The benchmarks' FLOP count, read from XLA's compiled program, against hand-computed counts."""

import tensorflow as tf

from bench.utilisation import hlo_flops


def compiled_hlo(function, *arguments) -> str:
    return tf.function(function, jit_compile=True).experimental_get_compiler_ir(*arguments)(stage="optimized_hlo")


def test_a_convolution_counts_two_flops_per_tap_input_feature_and_output_element():
    images, kernel = tf.ones((2, 8, 8, 3)), tf.ones((3, 3, 3, 4))
    flops = hlo_flops(compiled_hlo(lambda x, k: tf.nn.conv2d(x, k, 1, "VALID"), images, kernel))
    # 2 x 6 x 6 x 4 outputs, each 3 x 3 taps of 3 input features.
    assert flops == {"convolution": 2 * (2 * 6 * 6 * 4) * (3 * 3 * 3), "dot": 0}


def test_a_strided_convolution_counts_its_outputs_only():
    images, kernel = tf.ones((1, 8, 8, 2)), tf.ones((4, 4, 2, 5))
    flops = hlo_flops(compiled_hlo(lambda x, k: tf.nn.conv2d(x, k, 2, "VALID"), images, kernel))
    assert flops["convolution"] == 2 * (1 * 3 * 3 * 5) * (4 * 4 * 2)


def test_a_matrix_product_counts_two_flops_per_multiply_add():
    flops = hlo_flops(compiled_hlo(lambda a, b: tf.matmul(a, b) * 2.0, tf.ones((5, 7)), tf.ones((7, 3))))
    assert flops == {"convolution": 0, "dot": 2 * 5 * 3 * 7}


def test_the_input_gradient_of_a_strided_convolution_counts_no_inserted_zeros():
    images, kernel = tf.ones((1, 8, 8, 2)), tf.ones((2, 2, 2, 5))

    def input_gradient(x, k):
        with tf.GradientTape() as tape:
            tape.watch(x)
            outputs = tf.nn.conv2d(x, k, 2, "VALID")
        return tape.gradient(outputs, x)

    # Each of the 4 x 4 x 5 output gradients reaches 2 x 2 input pixels of 2 features: 2 x 2 x 2 multiply-adds.
    flops = hlo_flops(compiled_hlo(input_gradient, images, kernel))
    assert flops["convolution"] == 2 * (4 * 4 * 5) * (2 * 2 * 2)
