"""The images int8 quantization measures activation ranges on.

  images, description = training_images(run, 'photos', count=300)
  images = random_images(32, 224, (-1.0, 1.0))        # timing only

Calibration images come from the run's training split, never from the
images held out for validation or test (ranges fitted on those would leak
them into the model), and go through the run's evaluation preprocessing
(central crop, resize, value range): the exact inputs the served model
will see.
"""

import os

import numpy as np

from resnet_v2.common import checks
from resnet_v2.data import pipeline
from resnet_v2.training import evaluation

DEFAULT_COUNT = 300


def _sample(folder, count, seed):
  """``count`` examples of ``folder`` drawn at random with ``seed``."""
  order = np.random.RandomState(seed).permutation(len(folder.paths))
  return folder.subset(sorted(order[:count].tolist()))


def training_images(trained, data_dir, count=DEFAULT_COUNT):
  """Up to ``count`` preprocessed training images of a ``TrainedRun``.

  Args:
    trained: the ``run_dir.TrainedRun`` being exported.
    data_dir: the image folder the run trained on; the training split is
      rebuilt from the run's ``validation_split`` and ``seed``.
    count: how many images (fewer when the split is smaller).

  Returns:
    ``(images, description)``: a float32 ``[n, size, size, 3]`` array and
    a dict saying where they came from, for the manifest.
  """
  checks.check_count('calibration_images', count, 1)
  record = trained.record
  folder, _ = evaluation.load_subset(data_dir, record, 'training')
  folder = _sample(folder, count, record['seed'])
  dataset = pipeline.evaluation_dataset(
      folder, record['image_size'], 64, record['central_fraction'],
      value_range=trained.value_range)
  images = np.concatenate([batch.numpy() for batch, _ in dataset])
  return images, {
      'images': len(images), 'data_dir': os.path.abspath(data_dir),
      'subset': 'training', 'seed': record['seed'],
      'preprocessing': 'evaluation'}


def random_images(count, image_size, value_range, seed=0):
  """``count`` uniform random images in ``value_range``, float32.

  For timing nets with random weights, where no data exists; the speed of
  a quantized net does not depend on its ranges, its accuracy does.
  """
  low, high = value_range
  return np.random.RandomState(seed).uniform(
      low, high, (count, image_size, image_size, 3)).astype(np.float32)
