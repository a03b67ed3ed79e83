"""A tiny trained run for the deployment tests, and its images decoded."""

import numpy as np

from resnet_v2 import training
from resnet_v2.data import image_folder
from resnet_v2.data import images as images_lib

from image_sets import small_options
from image_sets import write_grey_classes

LEVELS = (30, 130, 230)


def train_tiny(tmp_path_factory, per_class=6, validation_split=0.0):
  """Train resnet_v2_18 at 32x32 for a dozen steps on grey classes.

  Fast batch-norm statistics and a dozen steps give a net that tells the
  grey levels apart with varied confidence, so agreement between two
  models is a real test rather than one class predicted everywhere.

  Returns:
    ``(data_dir, train_dir)``.
  """
  data_dir = write_grey_classes(str(tmp_path_factory.mktemp('images')),
                                LEVELS, per_class=per_class)
  train_dir = str(tmp_path_factory.mktemp('run'))
  training.train(small_options(data_dir, train_dir, max_steps=12,
                               batch_norm_decay=0.5,
                               validation_split=validation_split))
  return data_dir, train_dir


def decoded_images(data_dir):
  """Every image of ``data_dir`` as a uint8 array, in file order."""
  paths = image_folder.scan(data_dir).paths
  return [images_lib.read_image(path).numpy() for path in paths]


def agreement(probabilities, expected):
  """The fraction of rows with the same top-1 class."""
  return float(np.mean(np.argmax(probabilities, axis=1) ==
                       np.argmax(expected, axis=1)))
