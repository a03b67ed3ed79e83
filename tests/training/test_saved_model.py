"""Export: a SavedModel that plain TF2 eager code runs without this package."""

import json
import os
import subprocess
import sys

import numpy as np
import pytest
import tensorflow as tf

from resnet_v2.training import evaluation
from resnet_v2.data import image_folder
from resnet_v2.training import saved_model
from resnet_v2 import training

from image_sets import small_options
from image_sets import write_grey_classes

# Runs in a fresh interpreter that imports TensorFlow only.
LOAD_AND_PREDICT = r'''
import json, sys
import tensorflow as tf
model = tf.saved_model.load(sys.argv[1])
image = tf.io.decode_png(tf.io.read_file(sys.argv[2]), channels=3)[tf.newaxis]
uint8_out = model.signatures['serving_default'](images=image)
float_out = model.signatures['serving_float'](
    images=tf.cast(image, tf.float32) / 255.0)
print(json.dumps({
    'uint8': {k: v.numpy().tolist() for k, v in uint8_out.items()
              if k != 'class_names'},
    'float_probabilities': float_out['probabilities'].numpy().tolist(),
    'class_names': [n.decode() for n in uint8_out['class_names'].numpy()],
    'foreign_modules': sorted(m for m in sys.modules
                              if m.split('.')[0] in ('tf_slim', 'resnet_v2')),
}))
'''


@pytest.fixture(scope='module')
def exported(tmp_path_factory):
  """A short run exported with ``python -m resnet_v2.export``."""
  images = write_grey_classes(str(tmp_path_factory.mktemp('images')),
                              [30, 130, 230])
  train_dir = str(tmp_path_factory.mktemp('run'))
  training.train(small_options(images, train_dir, max_steps=3))
  export_dir = str(tmp_path_factory.mktemp('export') / 'model')
  subprocess.run([sys.executable, '-m', 'resnet_v2.export',
                  '--train_dir=' + train_dir, '--export_dir=' + export_dir],
                 check=True, capture_output=True, timeout=300)
  return images, train_dir, export_dir


def test_plain_tf2_runs_the_export_and_agrees_with_evaluation(exported,
                                                               tmp_path):
  images, train_dir, export_dir = exported
  path = os.path.join(images, 'class_1', '2.png')
  finished = subprocess.run(
      [sys.executable, '-c', LOAD_AND_PREDICT, export_dir, path],
      capture_output=True, text=True, timeout=300, cwd=str(tmp_path),
      env=dict(os.environ, TF_CPP_MIN_LOG_LEVEL='2'), check=True)
  served = json.loads(finished.stdout.strip().splitlines()[-1])
  assert served['foreign_modules'] == []

  scores = evaluation.evaluate(train_dir, images)
  expected = scores.probabilities[image_folder.scan(images).paths.index(path)]
  np.testing.assert_allclose(served['uint8']['probabilities'][0], expected,
                             atol=1e-5)
  np.testing.assert_allclose(served['float_probabilities'][0], expected,
                             atol=1e-5)
  assert served['uint8']['classes'] == [int(np.argmax(expected))]
  assert served['class_names'] == ['class_%d' % np.argmax(expected)]


def test_the_class_names_are_written_beside_the_model(exported):
  _, _, export_dir = exported
  with open(os.path.join(export_dir, saved_model.LABELS_FILE)) as f:
    assert f.read().splitlines() == ['class_0', 'class_1', 'class_2']


def test_export_never_writes_into_a_non_empty_folder(exported, tmp_path):
  _, train_dir, _ = exported
  keep = tmp_path / 'keep.txt'
  keep.write_text('mine')
  with pytest.raises(ValueError, match='already exists and is not empty'):
    saved_model.export_saved_model(train_dir, str(tmp_path))
  assert os.listdir(tmp_path) == ['keep.txt'] and keep.read_text() == 'mine'


@pytest.mark.parametrize('pixels, message', [
    (np.full([1, 40, 40, 3], np.nan, np.float32), 'hold NaN or infinite'),
    (np.full([1, 40, 40, 3], 1.5, np.float32), r'must be in \[0, 1\]'),
    (np.full([1, 40, 40, 3], 255.0, np.float32), 'divide uint8 pixels by'),
    (np.zeros([0, 40, 40, 3], np.float32), 'empty batch'),
])
def test_the_float_signature_refuses_what_it_cannot_score(exported, pixels,
                                                          message):
  _, _, export_dir = exported
  serve = tf.saved_model.load(export_dir).signatures['serving_float']
  with pytest.raises(tf.errors.InvalidArgumentError, match=message):
    serve(images=tf.constant(pixels))


def test_the_advice_for_uint8_pixels_works(exported):
  _, _, export_dir = exported
  model = tf.saved_model.load(export_dir)
  pixels = np.random.default_rng(0).integers(0, 256, [2, 40, 40, 3],
                                             dtype=np.uint8)
  as_float = model.signatures['serving_float'](
      images=tf.constant(pixels / 255.0, tf.float32))
  as_uint8 = model.signatures['serving_default'](images=tf.constant(pixels))
  np.testing.assert_allclose(as_float['probabilities'],
                             as_uint8['probabilities'], atol=1e-5)
  with pytest.raises(tf.errors.InvalidArgumentError, match='empty batch'):
    model.signatures['serving_default'](
        images=tf.zeros([0, 40, 40, 3], tf.uint8))
