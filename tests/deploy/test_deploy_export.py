"""Export: calibration from the training split, and its one-line refusals."""

import json
import os
import subprocess
import sys
import time

import numpy as np
import pytest

from resnet_v2 import deploy
from resnet_v2.common import precision as precision_lib
from resnet_v2.data import image_folder
from resnet_v2.data import pipeline
from resnet_v2.deploy import calibration
from resnet_v2.deploy import engines
from resnet_v2.deploy import formats
from resnet_v2.training import run_dir

from deploy_runs import train_tiny


@pytest.fixture(scope='module')
def run(tmp_path_factory):
  """A tiny run that held a quarter of every class out for validation."""
  return train_tiny(tmp_path_factory, per_class=8, validation_split=0.25)


def _preprocessed(folder, record):
  """The evaluation view of every image of ``folder``, as an array."""
  dataset = pipeline.evaluation_dataset(folder, record['image_size'], 64,
                                        record['central_fraction'])
  return np.concatenate([batch.numpy() for batch, _ in dataset])


def _rows(images):
  """Each image as bytes, to test membership exactly."""
  return {image.tobytes() for image in images}


def test_calibration_uses_training_images_only_with_evaluation_views(run):
  data_dir, train_dir = run
  trained = run_dir.open_run(train_dir)
  record = trained.record
  folder = image_folder.scan(data_dir)
  training_split, validation_split = image_folder.split(
      folder, record['validation_split'], record['seed'])
  images, described = calibration.training_images(trained, data_dir,
                                                  count=1000)
  assert len(images) == len(training_split.paths) == 18
  assert _rows(images) == _rows(_preprocessed(training_split, record))
  assert not _rows(images) & _rows(_preprocessed(validation_split, record))
  assert described['subset'] == 'training' and described['images'] == 18
  fewer, _ = calibration.training_images(trained, data_dir, count=5)
  assert len(fewer) == 5 and _rows(fewer) <= _rows(images)


def test_a_combination_a_runtime_lacks_is_one_line_listing_what_works(run,
                                                                      tmp_path):
  _, train_dir = run
  finished = subprocess.run(
      [sys.executable, '-m', 'resnet_v2.export', '--train_dir=' + train_dir,
       '--export_dir=%s' % (tmp_path / 'out'), '--format=tflite',
       '--precision=bf16'],
      capture_output=True, text=True, timeout=300)
  assert finished.returncode == 2
  assert 'Traceback' not in finished.stderr
  errors = [line for line in finished.stderr.splitlines()
            if line.startswith('error:')]
  assert errors == [
      'error: format tflite does not support precision bf16; supported: '
      'saved_model (tf): fp32, bf16; tflite (litert): fp32, int8; onnx '
      '(onnxruntime): fp32, int8; openvino (openvino): fp32, bf16, int8.']
  assert not (tmp_path / 'out').exists()


def test_the_default_export_is_the_saved_model_with_a_manifest(run, tmp_path):
  _, train_dir = run
  export_dir = tmp_path / 'model'
  subprocess.run([sys.executable, '-m', 'resnet_v2.export',
                  '--train_dir=' + train_dir, '--export_dir=%s' % export_dir],
                 check=True, capture_output=True, timeout=300)
  manifest = json.loads((export_dir / 'model.json').read_text())
  assert (manifest['format'], manifest['precision']) == ('saved_model',
                                                         'fp32')
  assert (export_dir / 'saved_model.pb').is_file()
  assert (export_dir / 'labels.txt').read_text().splitlines() == [
      'class_0', 'class_1', 'class_2']


def test_int8_without_the_training_images_asks_for_data_dir(run, tmp_path):
  _, train_dir = run
  with pytest.raises(ValueError, match='precision=int8 calibrates on the '
                     'training images of the run: pass --data_dir'):
    deploy.export_model(train_dir, str(tmp_path / 'out'), 'tflite', 'int8')
  assert not (tmp_path / 'out').exists()


def test_a_non_empty_export_dir_is_left_alone(run, tmp_path):
  _, train_dir = run
  keep = tmp_path / 'keep.txt'
  keep.write_text('mine')
  with pytest.raises(ValueError, match='already exists and is not empty'):
    deploy.export_model(train_dir, str(tmp_path), 'onnx', 'fp32')
  assert os.listdir(tmp_path) == ['keep.txt'] and keep.read_text() == 'mine'


def test_a_missing_extra_names_the_pip_command(run, tmp_path, monkeypatch):
  _, train_dir = run
  find_spec = formats.importlib.util.find_spec
  monkeypatch.setattr(formats.importlib.util, 'find_spec',
                      lambda name: None if name == 'nncf' else find_spec(name))
  with pytest.raises(ValueError, match=r'format openvino needs nncf, which is '
                     r'not installed: pip install "resnet_v2\[openvino\]"'):
    deploy.export_model(train_dir, str(tmp_path / 'out'), 'openvino', 'fp32')


def test_bf16_on_a_cpu_without_it_is_refused(run, tmp_path, monkeypatch):
  _, train_dir = run
  monkeypatch.setattr(precision_lib, 'cpu_flags', set)
  monkeypatch.setattr(precision_lib, 'has_gpu', lambda: False)
  with pytest.raises(ValueError, match='needs a GPU or a CPU with '
                     'AVX512-BF16 or AMX'):
    deploy.export_model(train_dir, str(tmp_path / 'out'), 'openvino', 'bf16')


def test_a_failed_conversion_leaves_no_half_export(run, tmp_path,
                                                   monkeypatch):
  _, train_dir = run

  def fail(*args):
    del args
    raise RuntimeError('converter crashed')
  monkeypatch.setattr(engines, 'convert', fail)
  with pytest.raises(RuntimeError, match='converter crashed'):
    deploy.export_model(train_dir, str(tmp_path / 'out'), 'onnx', 'fp32')
  (tmp_path / 'mine').mkdir()
  with pytest.raises(RuntimeError, match='converter crashed'):
    deploy.export_model(train_dir, str(tmp_path / 'mine'), 'onnx', 'fp32')
  assert os.listdir(tmp_path) == ['mine']
  assert os.listdir(tmp_path / 'mine') == []


def test_an_empty_folder_the_user_made_receives_the_export(run, tmp_path):
  _, train_dir = run
  (tmp_path / 'model').mkdir()
  deploy.export_model(train_dir, str(tmp_path / 'model'))
  assert os.listdir(tmp_path) == ['model']
  assert {'labels.txt', 'model.json', 'saved_model.pb', 'variables'} <= set(
      os.listdir(tmp_path / 'model'))


def test_an_export_killed_midway_leaves_no_export_and_a_rerun_works(
    run, tmp_path):
  _, train_dir = run
  export_dir = tmp_path / 'model'
  command = [sys.executable, '-m', 'resnet_v2.export',
             '--train_dir=' + train_dir, '--export_dir=%s' % export_dir]
  process = subprocess.Popen(command, stdout=subprocess.DEVNULL,
                             stderr=subprocess.DEVNULL)
  try:
    deadline = time.monotonic() + 240
    while ('.model.partial' not in os.listdir(tmp_path) and
           process.poll() is None and time.monotonic() < deadline):
      time.sleep(0.01)
  finally:
    process.kill()
    process.wait(timeout=60)
  assert not export_dir.exists()
  assert os.listdir(tmp_path) == ['.model.partial']
  subprocess.run(command, check=True, capture_output=True, timeout=300)
  assert os.listdir(tmp_path) == ['model']
  assert (export_dir / 'saved_model.pb').is_file()
  assert json.loads((export_dir / 'model.json').read_text())['format'] == (
      'saved_model')


def test_an_export_dir_that_cannot_be_written_is_one_line(run, tmp_path,
                                                          monkeypatch):
  _, train_dir = run
  read_only = str(tmp_path / 'read_only')
  os.makedirs(read_only)
  real_access = os.access
  monkeypatch.setattr(os, 'access', lambda path, mode: (
      False if path == read_only else real_access(path, mode)))
  with pytest.raises(ValueError, match="export_dir '.*read_only/model' cannot "
                     r"be written \('.*read_only' is not writable\): pass a "
                     'folder you can write to'):
    deploy.export_model(train_dir, os.path.join(read_only, 'model'))
  assert os.listdir(read_only) == []
