"""Shared test set-up: quiet TensorFlow logs and a fresh graph per test."""

import os

os.environ.setdefault('TF_CPP_MIN_LOG_LEVEL', '2')

import numpy as np  # noqa: E402
import pytest  # noqa: E402
import tensorflow as tf  # noqa: E402

import resnet_v2  # noqa: E402,F401  (applies the tf-slim compat fix first)


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
