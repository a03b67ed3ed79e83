"""Every format and precision predicts what its checkpoint predicts.

One tiny trained run is exported once per format and precision; the
oracles are the checkpoint's own evaluation (``training.evaluate``) and
the SavedModel's ``serving_default`` graph for the preprocessing.
"""

import json
import os
import shutil

import numpy as np
import pytest

from resnet_v2 import deploy
from resnet_v2 import training
from resnet_v2.common import precision as precision_lib
from resnet_v2.deploy import formats

from deploy_runs import agreement
from deploy_runs import decoded_images
from deploy_runs import train_tiny

CALIBRATION_IMAGES = 8
COMBINATIONS = [(spec.name, precision)
                for spec in formats.FORMATS.values()
                for precision in spec.precisions
                if precision != 'bf16' or precision_lib.cpu_supports_bf16()]
IDS = ['%s-%s' % combination for combination in COMBINATIONS]


@pytest.fixture(scope='module')
def exports(tmp_path_factory):
  """The run, its images, their checkpoint probabilities, and every export."""
  data_dir, train_dir = train_tiny(tmp_path_factory)
  folders = {}
  for format_name, precision in COMBINATIONS:
    folder = str(tmp_path_factory.mktemp('export') / 'model')
    deploy.export_model(train_dir, folder, format_name, precision,
                        data_dir=data_dir,
                        calibration_images=CALIBRATION_IMAGES)
    folders[format_name, precision] = folder
  expected = training.evaluate(train_dir, data_dir).probabilities
  return data_dir, train_dir, expected, folders


@pytest.mark.parametrize('format_name,precision', COMBINATIONS, ids=IDS)
def test_every_export_predicts_what_the_checkpoint_predicts(
    exports, format_name, precision):
  data_dir, _, expected, folders = exports
  predictor = deploy.load(folders[format_name, precision])
  probabilities, classes, names = predictor.predict(decoded_images(data_dir))
  assert probabilities.shape == expected.shape
  np.testing.assert_array_equal(classes, np.argmax(probabilities, axis=1))
  assert list(names) == ['class_%d' % c for c in classes]
  if precision == 'fp32':
    np.testing.assert_allclose(probabilities, expected, atol=1e-5)
  else:
    assert agreement(probabilities, expected) >= 0.8
    assert np.max(np.abs(probabilities - expected)) < 0.25


@pytest.mark.parametrize('format_name,precision', COMBINATIONS, ids=IDS)
def test_model_json_says_what_the_export_is(exports, format_name, precision):
  data_dir, train_dir, _, folders = exports
  folder = folders[format_name, precision]
  with open(os.path.join(folder, 'model.json')) as f:
    manifest = json.load(f)
  assert (manifest['format'], manifest['precision']) == (format_name,
                                                         precision)
  assert manifest['runtime'] == formats.FORMATS[format_name].runtime
  assert os.path.isfile(os.path.join(folder, manifest['model_file']))
  if format_name == 'saved_model':
    assert manifest['input'] == {'name': 'images', 'dtype': 'uint8',
                                 'shape': [None, None, None, 3],
                                 'signature': 'serving_default'}
  else:
    assert manifest['input'] == {'name': 'images:0', 'dtype': 'float32',
                                 'shape': [None, 32, 32, 3]}
  settings = manifest['preprocessing']
  assert (settings['image_size'], settings['value_range'],
          settings['inside_model']) == (32, [-1.0, 1.0],
                                        format_name == 'saved_model')
  assert manifest['class_names'] == ['class_0', 'class_1', 'class_2']
  with open(os.path.join(folder, 'labels.txt')) as f:
    assert f.read().splitlines() == manifest['class_names']
  run = training.open_run(train_dir)
  assert manifest['run_dir'] == os.path.abspath(train_dir)
  assert manifest['checkpoint'] == os.path.abspath(run.checkpoint)
  assert manifest['model'] == 'resnet_v2_18'
  if precision == 'int8':
    assert manifest['calibration'] == {
        'images': CALIBRATION_IMAGES, 'data_dir': os.path.abspath(data_dir),
        'subset': 'training', 'seed': run.record['seed'],
        'preprocessing': 'evaluation'}
  else:
    assert manifest['calibration'] is None


@pytest.mark.parametrize('format_name', ['tflite', 'onnx', 'openvino'])
def test_any_image_size_is_preprocessed_like_serving_default(exports,
                                                             format_name):
  _, _, _, folders = exports
  rng = np.random.RandomState(3)
  batch = rng.randint(0, 256, (2, 40, 56, 3)).astype(np.uint8)
  mixed = [batch[0], rng.randint(0, 256, (20, 23, 3)).astype(np.uint8)]
  served = deploy.load(folders['saved_model', 'fp32'])
  predictor = deploy.load(folders[format_name, 'fp32'])
  for images in (batch, mixed, batch[0]):
    np.testing.assert_allclose(predictor.predict(images)[0],
                               served.predict(images)[0], atol=1e-5)


def test_predict_refuses_images_that_are_not_uint8_rgb(exports):
  _, _, _, folders = exports
  predictor = deploy.load(folders['tflite', 'fp32'])
  for images in (np.zeros((1, 8, 8, 3), np.float32),
                 np.zeros((8, 8, 4), np.uint8), np.zeros((8, 8), np.uint8),
                 []):
    with pytest.raises(ValueError, match='images must be uint8 RGB'):
      predictor.predict(images)


def test_a_folder_without_an_export_is_one_clear_error(tmp_path):
  with pytest.raises(ValueError, match='holds no model.json: pass a folder '
                     'written by python -m resnet_v2.export'):
    deploy.load(str(tmp_path))


def test_a_missing_model_file_is_one_clear_error(exports, tmp_path):
  _, _, _, folders = exports
  copy = str(tmp_path / 'copy')
  shutil.copytree(folders['tflite', 'fp32'], copy)
  os.remove(os.path.join(copy, 'model.tflite'))
  with pytest.raises(ValueError, match='has no model.tflite'):
    deploy.load(copy)


def test_a_model_of_another_format_is_one_clear_error(exports, tmp_path):
  _, _, _, folders = exports
  copy = str(tmp_path / 'copy')
  shutil.copytree(folders['tflite', 'fp32'], copy)
  path = os.path.join(copy, 'model.json')
  with open(path) as f:
    manifest = json.load(f)
  manifest.update(format='onnx', model_file='model.onnx')
  with open(path, 'w') as f:
    json.dump(manifest, f)
  with pytest.raises(ValueError, match='has no model.onnx'):
    deploy.load(copy)


def test_a_runtime_that_is_not_installed_names_the_pip_command(
    exports, monkeypatch):
  _, _, _, folders = exports
  find_spec = formats.importlib.util.find_spec
  monkeypatch.setattr(formats.importlib.util, 'find_spec',
                      lambda name: None if name == 'onnxruntime'
                      else find_spec(name))
  with pytest.raises(ValueError, match=r'format onnx needs onnxruntime, '
                     r'which is not installed: pip install '
                     r'"resnet_v2\[onnx\]"'):
    deploy.load(folders['onnx', 'fp32'])
