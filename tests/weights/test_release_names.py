"""A release's name where a checkpoint is taken: train, evaluate, export,
predict and classify with TF-Slim's weights, as a new user would.

The tiny release of ``tiny_release`` is put in an empty cache the way a
download by hand would be, so ``fetch`` finds it without a network.
"""

import os

import numpy as np
import pytest
import tensorflow.compat.v1 as tf

from resnet_v2 import deploy
from resnet_v2 import training
from resnet_v2 import weights
from resnet_v2.data import digits
from resnet_v2.data import preprocessing
from resnet_v2.nets import releases
from resnet_v2.training import run_dir
from resnet_v2.weights import __main__ as weights_command
from resnet_v2.weights import imagenet

import tiny_release
from image_sets import small_options
from image_sets import write_grey_classes

MODEL = tiny_release.MODEL
RELEASE = tiny_release.RELEASE


@pytest.fixture(scope='module')
def release(tmp_path_factory):
  """The archive's folder and the reference logits of its checkpoint."""
  folder = tmp_path_factory.mktemp('release')
  checkpoint = str(folder / RELEASE.checkpoint)
  logits = tiny_release.write_checkpoint(checkpoint)
  return tiny_release.write_archive(str(folder), checkpoint), logits


@pytest.fixture
def cached(release, weights_home):
  """The release in the cache, fetched from an archive placed by hand."""
  os.makedirs(weights_home)
  os.link(release[0], weights_home / RELEASE.archive)
  return weights.fetch(MODEL)


def write_image(path, level):
  """A flat 40x40 grey PNG."""
  os.makedirs(os.path.dirname(path), exist_ok=True)
  with open(path, 'wb') as f:
    f.write(digits.encode_grey_png(np.full((40, 40), level, np.uint8)))
  return path


def reference_probabilities(paths):
  """TF-Slim's net on the release's evaluation view of each image."""
  with tf.Graph().as_default():
    images = tf.stack([preprocessing.eval_image(
        tf.image.decode_png(tf.io.read_file(path), channels=3),
        RELEASE.inputs.image_size, RELEASE.inputs.central_fraction,
        RELEASE.inputs.value_range) for path in paths])
    probabilities = tf.nn.softmax(tiny_release.reference_logits_fn(images))
    with tf.Session() as session:
      tf.train.Saver().restore(session, weights.fetch(MODEL))
      return session.run(probabilities).reshape(len(paths), -1)


def test_imagenet_class_names_ship_with_the_package():
  v2 = weights.class_names(releases.get_release('resnet_v2_50'))
  v1 = weights.class_names(releases.get_release('resnet_v1_50'))
  assert len(v2) == 1001 and len(v1) == 1000
  assert v2[0] == 'background' and v2[1:] == v1
  assert v2[282] == v1[281] == 'tabby cat'
  assert imagenet.synsets()[281] == 'n02123045'
  assert len(set(v1)) == 1000


def test_vgg_preprocessing_is_the_mean_subtracted_range():
  pixels = np.array([[[0, 128, 255]]], np.uint8)
  mapped = preprocessing.to_model_range(
      preprocessing.to_unit_range(pixels), releases.VGG_INPUTS.value_range)
  np.testing.assert_allclose(
      mapped.numpy(), [[[-123.68, 128 - 116.78, 255 - 103.94]]], rtol=1e-5)


def test_fine_tuning_from_imagenet_takes_the_release_settings(cached,
                                                              tmp_path):
  photos = write_grey_classes(str(tmp_path / 'photos'), [40, 210])
  train_dir = str(tmp_path / 'run')
  result = training.train(small_options(
      photos, train_dir, model=MODEL, image_size=None, max_steps=1,
      checkpoint_path='imagenet',
      checkpoint_exclude_scopes=[MODEL + '/logits']))
  record = run_dir.require_run(train_dir)
  assert record['image_size'] == RELEASE.inputs.image_size
  assert record['value_range'] == [-1.0, 1.0]
  conv = MODEL + '/block4/unit_2/bottleneck_v2/conv1/weights'
  np.testing.assert_allclose(
      tf.train.load_checkpoint(result.checkpoint).get_tensor(conv),
      tf.train.load_checkpoint(cached).get_tensor(conv), atol=0.05)


def test_imagenet_for_a_model_without_a_release_is_refused(tmp_path):
  photos = write_grey_classes(str(tmp_path / 'photos'), [40, 210])
  with pytest.raises(ValueError, match="no released ImageNet weights for "
                     "'resnet_v2_18': TF-Slim released resnet_v2_50"):
    training.train(small_options(photos, str(tmp_path / 'run'),
                                 checkpoint_path='imagenet'))
  assert not os.path.exists(tmp_path / 'run')


def test_evaluate_scores_a_folder_of_imagenet_classes(cached, tmp_path):
  folder = tmp_path / 'val'
  paths = [write_image(str(folder / 'tabby cat' / '1.png'), 90),
           write_image(str(folder / 'n01440764' / '1.png'), 200)]
  result = training.evaluate(None, str(folder), checkpoint_path=MODEL)
  assert result.num_images == 2
  assert len(result.class_names) == 1001
  assert sorted(result.labels.tolist()) == [1, 282]
  order = np.argsort([os.path.basename(os.path.dirname(p)) for p in paths])
  np.testing.assert_allclose(result.probabilities,
                             reference_probabilities(paths)[order],
                             rtol=1e-4, atol=1e-6)
  report = training.evaluation.report(result)
  assert 'tabby cat' in report and 'tench' in report and 'goldfish' not in \
      report


def test_evaluate_names_folders_that_are_not_imagenet_classes(cached,
                                                              tmp_path):
  write_image(str(tmp_path / 'val' / 'my cat' / '1.png'), 90)
  with pytest.raises(ValueError, match='the class folders my cat of data_dir '
                     '.* are not ImageNet classes'):
    training.evaluate(None, str(tmp_path / 'val'), checkpoint_path=MODEL)


def test_an_export_of_the_release_predicts_imagenet_names(cached, tmp_path):
  export_dir = str(tmp_path / 'export')
  manifest = deploy.export_model(None, export_dir, checkpoint_path=MODEL)
  assert manifest['release'] == RELEASE.archive
  assert manifest['preprocessing']['image_size'] == RELEASE.inputs.image_size
  with open(os.path.join(export_dir, 'labels.txt')) as f:
    labels = f.read().splitlines()
  assert labels[0] == 'background' and labels[282] == 'tabby cat'
  path = write_image(str(tmp_path / 'photo.png'), 90)
  image = tf.image.decode_png(tf.io.read_file(path), channels=3).numpy()
  probabilities, classes, names = deploy.load(export_dir).predict(image)
  expected = reference_probabilities([path])
  np.testing.assert_allclose(probabilities, expected, rtol=1e-4, atol=1e-6)
  assert classes[0] == np.argmax(expected[0])
  assert names[0] == labels[classes[0]]


def test_classify_prints_the_likeliest_classes(cached, tmp_path, capsys):
  path = write_image(str(tmp_path / 'photo.png'), 90)
  assert weights_command.main(['classify', MODEL, path, '--top=3']) == 0
  lines = capsys.readouterr().out.splitlines()
  expected = reference_probabilities([path])[0]
  best = weights.class_names(RELEASE)[int(np.argmax(expected))]
  assert lines[0] == path
  assert lines[3].startswith(best + ' ')
  assert lines[3].endswith('%.4f' % expected.max())
  assert len(lines) == 6
