"""Two classical detectors on raw pixels, fitted on a class's normal training images: the floors a deep
detector's AUC has to clear on the same split to earn its cost.

Both read the images the model reads (model-ready: resized to --image_size, in [-1, 1]), flattened.
PCA reconstruction error: the squared distance of an image to its projection on the principal
components that explain PCA_VARIANCE of the training images' variance. kNN: the mean Euclidean
distance to the KNN_NEIGHBOURS nearest training images. Higher is more anomalous for both.
"""

import time

import numpy as np
from sklearn.decomposition import PCA
from sklearn.metrics import roc_auc_score
from sklearn.neighbors import NearestNeighbors

# The fraction of the training pixels' variance the kept components explain.
PCA_VARIANCE = 0.95
KNN_NEIGHBOURS = 5
# One image has no variance to find components in: fewer training images than this get no floors.
FLOOR_MIN_TRAINING_IMAGES = 2
# The metrics.json keys of the floors' AUCs, by the title tables and summaries show them under.
FLOOR_METRICS = {"PCA floor": "pca_floor_auc", "kNN floor": "knn_floor_auc"}
# The metrics.json key of why a class has no floors though it has training images.
FLOORS_LEFT_OUT = "floors_left_out"


def _flat(images) -> np.ndarray:
    images = np.asarray(images, dtype=np.float32)
    return images.reshape(len(images), -1)


def fitted_pca(train_images, variance: float = PCA_VARIANCE) -> PCA:
    """The PCA floor's components: those that explain `variance` of the training images' variance."""
    train = _flat(train_images)
    if len(train) < FLOOR_MIN_TRAINING_IMAGES:
        raise ValueError(f"a PCA floor needs at least {FLOOR_MIN_TRAINING_IMAGES} training images, got {len(train)}")
    # Many images of few pixels (CIFAR-10 all-vs-one: 45000 x 3072): the pixels' covariance is the smaller problem.
    solver = "covariance_eigh" if len(train) > train.shape[1] else "full"
    return PCA(n_components=variance, svd_solver=solver).fit(train)


def pca_reconstructions(pca: PCA, images) -> np.ndarray:
    """The projections of images on the components of `pca`, in the images' shape."""
    images = np.asarray(images, dtype=np.float32)
    return pca.inverse_transform(pca.transform(_flat(images))).reshape(images.shape)


def pca_squared_errors(pca: PCA, images) -> np.ndarray:
    """The squared distance of each image to its projection on the components of `pca`: the PCA floor's score."""
    flat = _flat(images)
    return ((flat - _flat(pca_reconstructions(pca, flat))) ** 2).sum(axis=1)


def pca_reconstruction_errors(train_images, test_images, variance: float = PCA_VARIANCE) -> tuple[np.ndarray, int]:
    """(the squared reconstruction error of each test image, the number of components kept)."""
    pca = fitted_pca(train_images, variance)
    return pca_squared_errors(pca, test_images), int(pca.n_components_)


def knn_mean_distances(train_images, test_images, neighbours: int = KNN_NEIGHBOURS) -> tuple[np.ndarray, int]:
    """(the mean distance of each test image to its nearest training images, how many were used: at most
    the training set's size)."""
    train, test = _flat(train_images), _flat(test_images)
    neighbours = min(neighbours, len(train))
    distances, _ = NearestNeighbors(n_neighbors=neighbours).fit(train).kneighbors(test)
    return distances.mean(axis=1), neighbours


def floor_metrics(train_images, test_images, anomaly_labels) -> dict:
    """Both floors' AUCs on the split (None when the test split has normal images only, or when there are fewer
    than FLOOR_MIN_TRAINING_IMAGES training images or they are all identical, FLOORS_LEFT_OUT then saying so),
    their settings and the seconds they took together."""
    started = time.perf_counter()
    if len(train_images) < FLOOR_MIN_TRAINING_IMAGES:
        # The method itself can still be scored.
        return {key: None for key in FLOOR_METRICS.values()}
    train = _flat(train_images)
    if (train == train[0]).all():
        # PCA finds no variance to explain (scikit-learn warns of a division by zero), and both floors would
        # rank the test images alike, by their distance to the one image.
        return {**{key: None for key in FLOOR_METRICS.values()},
                FLOORS_LEFT_OUT: f"its {len(train)} training images are all identical, so the PCA and kNN floors, "
                                 "which learn from their differences, are left out"}
    pca_errors, components = pca_reconstruction_errors(train_images, test_images)
    knn_distances, neighbours = knn_mean_distances(train_images, test_images)
    both_kinds = len(np.unique(anomaly_labels)) == 2
    return {
        FLOOR_METRICS["PCA floor"]: float(roc_auc_score(anomaly_labels, pca_errors)) if both_kinds else None,
        FLOOR_METRICS["kNN floor"]: float(roc_auc_score(anomaly_labels, knn_distances)) if both_kinds else None,
        "pca_floor_components": components, "knn_floor_neighbours": neighbours,
        "floor_seconds": time.perf_counter() - started,
    }
