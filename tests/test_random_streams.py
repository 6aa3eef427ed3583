"""The random streams' ids (data/random_streams.py)."""

from data import random_streams


def test_every_stream_keeps_its_own_id():
    ids = {name: value for name, value in vars(random_streams).items() if name.endswith("_STREAM")}
    # The ids every result so far was made with: a changed id changes every run's numbers.
    assert ids == {"DATA_ORDER_STREAM": 1, "TRAINING_INPUTS_STREAM": 2, "ZOOM_STREAM": 3, "SCORE_STREAM": 7,
                   "PREVIEW_STREAM": 8, "VALIDATION_STREAM": 9, "IMAGE_BOOTSTRAP_STREAM": 10,
                   "PIXEL_BOOTSTRAP_STREAM": 11}
