"""Evaluation: scores, the confusion table, the held-out split and TTA."""

import numpy as np
import pytest
import tensorflow.compat.v1 as tf
import tf_slim as slim

import resnet_v2
from resnet_v2.training import evaluation
from resnet_v2.data import image_folder
from resnet_v2.data import images
from resnet_v2.data import preprocessing
from resnet_v2 import training

from image_sets import MODEL
from image_sets import small_options
from image_sets import write_grey_classes


@pytest.fixture(scope='module')
def trained(tmp_path_factory):
  """A short run on three classes with 40% of each class held out."""
  images = write_grey_classes(str(tmp_path_factory.mktemp('images')),
                              [30, 130, 230], per_class=5)
  train_dir = str(tmp_path_factory.mktemp('run'))
  training.train(small_options(images, train_dir, max_steps=4,
                               validation_split=0.4, central_fraction=0.75))
  return images, train_dir


def direct_probabilities(train_dir, paths, multi_crop):
  """Softmax of the net on each file, computed without the eval pipeline."""
  with tf.Graph().as_default():
    path = tf.placeholder(tf.string, [])
    image = images.read_image(path)
    if multi_crop:
      views = preprocessing.multi_crop(image, 32, 0.75)
    else:
      views = preprocessing.eval_image(image, 32, 0.75)[tf.newaxis]
    logits, _ = resnet_v2.get_network_fn(MODEL, num_classes=3)(views)
    probabilities = tf.reduce_mean(tf.nn.softmax(logits), axis=0)
    saver = tf.train.Saver(slim.get_model_variables())
    with tf.Session() as session:
      saver.restore(session, tf.train.latest_checkpoint(train_dir))
      return np.stack([session.run(probabilities, {path: p}) for p in paths])


def test_summarize_counts_top1_top5_and_the_confusion_matrix():
  probabilities = np.array([
      [0.50, 0.10, 0.10, 0.10, 0.10, 0.10],  # label 0: right
      [0.05, 0.40, 0.30, 0.10, 0.10, 0.05],  # label 2: second, in top 5
      [0.30, 0.25, 0.20, 0.15, 0.06, 0.04],  # label 5: last, not in top 5
  ])
  result = evaluation.summarize(probabilities, [0, 2, 5], list('abcdef'))
  assert result.num_images == 3 and result.k == 5
  assert result.top1 == pytest.approx(1 / 3)
  assert result.top_k == pytest.approx(2 / 3)
  expected = np.zeros((6, 6), np.int64)
  expected[0, 0] = expected[2, 1] = expected[5, 0] = 1
  np.testing.assert_array_equal(result.confusion, expected)


def test_confusion_table_shows_the_matrix_for_few_classes():
  result = evaluation.summarize(
      np.array([[0.9, 0.1], [0.2, 0.8], [0.6, 0.4]]), [0, 1, 1], ['cat', 'dog'])
  assert evaluation.confusion_table(result).splitlines() == [
      'class  images  accuracy  cat  dog',
      '-----  ------  --------  ---  ---',
      'cat    1       1.000     1    0',
      'dog    2       0.500     1    1',
  ]


def test_confusion_table_names_the_worst_confusion_for_many_classes():
  names = ['c%02d' % i for i in range(21)]
  probabilities = np.eye(21)[[0, 7, 7, 1]]
  result = evaluation.summarize(probabilities, [0, 1, 1, 1], names)
  rows = evaluation.confusion_table(result).splitlines()
  assert rows[0].split('  ')[-1] == 'most often predicted instead'
  assert rows[3].split() == ['c01', '3', '0.333', 'c07', '(2)']
  # Above 20 classes only those with images get a row (a release's 1001).
  assert len(rows) == 4


@pytest.mark.parametrize('tta', [False, True])
def test_evaluate_scores_the_split_training_held_out(trained, tta):
  images, train_dir = trained
  result = evaluation.evaluate(train_dir, images, subset='validation',
                               tta=tta, batch_size=4)
  _, held_out = image_folder.split(image_folder.scan(images), 0.4, seed=7)
  assert result.num_images == 6
  assert list(result.labels) == list(held_out.labels)
  # With TTA the reference averages the ten views of multi_crop.
  np.testing.assert_allclose(
      result.probabilities,
      direct_probabilities(train_dir, held_out.paths, multi_crop=tta),
      atol=1e-5)


def test_report_states_the_scores(trained):
  images, train_dir = trained
  result = evaluation.evaluate(train_dir, images)
  lines = evaluation.report(result).splitlines()
  correct = int(np.sum(np.argmax(result.probabilities, 1) == result.labels))
  assert lines[:3] == ['images: 15',
                       'top-1 accuracy: %.4f (%d/15)' % (correct / 15, correct),
                       'top-3 accuracy: 1.0000']


def test_evaluate_refuses_other_classes(trained, tmp_path):
  _, train_dir = trained
  other = write_grey_classes(str(tmp_path), [10, 20])
  with pytest.raises(ValueError, match='differ from the 3 classes the model '
                                       'was trained on'):
    evaluation.evaluate(train_dir, other)


def test_evaluate_needs_a_train_dir(trained, tmp_path):
  images, _ = trained
  with pytest.raises(ValueError, match='has no run.json'):
    evaluation.evaluate(str(tmp_path), images)


def test_the_validation_subset_of_a_run_without_one_points_to_all(
    tmp_path_factory):
  images = write_grey_classes(str(tmp_path_factory.mktemp('images')),
                              [30, 230], per_class=3)
  train_dir = str(tmp_path_factory.mktemp('run'))
  training.train(small_options(images, train_dir, max_steps=1))
  with pytest.raises(ValueError, match="subset='validation' needs a run that "
                     'held images out, but this one trained with '
                     'validation_split=0: evaluate subset=all'):
    evaluation.evaluate(train_dir, images, subset='validation')
  assert evaluation.evaluate(train_dir, images, subset='all').num_images == 6
