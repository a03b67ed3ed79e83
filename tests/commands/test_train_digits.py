"""The digits proof, short: a few hundred steps on real handwritten digits."""

import collections
import os

import numpy as np
import pytest
import tensorflow as tf

from resnet_v2 import training
from resnet_v2.data import digits as digit_images
from resnet_v2.training import evaluation
from resnet_v2.training import options

datasets = pytest.importorskip('sklearn.datasets')


@pytest.fixture(scope='module')
def digits(tmp_path_factory):
  """The digits written as train/ and test/ image folders."""
  return digit_images.write_digits(str(tmp_path_factory.mktemp('digits')))


def test_hand_written_png_decodes_to_the_same_pixels():
  image = np.arange(48, dtype=np.uint8).reshape(6, 8) * 5
  decoded = tf.io.decode_png(digit_images.encode_grey_png(image)).numpy()
  np.testing.assert_array_equal(decoded[:, :, 0], image)


def test_digits_are_split_per_class_without_overlap(digits):
  train_images, test_images = digits
  def counts(root):
    return {name: len(os.listdir(os.path.join(root, name)))
            for name in os.listdir(root)}
  per_class = collections.Counter(datasets.load_digits().target.tolist())
  train_counts, test_counts = counts(train_images), counts(test_images)
  for label, total in per_class.items():
    assert test_counts[str(label)] == round(0.2 * total)
    assert train_counts[str(label)] + test_counts[str(label)] == total
  train_files = {f for name in train_counts
                 for f in os.listdir(os.path.join(train_images, name))}
  test_files = {f for name in test_counts
                for f in os.listdir(os.path.join(test_images, name))}
  assert not train_files & test_files


def test_a_short_run_learns_the_digits(digits, tmp_path):
  train_images, test_images = digits
  train_dir = str(tmp_path / 'run')
  result = training.train(options.digits_train_options(
      train_images, train_dir, max_steps=150, log_every=10,
      weight_decay=1e-5, batch_norm_decay=0.9))
  losses = [loss for _, loss, _ in result.history]
  assert np.mean(losses[-3:]) < 0.5 * losses[0]
  scores = evaluation.evaluate(train_dir, test_images)
  assert scores.num_images == 359
  assert scores.top1 > 0.6  # chance is 0.1
