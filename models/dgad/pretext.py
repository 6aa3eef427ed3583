"""Geometric pretext transformations of DGAD (paper section 3.4).

Protocol 1 rotates the whole image by 0, 90, 180 or 270 degrees counter-clockwise;
the label is a 4-way one-hot.
Protocol 2 cuts the image into a 2x2 jigsaw (tiles 0 top-left, 1 top-right,
2 bottom-left, 3 bottom-right), keeps the top-left tile in place and permutes the
other three; the label is a 6-way one-hot over JIGSAW_PERMUTATIONS.
Protocol 3 is Protocol 2 followed by an independent rotation of each of the three
moved tiles; the label is multi-hot: the permutation one-hot followed by a 4-way
rotation one-hot for each of output positions 1, 2 and 3 (6 + 4 + 4 + 4 = 18).

A transformation is described by integer label indices of shape (B, G), one index
per label group of LABEL_GROUPS[protocol]. Index 0 of every group is the identity,
so an untransformed image carries the "real" label c_r. Every function works on the
whole batch with TensorFlow ops, so it can run inside a compiled training step.
"""

import itertools
import math

import tensorflow as tf

LABEL_GROUPS = {1: (4,), 2: (6,), 3: (6, 4, 4, 4)}

# JIGSAW_PERMUTATIONS[p][i] is the input tile shown at output position i.
JIGSAW_PERMUTATIONS = tuple((0,) + moved for moved in itertools.permutations((1, 2, 3)))

_NUM_ROTATIONS = 4


def _label_groups(protocol):
    if protocol not in LABEL_GROUPS:
        raise ValueError(f"protocol must be one of {tuple(LABEL_GROUPS)}, got {protocol!r}")
    return LABEL_GROUPS[protocol]


def _check_images(images, protocol):
    shape = images.shape
    if shape.rank != 4:
        raise ValueError(f"images must be an NHWC batch of rank 4, got shape {shape}")
    height, width = shape[1], shape[2]
    # Rotating by 90 degrees only keeps the batch shape if the images are square.
    if height is None or height != width:
        raise ValueError(f"images must be square with a static size, got shape {shape}")
    if protocol in (2, 3) and height % 2 != 0:
        raise ValueError(f"the 2x2 jigsaw needs an even image size, got shape {shape}")


def _check_label_indices(label_indices, protocol):
    num_groups = len(_label_groups(protocol))
    if label_indices.shape.rank != 2 or label_indices.shape[1] != num_groups:
        raise ValueError(
            f"label indices for protocol {protocol} must have shape (B, {num_groups}), "
            f"got {label_indices.shape}"
        )


def label_size(protocol):
    """Length of the one-hot / multi-hot label: 4, 6 or 18."""
    return sum(_label_groups(protocol))


def _rotate(images, rotation_indices):
    """Rotates image b of an NHWC batch by rotation_indices[b] quarter turns
    counter-clockwise, like np.rot90(image, k, axes=(0, 1))."""

    def quarter_turn(batch):
        return tf.reverse(tf.transpose(batch, [0, 2, 1, 3]), axis=[1])

    rotations = [images]
    for _ in range(_NUM_ROTATIONS - 1):
        rotations.append(quarter_turn(rotations[-1]))
    # All four rotations of the whole batch are cheap; each image then picks its own.
    rotations = tf.stack(rotations, axis=1)
    return tf.gather(rotations, rotation_indices, batch_dims=1)


def _split_tiles(images):
    """(B, H, W, C) -> (B, 4, H/2, W/2, C), tiles in row-major order."""
    _, height, width, channels = images.shape
    tiles = tf.reshape(images, [-1, 2, height // 2, 2, width // 2, channels])
    tiles = tf.transpose(tiles, [0, 1, 3, 2, 4, 5])
    return tf.reshape(tiles, [-1, 4, height // 2, width // 2, channels])


def _join_tiles(tiles):
    """Inverse of _split_tiles."""
    _, _, tile_height, tile_width, channels = tiles.shape
    grid = tf.reshape(tiles, [-1, 2, 2, tile_height, tile_width, channels])
    grid = tf.transpose(grid, [0, 1, 3, 2, 4, 5])
    return tf.reshape(grid, [-1, 2 * tile_height, 2 * tile_width, channels])


def _tile_order(permutation_indices):
    """(B,) permutation indices -> (B, 4) input tile index for every output position."""
    return tf.gather(tf.constant(JIGSAW_PERMUTATIONS, tf.int32), permutation_indices)


def _jigsaw(images, permutation_indices, tile_rotation_indices=None):
    """Permutes the tiles of each image; optionally rotates the tiles at output
    positions 1, 2, 3 by tile_rotation_indices of shape (B, 3)."""
    tiles = tf.gather(_split_tiles(images), _tile_order(permutation_indices), batch_dims=1)
    if tile_rotation_indices is not None:
        fixed_tile_rotation = tf.zeros_like(tile_rotation_indices[:, :1])
        rotation_indices = tf.concat([fixed_tile_rotation, tile_rotation_indices], axis=1)
        _, _, tile_size, _, channels = tiles.shape
        # Rotate all B * 4 tiles as one batch of small images.
        flat_tiles = tf.reshape(tiles, [-1, tile_size, tile_size, channels])
        flat_tiles = _rotate(flat_tiles, tf.reshape(rotation_indices, [-1]))
        tiles = tf.reshape(flat_tiles, [-1, 4, tile_size, tile_size, channels])
    return _join_tiles(tiles)


def apply_transformation(images, protocol, label_indices):
    """Transforms every image of an NHWC batch by its own row of label indices (B, G)."""
    images = tf.convert_to_tensor(images)
    label_indices = tf.convert_to_tensor(label_indices, tf.int32)
    _check_label_indices(label_indices, protocol)
    _check_images(images, protocol)
    if protocol == 1:
        return _rotate(images, label_indices[:, 0])
    if protocol == 2:
        return _jigsaw(images, label_indices[:, 0])
    return _jigsaw(images, label_indices[:, 0], label_indices[:, 1:])


def to_labels(label_indices, protocol):
    """(B, G) label indices -> (B, label_size) float32 one-hot (or multi-hot for Protocol 3)."""
    groups = _label_groups(protocol)
    label_indices = tf.convert_to_tensor(label_indices, tf.int32)
    _check_label_indices(label_indices, protocol)
    one_hots = [
        tf.one_hot(label_indices[:, group], depth, dtype=tf.float32)
        for group, depth in enumerate(groups)
    ]
    return tf.concat(one_hots, axis=1)


def identity_labels(batch_size, protocol):
    """The real label c_r (index 0 in every group) for each of batch_size images."""
    num_groups = len(_label_groups(protocol))
    return to_labels(tf.zeros([batch_size, num_groups], tf.int32), protocol)


def scoring_transformations(protocol):
    """The transformations T_0 .. T_k-1 that s_dir and the discriminator's accuracy run over, as
    label indices of shape (k, G).

    Protocols 1 and 2 use all of theirs (4 rotations, 6 permutations). Protocol 3 has
    6 x 4**3 = 384; we use the 24 that pair each permutation with one rotation shared by the three
    moved tiles, so that every class of every label group is seen, at a sixteenth of the cost.
    """
    groups = _label_groups(protocol)
    if protocol == 3:
        return tf.constant([[permutation] + [rotation] * 3 for permutation in range(groups[0])
                            for rotation in range(_NUM_ROTATIONS)], tf.int32)
    return tf.range(groups[0], dtype=tf.int32)[:, None]


def random_transformation(images, protocol, seed):
    """Draws a uniformly random transformation for every image with the stateless
    RNG (seed: shape-[2] int tensor) and returns (transformed_images, labels)."""
    groups = _label_groups(protocol)
    images = tf.convert_to_tensor(images)
    # One draw over all math.prod(groups) transformations, decoded digit by digit
    # (mixed radix), makes every label group uniform and independent of the others.
    transformation_indices = tf.random.stateless_uniform(
        [tf.shape(images)[0]], seed, minval=0, maxval=math.prod(groups), dtype=tf.int32
    )
    group_indices = []
    for depth in reversed(groups):
        group_indices.insert(0, transformation_indices % depth)
        transformation_indices //= depth
    label_indices = tf.stack(group_indices, axis=1)
    transformed = apply_transformation(images, protocol, label_indices)
    return transformed, to_labels(label_indices, protocol)
