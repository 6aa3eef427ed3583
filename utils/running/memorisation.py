"""Whether a model memorises its training images: its reconstruction error on them against the error on
held-out normal images (the validation split).

A model that generalises reconstructs unseen normal images about as well as the ones it trained on. A
ratio of validation to training error well above 1 means it memorised them (--phase diagnose found
2-5x on small training sets), and its scores then rank unseen normal images as anomalous. With a
validation split, training logs this at every progress line (TensorBoard, and the learning curve with
--eval_every) and the test phase reports it beside the floors.
"""

import numpy as np

from utils.scoring.maps import MapPass

MEMORISATION_RATIO = "memorisation_ratio"
# While training, at most this many images of each split are reconstructed at each logged iteration.
MONITORED_IMAGES = 256


def memorisation(map_pass: MapPass, training_images, validation_images) -> dict[str, float | None]:
    """The mean |x - x^| of the model on training and on validation images, and their ratio (None when the
    training error is 0)."""
    training = float(np.mean(map_pass(training_images)[1]))
    validation = float(np.mean(map_pass(validation_images)[1]))
    return {"training_reconstruction_error": training, "validation_reconstruction_error": validation,
            MEMORISATION_RATIO: validation / training if training > 0 else None}
