"""Data: Datasets, the DataLoader that batches them, and datasets that work offline.

    ds = mg.data.make_moons(500, noise=0.2, seed=0)          # an ArrayDataset of (x, y)
    train, val = mg.data.random_split(ds, [0.8, 0.2], generator=0)
    loader = mg.data.DataLoader(train, batch_size=32, shuffle=True, seed=0)
    for x, y in loader:                                      # x: (32, 2) float32, y: (32,) int64
        ...

One concept per module: ``dataset.py`` (Dataset, TensorDataset, Subset, random_split,
ConcatDataset), ``dataloader.py`` (DataLoader, default_collate), ``datasets.py`` (scikit-learn's
bundled sets and generated tasks), ``sentiment.py`` (review sentences from a sentiment lexicon),
``mnist.py`` (MNIST / FashionMNIST downloads), ``detection.py`` (scenes of shapes with boxes
and labels, for object detection).
"""

from .dataloader import (
    DataLoader,
    WorkerInfo,
    default_collate,
    default_convert,
    get_worker_info,
)
from .dataset import ConcatDataset, Dataset, Subset, TensorDataset, random_split
from .datasets import (
    ArrayDataset,
    load_breast_cancer,
    load_diabetes,
    load_digits,
    load_iris,
    make_adding_problem,
    make_circles,
    make_moons,
    make_sequence_task,
    make_shape_scenes,
    make_shapes_images,
    make_spirals,
)
from .detection import DetectionScenes, make_detection_scenes
from .distributed import DistributedSampler
from .mnist import MNIST, FashionMNIST, read_idx
from .sentiment import SentimentSentences, make_sentiment_sentences

__all__ = [
    "Dataset", "TensorDataset", "Subset", "ConcatDataset", "random_split", "DataLoader",
    "WorkerInfo", "get_worker_info",
    "default_collate", "default_convert", "ArrayDataset", "load_digits", "load_iris",
    "load_breast_cancer", "load_diabetes", "make_moons", "make_circles", "make_spirals",
    "make_sequence_task", "make_adding_problem", "make_shapes_images", "make_shape_scenes",
    "MNIST",
    "FashionMNIST", "read_idx", "SentimentSentences", "make_sentiment_sentences",
    "make_detection_scenes", "DetectionScenes",
    "DistributedSampler",
]
