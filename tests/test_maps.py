"""Anomaly maps, pixel AUROC, and the geometry and scaling between images as loaded and as the model takes them.

Fast: no model is built or trained. Expected values are computed by hand in the comments.
"""

import numpy as np
import pytest
import tensorflow as tf

from data.pipeline import scale_pixels, scaled_pixel_values, to_model_images, to_source_geometry
from utils.scoring.maps import anomaly_maps, pixel_auroc


# --- anomaly_maps ---

def test_anomaly_maps_of_a_hand_made_2x2x3_example():
    images = np.array([[[[0.0, 0.5, 1.0], [1.0, 1.0, 1.0]],
                        [[-1.0, 0.0, 1.0], [0.2, 0.4, 0.6]]]], np.float32)
    reconstructions = np.array([[[[0.0, 0.5, 1.0], [0.0, 0.0, 0.0]],
                                 [[1.0, 0.0, -1.0], [0.5, 0.1, 0.0]]]], np.float32)
    # |x - x^| per pixel, averaged over the 3 channels:
    #   (0, 0): (0 + 0 + 0) / 3 = 0      (0, 1): (1 + 1 + 1) / 3 = 1
    #   (1, 0): (2 + 0 + 2) / 3 = 4/3    (1, 1): (0.3 + 0.3 + 0.6) / 3 = 0.4
    maps = np.asarray(anomaly_maps(images, reconstructions))
    assert maps.shape == (1, 2, 2)
    np.testing.assert_allclose(maps, [[[0.0, 1.0], [4 / 3, 0.4]]], rtol=1e-6)


def test_anomaly_maps_are_zero_for_a_perfect_reconstruction_and_symmetric():
    images = tf.random.stateless_uniform((3, 5, 4, 2), seed=(1, 2), minval=-1, maxval=1)
    others = tf.random.stateless_uniform((3, 5, 4, 2), seed=(3, 4), minval=-1, maxval=1)
    assert np.array_equal(anomaly_maps(images, images).numpy(), np.zeros((3, 5, 4), np.float32))
    np.testing.assert_array_equal(anomaly_maps(images, others).numpy(), anomaly_maps(others, images).numpy())
    np.testing.assert_allclose(anomaly_maps(images, others).numpy(),
                               np.abs(images.numpy() - others.numpy()).mean(axis=-1), rtol=1e-6)


# --- pixel_auroc ---

def test_pixel_auroc_is_1_when_the_map_is_high_exactly_on_the_mask():
    masks = np.zeros((3, 6, 6), np.uint8)
    masks[0, 1:3, 2:5] = 1
    masks[2, 4:, :2] = 1
    rng = np.random.default_rng(0)
    maps = rng.uniform(0.0, 0.4, masks.shape) + 0.5 * masks
    assert pixel_auroc(maps, masks) == 1.0
    assert pixel_auroc(-maps, masks) == 0.0  # the map high exactly off the mask


def test_pixel_auroc_of_a_constant_map_is_one_half():
    masks = np.zeros((2, 4, 4), np.uint8)
    masks[1, :2, :2] = 1
    assert pixel_auroc(np.full(masks.shape, 0.3), masks) == 0.5


def test_pixel_auroc_of_a_hand_made_example():
    # Defective pixels score 0.35 and 0.8, good ones 0.1 and 0.4: of the 4 (defective, good) pairs the
    # defective pixel is higher in 3 (not 0.35 vs 0.4): AUROC 3/4.
    maps = np.array([[[0.1, 0.4], [0.35, 0.8]]])
    masks = np.array([[[0, 0], [1, 1]]], np.uint8)
    assert pixel_auroc(maps, masks) == pytest.approx(0.75)
    # Pooled over every pixel of every image: a second image adds good pixels 0.5, 0.2, 0.9 and a
    # defective 0.6, so 3 defective x 5 good = 15 pairs; won: 0.35 beats 0.1, 0.2; 0.8 beats 0.1, 0.4, 0.5,
    # 0.2; 0.6 beats 0.1, 0.4, 0.5, 0.2 -> 2 + 4 + 4 = 10 of 15.
    maps2 = np.array([[[0.1, 0.4], [0.35, 0.8]], [[0.5, 0.2], [0.9, 0.6]]])
    masks2 = np.array([[[0, 0], [1, 1]], [[0, 0], [0, 1]]], np.uint8)
    assert pixel_auroc(maps2, masks2) == pytest.approx(10 / 15)


def test_pixel_auroc_is_none_for_empty_or_full_masks():
    maps = np.random.default_rng(1).uniform(size=(2, 3, 3))
    assert pixel_auroc(maps, np.zeros((2, 3, 3), np.uint8)) is None
    assert pixel_auroc(maps, np.ones((2, 3, 3), np.uint8)) is None
    assert pixel_auroc(maps, np.full((2, 3, 3), 255, np.uint8)) is None  # any nonzero value is defective


# --- geometry and scaling ---

def uint8_images(shape, seed=0):
    return np.random.default_rng(seed).integers(0, 256, shape, dtype=np.uint8)


def test_to_source_geometry_crops_the_28_to_32_zero_padding_back_exactly():
    images = uint8_images((5, 28, 28, 1))
    model_images = to_model_images(images, 32)
    assert model_images.shape == (5, 32, 32, 1)
    back = to_source_geometry(model_images, 28, 28)
    assert back.shape == (5, 28, 28, 1) and back.dtype == np.float32
    assert np.array_equal(back, scale_pixels(images).numpy())


def test_to_source_geometry_works_on_maps_and_on_colour_images():
    maps = np.random.default_rng(2).uniform(size=(3, 32, 32)).astype(np.float32)
    back = to_source_geometry(maps, 28, 28)
    assert back.shape == (3, 28, 28)
    assert np.array_equal(back, maps[:, 2:30, 2:30])

    colour = uint8_images((2, 28, 28, 3), seed=3)
    back = to_source_geometry(to_model_images(colour, 32), 28, 28)
    assert back.shape == (2, 28, 28, 3)
    assert np.array_equal(back, scale_pixels(colour).numpy())


def test_to_source_geometry_is_the_identity_at_equal_sizes():
    images = scale_pixels(uint8_images((2, 16, 16, 3), seed=4)).numpy()
    assert np.array_equal(to_source_geometry(images, 16, 16), images)
    maps = images[..., 0]
    assert np.array_equal(to_source_geometry(maps, 16, 16), maps)
    assert np.array_equal(to_source_geometry(to_model_images(uint8_images((2, 32, 32, 1)), 32), 32, 32),
                          scale_pixels(uint8_images((2, 32, 32, 1))).numpy())


def test_to_source_geometry_resizes_other_sizes_back():
    images = uint8_images((2, 48, 48, 3), seed=5)
    model_images = to_model_images(images, 32)
    assert model_images.shape == (2, 32, 32, 3)
    back = to_source_geometry(model_images, 48, 48)
    assert back.shape == (2, 48, 48, 3) and back.dtype == np.float32
    assert to_source_geometry(model_images[..., 0], 48, 48).shape == (2, 48, 48)
    # A constant image stays that constant through both resizes.
    constant = np.full((1, 48, 48, 1), 200, np.uint8)
    np.testing.assert_allclose(to_source_geometry(to_model_images(constant, 32), 48, 48),
                               scale_pixels(constant).numpy(), atol=1e-5)
    # A non-square source is resized (not cropped), to its own height and width.
    tall = uint8_images((1, 28, 30, 1), seed=6)
    assert to_source_geometry(to_model_images(tall, 32), 28, 30).shape == (1, 28, 30, 1)


def test_the_padding_is_black_and_the_pixels_scale_to_minus_1_1():
    model_images = to_model_images(np.full((1, 28, 28, 1), 255, np.uint8), 32).numpy()
    assert np.all(model_images[:, :2] == -1.0) and np.all(model_images[:, :, -2:] == -1.0)
    assert np.all(model_images[:, 2:30, 2:30] == 1.0)
    np.testing.assert_array_equal(scale_pixels(np.array([0, 255], np.uint8)).numpy(), [-1.0, 1.0])


def test_scaled_pixel_values_are_bit_identical_to_to_model_images_for_every_uint8_value():
    values = scaled_pixel_values()
    assert values.shape == (256,) and values.dtype == tf.float32
    every_value = np.arange(256, dtype=np.uint8).reshape(1, 16, 16, 1)
    assert np.array_equal(values.numpy().reshape(1, 16, 16, 1), to_model_images(every_value, 16).numpy())
    # Through the 28 -> 32 padding too, and looked up by tf.gather as a graph does.
    padded_source = (np.arange(28 * 28) % 256).astype(np.uint8).reshape(1, 28, 28, 1)
    looked_up = tf.gather(values, tf.cast(padded_source, tf.int32)).numpy()
    assert np.array_equal(looked_up, to_model_images(padded_source, 32).numpy()[:, 2:30, 2:30])
