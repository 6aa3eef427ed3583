"""One-class splits, scaling to model inputs, and the reproducible, resumable training pipeline."""

import numpy as np
import pytest
import tensorflow as tf

from data.pipeline import one_class_split, random_zoom, to_model_images, training_batches
from data.sources import DatasetError, ImageDataset


def tiny_dataset():
    x_train = np.arange(12, dtype=np.uint8).reshape(12, 1, 1, 1).repeat(4, 1).repeat(4, 2)
    return ImageDataset(
        name="tiny", x_train=x_train, y_train=np.array([0, 1, 2] * 4),
        x_test=x_train[:6], y_test=np.array([0, 1, 2, 0, 1, 2]), class_names=("a", "b", "c"))


def test_one_vs_all_trains_on_the_normal_class_and_flags_the_rest():
    split = one_class_split(tiny_dataset(), 1, "one_vs_all")
    assert split.train_images[:, 0, 0, 0].tolist() == [1, 4, 7, 10]
    assert split.test_anomaly_labels.tolist() == [1, 0, 1, 1, 0, 1]
    assert split.test_class_labels.tolist() == [0, 1, 2, 0, 1, 2]


def test_all_vs_one_trains_on_every_other_class_and_flags_the_target():
    split = one_class_split(tiny_dataset(), 1, "all_vs_one")
    assert split.train_images[:, 0, 0, 0].tolist() == [0, 2, 3, 5, 6, 8, 9, 11]
    assert split.test_anomaly_labels.tolist() == [0, 1, 0, 0, 1, 0]


def test_unknown_class_and_scheme_are_refused_with_the_valid_choices():
    with pytest.raises(DatasetError, match=r"class 3 does not exist in tiny: classes are 0..2 \(a, b, c\)"):
        one_class_split(tiny_dataset(), 3)
    with pytest.raises(ValueError, match="one_vs_all, all_vs_one"):
        one_class_split(tiny_dataset(), 0, "one_vs_one")


def test_a_class_without_training_images_is_refused():
    dataset = tiny_dataset()
    dataset = ImageDataset("tiny", dataset.x_train[:2], np.array([0, 0]), dataset.x_test, dataset.y_test,
                           dataset.class_names)
    with pytest.raises(DatasetError, match="no normal training images for class 2"):
        one_class_split(dataset, 2)


def test_to_model_images_scales_uint8_to_minus_one_one():
    images = np.array([0, 255, 51], dtype=np.uint8).reshape(3, 1, 1, 1).repeat(32, 1).repeat(32, 2)
    scaled = to_model_images(images, 32).numpy()
    np.testing.assert_allclose(scaled[:, 0, 0, 0], [-1.0, 1.0, 51 / 127.5 - 1], atol=1e-6)


def test_28_pixel_images_are_zero_padded_to_32():
    images = np.full((1, 28, 28, 1), 255, np.uint8)
    padded = to_model_images(images, 32).numpy()[0, :, :, 0]
    assert padded.shape == (32, 32)
    np.testing.assert_array_equal(padded[2:30, 2:30], 1.0)
    assert (padded[:2] == -1).all() and (padded[:, 30:] == -1).all()


def test_other_sizes_are_resized_bilinearly():
    images = np.full((2, 8, 8, 3), 255, np.uint8)
    resized = to_model_images(images, 32).numpy()
    assert resized.shape == (2, 32, 32, 3)
    np.testing.assert_allclose(resized, 1.0, atol=1e-5)


def seeded_batches(*arguments, **settings):
    """training_batches whose training_inputs are the batch and its step's seed, to test the pipeline alone."""
    return training_batches(*arguments, **settings, training_inputs=lambda batch, seed: (batch, seed))


def batch_values(dataset):
    return [(batch[:, 0, 0, 0].numpy().tolist(), seed.numpy().tolist()) for batch, seed in dataset]


def numbered_images(count):
    return tf.reshape(tf.range(count, dtype=tf.float32), (count, 1, 1, 1))


def test_every_epoch_is_a_permutation_and_the_order_depends_on_the_seed():
    values = batch_values(seeded_batches(numbered_images(10), 5, seed=0, start_iteration=0, iterations=6))
    for epoch in range(3):
        images_of_epoch = values[2 * epoch][0] + values[2 * epoch + 1][0]
        assert sorted(images_of_epoch) == list(range(10))
    assert values[0][0] + values[1][0] != values[2][0] + values[3][0]
    other_seed = batch_values(seeded_batches(numbered_images(10), 5, seed=1, start_iteration=0, iterations=6))
    assert [batch for batch, _ in other_seed] != [batch for batch, _ in values]


def test_same_seed_gives_the_same_batches_and_transformation_seeds():
    first = batch_values(seeded_batches(numbered_images(10), 3, seed=7, start_iteration=0, iterations=8))
    second = batch_values(seeded_batches(numbered_images(10), 3, seed=7, start_iteration=0, iterations=8))
    assert first == second
    assert len({tuple(seed) for _, seed in first}) == 8


def test_resuming_at_an_iteration_continues_the_uninterrupted_stream():
    full = batch_values(seeded_batches(numbered_images(10), 4, seed=3, start_iteration=0, iterations=9))
    resumed = batch_values(seeded_batches(numbered_images(10), 4, seed=3, start_iteration=5, iterations=9))
    assert resumed == full[5:]


def test_too_few_images_for_a_batch_names_the_fix():
    with pytest.raises(DatasetError, match="only 3 training images for a batch size of 4; pass --batch_size 3"):
        seeded_batches(numbered_images(3), 4, seed=0, start_iteration=0, iterations=1)


def defect_dataset():
    """Two categories; test images carry their own defect flags, as MVTec AD and image folders do."""
    images = np.arange(10, dtype=np.uint8).reshape(10, 1, 1, 1)
    return ImageDataset(name="defects", x_train=images[:4], y_train=np.array([0, 0, 1, 1]), x_test=images[4:],
                        y_test=np.array([0, 0, 0, 1, 1, 1]), class_names=("bottle", "screw"),
                        test_is_anomalous=np.array([False, True, True, False, False, True]))


def test_defect_datasets_test_each_class_on_its_own_images_and_flags():
    split = one_class_split(defect_dataset(), 1)
    assert split.train_images[:, 0, 0, 0].tolist() == [2, 3]
    assert split.test_images[:, 0, 0, 0].tolist() == [7, 8, 9]
    assert split.test_anomaly_labels.tolist() == [0, 0, 1]


def test_defect_datasets_refuse_all_vs_one():
    with pytest.raises(DatasetError, match="only --scheme one_vs_all"):
        one_class_split(defect_dataset(), 0, "all_vs_one")


def test_random_zoom_enlarges_the_centre_and_is_reproducible():
    # A 16x16 image that is 1 in the middle 8x8 and 0 outside: zooming in can only grow the 1s.
    image = np.zeros((1, 16, 16, 1), np.float32)
    image[:, 4:12, 4:12] = 1.0
    batch = tf.constant(np.repeat(image, 8, axis=0))
    zoomed = random_zoom(batch, 0.5, tf.constant([1, 2], tf.int64))
    assert zoomed.shape == batch.shape
    bright = tf.reduce_sum(tf.cast(zoomed > 0.5, tf.int32), axis=[1, 2, 3]).numpy()
    assert (bright >= 64).all() and (bright > 64).any()
    np.testing.assert_array_equal(zoomed, random_zoom(batch, 0.5, tf.constant([1, 2], tf.int64)))


def test_zoom_is_off_by_default_and_on_when_asked():
    images = tf.random.stateless_uniform((8, 8, 8, 1), seed=[5, 5])
    plain = next(iter(seeded_batches(images, 4, seed=0, start_iteration=0, iterations=1)))[0]
    zoomed = next(iter(seeded_batches(images, 4, seed=0, start_iteration=0, iterations=1, max_zoom=0.3)))[0]
    assert not np.allclose(plain, zoomed)
    order = [int(np.argmin(np.abs(images.numpy() - plain[i:i + 1]).sum(axis=(1, 2, 3)))) for i in range(4)]
    np.testing.assert_array_equal(plain, tf.gather(images, order))
