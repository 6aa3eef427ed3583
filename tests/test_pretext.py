import itertools

import numpy as np
import pytest
import tensorflow as tf

from models.dgad.pretext import (
    JIGSAW_PERMUTATIONS,
    LABEL_GROUPS,
    apply_transformation,
    identity_labels,
    label_size,
    random_transformation,
    scoring_transformations,
    to_labels,
)


def distinct_images(batch_size, size=8, channels=2):
    """Every pixel value differs, so a wrong tile or rotation cannot go unnoticed."""
    count = batch_size * size * size * channels
    return np.arange(count, dtype=np.float32).reshape(batch_size, size, size, channels)


def numpy_tiles(image):
    half = image.shape[0] // 2
    return [image[:half, :half], image[:half, half:], image[half:, :half], image[half:, half:]]


def numpy_jigsaw(image, permutation, tile_rotations=(0, 0, 0, 0)):
    """Reference built from the definition: output position i shows input tile
    permutation[i], rotated by tile_rotations[i] quarter turns."""
    tiles = numpy_tiles(image)
    out = [np.rot90(tiles[permutation[i]], tile_rotations[i], axes=(0, 1)) for i in range(4)]
    return np.concatenate(
        [np.concatenate(out[:2], axis=1), np.concatenate(out[2:], axis=1)], axis=0
    )


def split_label_indices(labels, protocol):
    """Recovers the label indices from a one-hot / multi-hot label."""
    labels = np.asarray(labels)
    boundaries = np.cumsum((0,) + LABEL_GROUPS[protocol])
    return np.stack(
        [labels[:, start:end].argmax(axis=1) for start, end in zip(boundaries, boundaries[1:])],
        axis=1,
    )


def test_label_sizes():
    assert LABEL_GROUPS == {1: (4,), 2: (6,), 3: (6, 4, 4, 4)}
    assert [label_size(p) for p in (1, 2, 3)] == [4, 6, 18]


# Protocol 1


@pytest.mark.parametrize("k", range(4))
def test_rotation_matches_np_rot90(k):
    images = distinct_images(3)
    indices = np.full((3, 1), k, np.int32)
    rotated = apply_transformation(images, 1, indices).numpy()
    for image, result in zip(images, rotated):
        np.testing.assert_array_equal(result, np.rot90(image, k, axes=(0, 1)))
    expected_label = np.zeros(4, np.float32)
    expected_label[k] = 1.0
    np.testing.assert_array_equal(to_labels(indices, 1).numpy(), np.tile(expected_label, (3, 1)))


def test_rotation_is_counter_clockwise():
    image = np.array([[1.0, 2.0], [3.0, 4.0]], np.float32).reshape(1, 2, 2, 1)
    rotated = apply_transformation(image, 1, [[1]]).numpy()[0, :, :, 0]
    np.testing.assert_array_equal(rotated, [[2.0, 4.0], [1.0, 3.0]])


def test_rotation_mixed_batch():
    images = distinct_images(5, size=4, channels=3)
    rotations = np.array([2, 0, 3, 1, 2], np.int32)
    rotated = apply_transformation(images, 1, rotations[:, None]).numpy()
    for image, k, result in zip(images, rotations, rotated):
        np.testing.assert_array_equal(result, np.rot90(image, k, axes=(0, 1)))
    np.testing.assert_array_equal(
        to_labels(rotations[:, None], 1).numpy(),
        [[0, 0, 1, 0], [1, 0, 0, 0], [0, 0, 0, 1], [0, 1, 0, 0], [0, 0, 1, 0]],
    )


# Protocol 2


def test_jigsaw_permutation_table():
    assert len(JIGSAW_PERMUTATIONS) == 6
    assert JIGSAW_PERMUTATIONS[0] == (0, 1, 2, 3)
    assert len(set(JIGSAW_PERMUTATIONS)) == 6
    assert set(JIGSAW_PERMUTATIONS) == {(0,) + p for p in itertools.permutations((1, 2, 3))}


@pytest.mark.parametrize("permutation_index", range(6))
def test_jigsaw_matches_definition(permutation_index):
    images = distinct_images(2)
    indices = np.full((2, 1), permutation_index, np.int32)
    shuffled = apply_transformation(images, 2, indices).numpy()
    permutation = JIGSAW_PERMUTATIONS[permutation_index]
    for image, result in zip(images, shuffled):
        np.testing.assert_array_equal(result, numpy_jigsaw(image, permutation))
        result_tiles, image_tiles = numpy_tiles(result), numpy_tiles(image)
        np.testing.assert_array_equal(result_tiles[0], image_tiles[0])
        for position, source in enumerate(permutation):
            np.testing.assert_array_equal(result_tiles[position], image_tiles[source])
    expected_label = np.zeros(6, np.float32)
    expected_label[permutation_index] = 1.0
    np.testing.assert_array_equal(to_labels(indices, 2).numpy()[0], expected_label)


def test_jigsaw_concrete_example():
    # 4x4 image whose tiles are constant: TL=0, TR=1, BL=2, BR=3.
    image = np.kron(np.array([[0.0, 1.0], [2.0, 3.0]]), np.ones((2, 2))).astype(np.float32)
    permutation_index = JIGSAW_PERMUTATIONS.index((0, 3, 1, 2))
    shuffled = apply_transformation(image[None, :, :, None], 2, [[permutation_index]])
    expected = np.kron(np.array([[0.0, 3.0], [1.0, 2.0]]), np.ones((2, 2)))
    np.testing.assert_array_equal(shuffled.numpy()[0, :, :, 0], expected)


def test_jigsaw_identity_and_other_permutations_change_image():
    images = distinct_images(6)
    shuffled = apply_transformation(images, 2, np.arange(6)[:, None]).numpy()
    np.testing.assert_array_equal(shuffled[0], images[0])
    for index in range(1, 6):
        assert not np.array_equal(shuffled[index], images[index])


def test_jigsaw_is_undone_by_the_inverse_permutation():
    images = distinct_images(12)
    permutation_indices = np.array([0, 1, 2, 3, 4, 5, 5, 4, 3, 2, 1, 0], np.int32)
    shuffled = apply_transformation(images, 2, permutation_indices[:, None]).numpy()
    for image, original, index in zip(shuffled, images, permutation_indices, strict=True):
        # argsort of a permutation is its inverse: the output position holding each input tile.
        inverse = np.argsort(JIGSAW_PERMUTATIONS[index])
        np.testing.assert_array_equal(numpy_jigsaw(image, inverse), original)


# Protocol 3


def all_protocol3_indices():
    return np.array(list(itertools.product(range(6), range(4), range(4), range(4))), np.int32)


def test_protocol3_all_384_transformations_match_definition():
    indices = all_protocol3_indices()
    assert len(indices) == 384
    images = distinct_images(len(indices), size=4, channels=1)
    transformed = apply_transformation(images, 3, indices).numpy()
    for image, (p, r1, r2, r3), result in zip(images, indices, transformed):
        expected = numpy_jigsaw(image, JIGSAW_PERMUTATIONS[p], (0, r1, r2, r3))
        np.testing.assert_array_equal(result, expected)
    assert len({result.tobytes() for result in transformed - images}) == 384


def test_protocol3_rotates_moved_tiles_only():
    image = distinct_images(1)
    permutation_index = JIGSAW_PERMUTATIONS.index((0, 2, 3, 1))
    result = apply_transformation(image, 3, [[permutation_index, 1, 2, 3]]).numpy()[0]
    tiles, source = numpy_tiles(result), numpy_tiles(image[0])
    np.testing.assert_array_equal(tiles[0], source[0])
    np.testing.assert_array_equal(tiles[1], np.rot90(source[2], 1, axes=(0, 1)))
    np.testing.assert_array_equal(tiles[2], np.rot90(source[3], 2, axes=(0, 1)))
    np.testing.assert_array_equal(tiles[3], np.rot90(source[1], 3, axes=(0, 1)))


def test_protocol3_multi_hot_labels():
    labels = to_labels([[4, 1, 3, 0], [0, 0, 0, 0]], 3).numpy()
    assert labels.shape == (2, 18)
    np.testing.assert_array_equal(labels.sum(axis=1), [4.0, 4.0])
    np.testing.assert_array_equal(np.flatnonzero(labels[0]), [4, 6 + 1, 10 + 3, 14 + 0])
    np.testing.assert_array_equal(np.flatnonzero(labels[1]), [0, 6, 10, 14])
    all_labels = to_labels(all_protocol3_indices(), 3).numpy()
    np.testing.assert_array_equal(all_labels.sum(axis=1), np.full(384, 4.0))
    assert len({row.tobytes() for row in all_labels}) == 384


def test_protocol3_identity_leaves_image_unchanged():
    images = distinct_images(3)
    result = apply_transformation(images, 3, np.zeros((3, 4), np.int32))
    np.testing.assert_array_equal(result.numpy(), images)


# Identity labels


@pytest.mark.parametrize("protocol", [1, 2, 3])
def test_identity_labels(protocol):
    expected = to_labels(np.zeros((5, len(LABEL_GROUPS[protocol])), np.int32), protocol)
    np.testing.assert_array_equal(identity_labels(5, protocol).numpy(), expected.numpy())


def test_identity_labels_values():
    np.testing.assert_array_equal(identity_labels(1, 1).numpy(), [[1, 0, 0, 0]])
    np.testing.assert_array_equal(identity_labels(1, 2).numpy(), [[1, 0, 0, 0, 0, 0]])
    expected = np.zeros((2, 18), np.float32)
    expected[:, [0, 6, 10, 14]] = 1.0
    np.testing.assert_array_equal(identity_labels(2, 3).numpy(), expected)
    assert identity_labels(2, 3).dtype == tf.float32


# Random transformations


@pytest.mark.parametrize("protocol", [1, 2, 3])
def test_random_transformation_is_seeded_and_consistent(protocol):
    images = distinct_images(32)
    seed = tf.constant([7, 11], tf.int32)
    transformed, labels = random_transformation(images, protocol, seed)
    transformed_again, labels_again = random_transformation(images, protocol, seed)
    np.testing.assert_array_equal(transformed.numpy(), transformed_again.numpy())
    np.testing.assert_array_equal(labels.numpy(), labels_again.numpy())

    _, other_labels = random_transformation(images, protocol, tf.constant([7, 12], tf.int32))
    assert not np.array_equal(labels.numpy(), other_labels.numpy())

    # The labels must describe the transformation actually applied.
    assert labels.dtype == tf.float32
    assert labels.shape == (32, label_size(protocol))
    indices = split_label_indices(labels, protocol)
    np.testing.assert_array_equal(
        transformed.numpy(), apply_transformation(images, protocol, indices).numpy()
    )


@pytest.mark.parametrize("protocol", [1, 3])
def test_random_transformation_is_roughly_uniform(protocol):
    images = np.zeros((4000, 4, 4, 1), np.float32)
    _, labels = random_transformation(images, protocol, tf.constant([1, 2], tf.int32))
    indices = split_label_indices(labels, protocol)
    for group, depth in enumerate(LABEL_GROUPS[protocol]):
        counts = np.bincount(indices[:, group], minlength=depth)
        assert len(counts) == depth
        expected = 4000 / depth
        assert np.all(np.abs(counts - expected) < 0.15 * expected), counts


def test_random_transformation_reaches_all_protocol3_transformations():
    images = np.zeros((4000, 4, 4, 1), np.float32)
    _, labels = random_transformation(images, 3, tf.constant([5, 6], tf.int32))
    drawn = {tuple(row) for row in split_label_indices(labels, 3)}
    assert len(drawn) == 384


def test_random_transformation_protocol2_is_roughly_uniform():
    images = np.zeros((4000, 4, 4, 1), np.float32)
    _, labels = random_transformation(images, 2, tf.constant([3, 4], tf.int32))
    counts = labels.numpy().sum(axis=0)
    assert np.all(np.abs(counts - 4000 / 6) < 0.15 * 4000 / 6), counts


@pytest.mark.parametrize("protocol", [1, 2, 3])
def test_random_transformation_under_xla_with_dynamic_batch(protocol):
    @tf.function(
        jit_compile=True,
        input_signature=[
            tf.TensorSpec([None, 8, 8, 2], tf.float32),
            tf.TensorSpec([2], tf.int32),
        ],
    )
    def compiled(images, seed):
        return random_transformation(images, protocol, seed)

    for batch_size in (5, 9):
        images = distinct_images(batch_size)
        seed = tf.constant([batch_size, 3], tf.int32)
        transformed, labels = compiled(tf.constant(images), seed)
        transformed_again, labels_again = compiled(tf.constant(images), seed)
        assert transformed.shape == (batch_size, 8, 8, 2)
        assert labels.shape == (batch_size, label_size(protocol))
        np.testing.assert_array_equal(labels.numpy(), labels_again.numpy())
        np.testing.assert_array_equal(transformed.numpy(), transformed_again.numpy())
        indices = split_label_indices(labels, protocol)
        np.testing.assert_array_equal(
            transformed.numpy(), apply_transformation(images, protocol, indices).numpy()
        )


# Errors


def test_unknown_protocol_raises():
    images = distinct_images(2)
    with pytest.raises(ValueError, match=r"4.*\(1, 2, 3\)|\(1, 2, 3\).*4"):
        label_size(4)
    with pytest.raises(ValueError, match="got 4"):
        apply_transformation(images, 4, [[0], [0]])
    with pytest.raises(ValueError, match="got 4"):
        random_transformation(images, 4, tf.constant([0, 0]))
    with pytest.raises(ValueError, match="got 4"):
        identity_labels(2, 4)


@pytest.mark.parametrize("protocol", [2, 3])
def test_odd_image_size_raises(protocol):
    images = np.zeros((2, 7, 7, 1), np.float32)
    indices = np.zeros((2, len(LABEL_GROUPS[protocol])), np.int32)
    with pytest.raises(ValueError, match=r"\(2, 7, 7, 1\)"):
        apply_transformation(images, protocol, indices)
    with pytest.raises(ValueError, match=r"\(2, 7, 7, 1\)"):
        random_transformation(images, protocol, tf.constant([0, 0]))


@pytest.mark.parametrize("protocol", [1, 2, 3])
def test_non_square_image_raises(protocol):
    images = np.zeros((2, 8, 6, 1), np.float32)
    indices = np.zeros((2, len(LABEL_GROUPS[protocol])), np.int32)
    with pytest.raises(ValueError, match=r"\(2, 8, 6, 1\)"):
        apply_transformation(images, protocol, indices)


def test_wrong_number_of_label_groups_raises():
    with pytest.raises(ValueError, match=r"\(B, 4\)"):
        apply_transformation(distinct_images(2), 3, [[0], [0]])


@pytest.mark.parametrize("protocol, count", [(1, 4), (2, 6), (3, 24)])
def test_scoring_transformations_are_distinct_and_start_with_the_identity(protocol, count):
    transformations = scoring_transformations(protocol).numpy()
    assert transformations.shape == (count, len(LABEL_GROUPS[protocol]))
    assert len({tuple(row) for row in transformations}) == count
    assert not transformations[0].any()


def test_protocol_3_scoring_covers_every_class_of_every_label_group():
    transformations = scoring_transformations(3).numpy()
    for group, depth in enumerate(LABEL_GROUPS[3]):
        assert set(transformations[:, group]) == set(range(depth))
    # One rotation shared by the three moved tiles.
    assert (transformations[:, 1:] == transformations[:, 1:2]).all()
