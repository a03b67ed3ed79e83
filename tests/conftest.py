"""Shared test set-up: quiet logs, a fresh graph per test, small image sets."""

import os

os.environ.setdefault('TF_CPP_MIN_LOG_LEVEL', '2')

import numpy as np  # noqa: E402
import pytest  # noqa: E402

import resnet_v2  # noqa: E402,F401  (TensorFlow then loads quietly, fixed)
import tensorflow as tf  # noqa: E402

from image_sets import write_grey_classes  # noqa: E402


@pytest.fixture
def graph():
  """A new default graph for the test, so tests never share variables."""
  with tf.Graph().as_default() as g:
    yield g


def random_images(batch, height, width, channels=3, seed=0):
  """A reproducible float32 batch of images in [-1, 1]."""
  rng = np.random.default_rng(seed)
  return rng.uniform(-1.0, 1.0, (batch, height, width, channels)).astype(
      np.float32)


def variable_signature():
  """(name, shape) of every global variable of the default graph, in order."""
  return [(v.op.name, v.shape.as_list())
          for v in tf.compat.v1.global_variables()]


def randomize_variables(session, seed):
  """Give every batch-norm variable random values, in one session run.

  Fresh batch-norm variables are 0 and 1, which would hide a swapped mean
  and variance or a missing gamma; random values expose them.
  """
  rng = np.random.default_rng(seed)
  feeds = {}
  for variable in tf.compat.v1.global_variables():
    if 'BatchNorm' not in variable.name:
      continue
    shape = variable.shape.as_list()
    if 'moving_variance' in variable.name or 'gamma' in variable.name:
      value = rng.uniform(0.5, 1.5, shape)
    else:
      value = rng.uniform(-0.2, 0.2, shape)
    feeds[variable.initializer.inputs[1]] = value.astype(np.float32)
  session.run([variable.initializer for variable in
               tf.compat.v1.global_variables()
               if variable.initializer.inputs[1] in feeds], feeds)


def max_relative_difference(actual, expected):
  """Largest |actual - expected| relative to the largest |expected|."""
  return float(np.max(np.abs(actual - expected)) / np.max(np.abs(expected)))


@pytest.fixture(scope='module')
def images(tmp_path_factory):
  """Three classes (grey levels 30, 130, 230) of four 8x8 images each."""
  return write_grey_classes(str(tmp_path_factory.mktemp('images')),
                            [30, 130, 230])
