"""The digits proof, short: a few hundred steps on real handwritten digits."""

import collections
import os
import pathlib
import subprocess
import sys

import numpy as np
import pytest
import tensorflow as tf

from resnet_v2 import training
from resnet_v2.data import digits as digit_images
from resnet_v2.training import evaluation
from resnet_v2.training import options

datasets = pytest.importorskip('sklearn.datasets')
SCRIPT = pathlib.Path(__file__).resolve().parents[2] / 'benchmarks' / (
    'train_digits.py')


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


@pytest.mark.parametrize('flag, message', [
    ('--max_steps=0', 'error: max_steps must be an int >= 1; got 0.'),
    ('--test_fraction=1.0', 'error: test_fraction must be a finite number in '
     '(0, 1); got 1.0.'),
    ('--learning_rate=-1', 'error: learning_rate must be a finite number > 0'),
])
def test_the_script_checks_its_flags_before_writing_anything(flag, message,
                                                             tmp_path):
  work_dir = tmp_path / 'work'
  finished = subprocess.run(
      [sys.executable, str(SCRIPT), flag, '--work_dir=%s' % work_dir],
      capture_output=True, text=True, timeout=120, check=False)
  assert finished.returncode == 2
  assert message in finished.stderr
  assert not work_dir.exists()


def test_a_used_work_dir_is_refused_and_left_alone(tmp_path):
  (tmp_path / 'mine.txt').write_text('keep')
  finished = subprocess.run(
      [sys.executable, str(SCRIPT), '--work_dir=%s' % tmp_path],
      capture_output=True, text=True, timeout=120, check=False)
  assert finished.returncode == 2
  assert "error: work_dir '%s' already exists and is not empty" % tmp_path \
      in finished.stderr
  assert os.listdir(tmp_path) == ['mine.txt']


def test_the_digits_module_writes_the_folders_from_its_command_line(
    tmp_path):
  out = tmp_path / 'digits'
  finished = subprocess.run(
      [sys.executable, '-m', 'resnet_v2.data.digits', '--out_dir=%s' % out,
       '--test_fraction=0.5'], capture_output=True, text=True, timeout=120,
      check=False)
  assert finished.returncode == 0, finished.stderr
  assert sorted(os.listdir(out / 'train')) == [str(d) for d in range(10)]
  again = subprocess.run(
      [sys.executable, '-m', 'resnet_v2.data.digits', '--out_dir=%s' % out],
      capture_output=True, text=True, timeout=120, check=False)
  assert again.returncode == 2
  assert 'already exists and is not an empty folder' in again.stderr
