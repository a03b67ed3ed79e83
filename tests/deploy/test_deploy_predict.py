"""Every format and precision predicts what its checkpoint predicts, and
refuses an export damaged or edited after it was written.

One tiny trained run is exported once per format and precision; the
oracles are the checkpoint's own evaluation (``training.evaluate``) and
the SavedModel's ``serving_default`` graph for the preprocessing. Damaged
exports are copies of those, damaged by the tests; their oracle is the
one-line refusal naming the file.
"""

import contextlib
import io
import json
import os
import shutil

import numpy as np
import pytest

from resnet_v2 import deploy
from resnet_v2 import training
from resnet_v2.common import cli
from resnet_v2.common import precision as precision_lib
from resnet_v2.deploy import formats

from deploy_runs import agreement
from deploy_runs import decoded_images
from deploy_runs import train_tiny
from image_sets import write_grey_classes

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
    with pytest.raises(ValueError, match='predict takes uint8 RGB images'):
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


# Damaged or edited exports: each is a copy of one of the exports above,
# damaged here; the oracle is the one-line refusal naming the file.

FP32_FORMATS = ['saved_model', 'tflite', 'onnx', 'openvino']
WEIGHTS_FILE = {'saved_model': 'variables/variables.data-00000-of-00001',
                'tflite': 'model.tflite', 'onnx': 'model.onnx',
                'openvino': 'model.bin'}


def _copy(exports, tmp_path, format_name, precision='fp32'):
  """A copy of one export, to damage."""
  copy = str(tmp_path / 'copy')
  shutil.copytree(exports[3][format_name, precision], copy)
  return copy


def _edit_manifest(folder, edit):
  """Rewrite ``folder``'s model.json after ``edit(manifest)``."""
  path = os.path.join(folder, 'model.json')
  with open(path) as f:
    manifest = json.load(f)
  edit(manifest)
  with open(path, 'w') as f:
    json.dump(manifest, f)


def _forget_checksums(folder):
  """Make ``folder`` look like an export written before checksums."""
  _edit_manifest(folder, lambda manifest: manifest.pop('files'))


def _truncate(path):
  """Cut the file at ``path`` to half its size."""
  with open(path, 'r+b') as f:
    f.truncate(os.path.getsize(path) // 2)


def _load_error(folder):
  """The message ``deploy.load(folder)`` refuses it with."""
  with pytest.raises(ValueError) as error:
    deploy.load(folder)
  return str(error.value)


@pytest.mark.parametrize('format_name', FP32_FORMATS)
def test_a_truncated_model_file_is_refused_naming_it(exports, tmp_path,
                                                     format_name):
  copy = _copy(exports, tmp_path, format_name)
  path = os.path.join(copy, WEIGHTS_FILE[format_name])
  size = os.path.getsize(path)
  _truncate(path)
  assert _load_error(copy).startswith(
      "%r is %d bytes; the export wrote %d: it was truncated or replaced "
      'after the export; export again: python -m resnet_v2.export '
      '--train_dir=' % (path, size // 2, size))


@pytest.mark.parametrize('format_name', FP32_FORMATS)
def test_a_model_file_changed_in_place_fails_its_checksum(exports, tmp_path,
                                                          format_name):
  copy = _copy(exports, tmp_path, format_name)
  path = os.path.join(copy, WEIGHTS_FILE[format_name])
  with open(path, 'r+b') as f:
    f.seek(os.path.getsize(path) // 2)
    byte = f.read(1)
    f.seek(-1, os.SEEK_CUR)
    f.write(bytes([byte[0] ^ 0xFF]))
  assert _load_error(copy).startswith(
      '%r does not match the SHA-256 model.json recorded: it was changed or '
      'replaced (another model?) after the export' % path)


@pytest.mark.parametrize('format_name', ['tflite', 'onnx', 'openvino'])
def test_a_model_file_swapped_for_another_exports_is_refused(
    exports, tmp_path, format_name):
  copy = _copy(exports, tmp_path, format_name)
  name = WEIGHTS_FILE[format_name]
  shutil.copy(os.path.join(exports[3][format_name, 'int8'], name),
              os.path.join(copy, name))
  assert 'after the export; export again' in _load_error(copy)
  assert _load_error(copy).startswith(repr(os.path.join(copy, name)))


@pytest.mark.parametrize('format_name', FP32_FORMATS)
def test_an_export_written_before_checksums_still_loads(exports, tmp_path,
                                                        format_name):
  data_dir, _, expected, _ = exports
  copy = _copy(exports, tmp_path, format_name)
  _forget_checksums(copy)
  probabilities, _, _ = deploy.load(copy).predict(decoded_images(data_dir))
  np.testing.assert_allclose(probabilities, expected, atol=1e-5)


@pytest.mark.parametrize('format_name', FP32_FORMATS)
def test_without_checksums_a_truncated_model_file_is_one_the_runtime_refuses(
    exports, tmp_path, format_name):
  copy = _copy(exports, tmp_path, format_name)
  _forget_checksums(copy)
  _truncate(os.path.join(copy, WEIGHTS_FILE[format_name]))
  message = _load_error(copy)
  runtime = {'saved_model': 'TensorFlow', 'tflite': 'LiteRT',
             'onnx': 'ONNX Runtime', 'openvino': 'OpenVINO'}[format_name]
  assert ' cannot be read by %s (' % runtime in message
  assert message.startswith("'%s" % copy)
  assert '\n' not in message


def _with(**settings):
  """An edit of model.json's top level or its preprocessing settings."""
  def edit(manifest):
    for key, value in settings.items():
      if key == 'image_size':
        manifest['preprocessing']['image_size'] = value
      else:
        manifest[key] = value
  return edit


EDITS = {
    'unknown-format': (_with(format='pt'), "names format 'pt', which is none "
                       'of saved_model, tflite, onnx, openvino'),
    'unknown-precision': (_with(precision='int4'), "names precision 'int4', "
                          'which format tflite does not have (it has fp32, '
                          'int8)'),
    'another-model-file': (_with(model_file='model.onnx'), "names model file "
                           "'model.onnx', but a tflite export holds "
                           'model.tflite'),
    'another-image-size': (_with(image_size=64), 'gives image_size 64 but an '
                           'input of shape [None, 32, 32, 3]'),
    'no-class-names': (_with(class_names=[]), 'has no list of class names'),
}


@pytest.mark.parametrize('edit_id', sorted(EDITS))
def test_an_edited_model_json_is_refused_naming_it(exports, tmp_path,
                                                   edit_id):
  copy = _copy(exports, tmp_path, 'tflite')
  edit, what = EDITS[edit_id]
  _edit_manifest(copy, edit)
  assert _load_error(copy).startswith(
      '%r %s: it was edited or damaged after the export; restore it, or '
      'export again: python -m resnet_v2.export --train_dir='
      % (os.path.join(copy, 'model.json'), what))


@pytest.mark.parametrize('format_name', ['saved_model', 'onnx'])
def test_another_input_size_throughout_model_json_is_refused_by_the_model(
    exports, tmp_path, format_name):
  copy = _copy(exports, tmp_path, format_name)
  def edit(manifest):
    manifest['preprocessing']['image_size'] = 64
    if format_name != 'saved_model':
      manifest['input']['shape'] = [None, 64, 64, 3]
  _edit_manifest(copy, edit)
  assert _load_error(copy).startswith(
      '%r takes 32x32 inputs, but model.json gives image_size 64'
      % os.path.join(copy, 'saved_model.pb' if format_name == 'saved_model'
                     else 'model.onnx'))


def test_classes_added_to_model_json_alone_disagree_with_labels_txt(
    exports, tmp_path):
  copy = _copy(exports, tmp_path, 'onnx')
  _edit_manifest(copy, lambda manifest: manifest['class_names'].append('dog'))
  assert _load_error(copy).startswith(
      '%r lists 3 classes, model.json 4, and they differ (first difference: '
      "line 4); the model predicts model.json's"
      % os.path.join(copy, 'labels.txt'))


def test_classes_added_to_model_json_and_labels_txt_disagree_with_the_model(
    exports, tmp_path):
  copy = _copy(exports, tmp_path, 'openvino')
  _edit_manifest(copy, lambda manifest: manifest['class_names'].append('dog'))
  with open(os.path.join(copy, 'labels.txt'), 'a') as f:
    f.write('dog\n')
  assert _load_error(copy).startswith(
      '%r scores 3 classes, but model.json and labels.txt name 4'
      % os.path.join(copy, 'model.xml'))


def test_a_missing_labels_txt_is_refused_naming_it(exports, tmp_path):
  copy = _copy(exports, tmp_path, 'saved_model')
  os.remove(os.path.join(copy, 'labels.txt'))
  assert _load_error(copy).startswith(
      '%r is missing: an export holds its class names there'
      % os.path.join(copy, 'labels.txt'))


def test_a_reordered_labels_txt_is_refused_naming_it(exports, tmp_path):
  copy = _copy(exports, tmp_path, 'tflite')
  with open(os.path.join(copy, 'labels.txt'), 'w') as f:
    f.write('class_1\nclass_0\nclass_2\n')
  assert _load_error(copy).startswith(
      '%r lists the classes of model.json in another order (first '
      'difference: line 1)' % os.path.join(copy, 'labels.txt'))


@pytest.mark.parametrize('text,what', [
    ('{"format": "tflite", "precis', 'is not valid JSON'),
    ('["tflite"]', 'holds a JSON list, not the object an export writes')])
def test_a_model_json_that_is_not_an_object_is_refused_naming_it(
    exports, tmp_path, text, what):
  copy = _copy(exports, tmp_path, 'tflite')
  with open(os.path.join(copy, 'model.json'), 'w') as f:
    f.write(text)
  assert _load_error(copy).startswith(
      '%r %s' % (os.path.join(copy, 'model.json'), what))


def _evaluate(arguments):
  """``python -m resnet_v2.evaluate`` run here through ``cli.run``:
  ``(status, stdout, stderr)``."""
  from resnet_v2 import evaluate
  stdout, stderr = io.StringIO(), io.StringIO()
  try:
    with contextlib.redirect_stdout(stdout), contextlib.redirect_stderr(stderr):
      cli.run(evaluate.main, evaluate.FLAGS, evaluate.__doc__,
              argv=['evaluate'] + arguments)
  except SystemExit as exit_info:
    status = exit_info.code
  finally:
    evaluate.FLAGS.unparse_flags()
  return status, stdout.getvalue(), stderr.getvalue()


def test_evaluate_refuses_a_damaged_export_before_scoring(exports, tmp_path):
  data_dir = exports[0]
  copy = _copy(exports, tmp_path, 'onnx')
  path = os.path.join(copy, 'model.onnx')
  _truncate(path)
  status, out, err = _evaluate(['--model_path=' + copy,
                                '--data_dir=' + data_dir])
  assert (status, out) == (2, '')
  assert len(err.splitlines()) == 1
  assert err.startswith('error: %r is ' % path)


def test_evaluate_refuses_a_folder_of_other_classes_with_a_table_of_both(
    exports, tmp_path):
  folders = exports[3]
  other = write_grey_classes(str(tmp_path / 'other'), (30, 130), per_class=1)
  os.rename(os.path.join(other, 'class_1'), os.path.join(other, 'class_2'))
  status, out, err = _evaluate(['--model_path=' + folders['tflite', 'fp32'],
                                '--data_dir=' + other])
  assert (status, out) == (2, '')
  assert err.splitlines() == [
      'error: the 2 class folders of data_dir %r are not the 3 classes of the '
      'export %r, so nothing was scored: evaluate on a folder with one '
      'subfolder per class of the export, named as in its labels.txt.'
      % (other, folders['tflite', 'fp32']),
      'label  export   data_dir',
      '-----  -------  --------  -------',
      '0      class_0  class_0',
      '1      class_1  class_2   differs',
      '2      class_2  -         differs']


# Input surface: what predict is given, the one error it gives, and the
# advice followed. The oracle is the prediction of the uint8 images the
# bad input was made from.

SOURCE = np.random.RandomState(5).randint(0, 256, (2, 20, 24, 3)).astype(
    np.uint8)
ALPHA = np.full(SOURCE.shape[:-1] + (1,), 255, np.uint8)
# id: (a function making the bad input, what the message says it is,
# whether following the advice gives back SOURCE exactly).
BAD_INPUTS = {
    'float64-in-0-1': (lambda: SOURCE / 255.0, 'float64 pixels in [0', True),
    'float32-in-0-255': (lambda: SOURCE.astype(np.float32),
                         'float32 pixels in [', True),
    'float-in-minus-1-1': (lambda: SOURCE / 127.5 - 1, 'float64 pixels in [-',
                           True),
    'python-list': (SOURCE.tolist, 'is a list of 2 images with int64 pixels',
                    True),
    'uint16': (lambda: SOURCE.astype(np.uint16) * 257, 'uint16 pixels in [',
               True),
    'rgba': (lambda: np.concatenate([SOURCE, ALPHA], -1),
             '(2, 20, 24, 4) with 4 channels', True),
    'channels-first': (lambda: np.moveaxis(SOURCE, -1, -3),
                       '(2, 3, 20, 24) with channels first', True),
    'one-channel': (lambda: SOURCE[..., :1], '(2, 20, 24, 1) with 1 channel',
                    False),
    'rank-2': (lambda: SOURCE[0, ..., 0],
               'is one (20, 24) array (a grey image?)', False),
    'a-list-with-one-float-image': (
        lambda: [SOURCE[0], SOURCE[1] / 255.0],
        'is a list whose item 1 has shape (20, 24, 3) with float64 pixels',
        True),
}
NO_ADVICE = {
    'empty-batch': (np.zeros((0, 8, 8, 3), np.uint8),
                    'is an empty batch (0, 8, 8, 3)'),
    'empty-list': ([], 'is an empty list'),
    'nan': (np.full((8, 8, 3), np.nan), 'pixels that are NaN or infinite'),
    'rank-5': (SOURCE[np.newaxis], 'has shape (1, 2, 20, 24, 3)'),
    'a-path': ('cat.jpg', 'is a str, not an array of numbers'),
}
USAGE = ('predict takes uint8 RGB images: one [height, width, 3] array, a '
         '[batch, height, width, 3] array or a list of [height, width, 3] '
         'arrays')


@pytest.fixture(scope='module')
def predictors(exports):
  """A predictor of each fp32 export, loaded once for the input tests."""
  return {name: deploy.load(exports[3][name, 'fp32'])
          for name in ('tflite', 'saved_model', 'onnx')}


def _follow(advice, images):
  """``images`` after the advice ('pass EXPR' or 'set ITEM = EXPR')."""
  scope = {'np': np, 'images': images}
  if advice.startswith('pass '):
    return eval(advice[len('pass '):], scope)  # noqa: S307 - the advice
  exec(advice[len('set '):], scope)  # noqa: S102 - the advice itself
  return scope['images']


def _refusal(predictor, images):
  """The message ``predictor.predict(images)`` refuses ``images`` with."""
  with pytest.raises(ValueError) as error:
    predictor.predict(images)
  return str(error.value)


@pytest.mark.parametrize('format_name', ['tflite', 'saved_model'])
@pytest.mark.parametrize('case_id', sorted(BAD_INPUTS))
def test_a_bad_input_says_what_it_is_and_the_advice_works(
    predictors, format_name, case_id):
  make, given, exact = BAD_INPUTS[case_id]
  images = make()
  predictor = predictors[format_name]
  message = _refusal(predictor, images)
  assert message.startswith('images ') and given in message
  assert USAGE in message and '\n' not in message
  advice = message[message.index(USAGE) + len(USAGE) + 2:-1]
  followed = _follow(advice, images)
  probabilities = predictor.predict(followed)[0]
  rows = 1 if np.ndim(followed) == 3 else len(followed)
  assert probabilities.shape == (rows, 3)
  if exact:
    np.testing.assert_array_equal(np.asarray(followed), SOURCE)
    np.testing.assert_allclose(probabilities, predictor.predict(SOURCE)[0],
                               atol=1e-6)


@pytest.mark.parametrize('case_id', sorted(NO_ADVICE))
def test_an_input_no_expression_can_fix_is_refused_saying_what_it_is(
    predictors, case_id):
  images, given = NO_ADVICE[case_id]
  message = _refusal(predictors['onnx'], images)
  assert message.startswith('images ') and given in message
  assert message.endswith(': %s.' % USAGE)


def test_a_model_file_with_a_fixed_batch_pads_smaller_ones_and_slices_larger(
    exports, predictors, tmp_path):
  import onnx
  from resnet_v2.deploy import integrity
  copy = _copy(exports, tmp_path, 'onnx')
  path = os.path.join(copy, 'model.onnx')
  model = onnx.load(path)
  model.graph.input[0].type.tensor_type.shape.dim[0].dim_value = 2
  onnx.save(model, path)
  _edit_manifest(copy, lambda manifest: manifest.update(
      files=integrity.file_records(copy)))
  images = np.concatenate([SOURCE, SOURCE[:1]])
  expected = predictors['onnx'].predict(images)[0]
  predictor = deploy.load(copy)
  assert predictor.model_input_shape == [2, 32, 32, 3]
  np.testing.assert_allclose(predictor.predict(images[:1])[0], expected[:1],
                             atol=1e-6)
  message = _refusal(predictor, images)
  assert message.startswith(
      "images is a batch of 3, but %r takes at most 2 at a time (its batch "
      'is fixed): predict in slices, e.g. ' % path)
  sliced = eval(message.split('e.g. ')[1],  # noqa: S307 - the advice
                {'np': np, 'images': images, 'predictor': predictor})
  np.testing.assert_allclose(sliced, expected, atol=1e-6)
