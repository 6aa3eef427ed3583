"""The random streams of a run: every random draw of training, scoring and previews takes its stateless seed
from (the run's --seed, its stream's id), so the streams are independent of each other and a draw added to one
never shifts another.

The ids live together so that no two streams share one. Each value is part of every result made so far:
changing one changes the numbers of every run that uses its stream.

This module is in data/, the lowest layer, because data/pipeline.py, the models and utils/running all use it.
"""

# The order of the training images in each epoch (data/pipeline.py, training_batches).
DATA_ORDER_STREAM = 1
# Each training batch's random draws per image, model.training_inputs's seed: DGAD's pretext transformations,
# AD-CGAN's z.
TRAINING_INPUTS_STREAM = 2
# The random zoom augmentation of each training batch (--max_zoom).
ZOOM_STREAM = 3
# The random z of AD-CGAN's L_FL (eq 5) when it scores images (models/adcgan/scoring.py).
SCORE_STREAM = 7
# The random parts of TensorBoard's preview (a pretext transformation, a z).
PREVIEW_STREAM = 8
# Which normal training images are held out as the validation split (--val_fraction).
VALIDATION_STREAM = 9
# The test images each bootstrap resample of an image-level AUC draws (utils/scoring/bootstrap.py).
IMAGE_BOOTSTRAP_STREAM = 10
# The test images each bootstrap resample of a pixel-level AUROC draws.
PIXEL_BOOTSTRAP_STREAM = 11
