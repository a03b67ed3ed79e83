"""Export a trained run in any format and precision, with its manifest.

  manifest = export_model('runs/photos', 'models/photos_int8',
                          format='openvino', precision='int8',
                          data_dir='photos', calibration_images=300)

Every export folder holds the model, ``labels.txt`` and ``model.json``
(see ``manifest``), which records the size and SHA-256 of each model file
(``integrity``). ``saved_model`` is the TensorFlow export with its
preprocessing and two signatures; the other formats hold the float32 (or
int8) net alone, fed preprocessed images by ``deploy.load``.

The folder is complete or absent, whatever stops the export (``staging``),
and the converters' own output is held back unless they fail
(``held_output``).
"""

import os

from resnet_v2.deploy import calibration as calibration_lib
from resnet_v2.deploy import engines
from resnet_v2.deploy import formats
from resnet_v2.deploy import frozen
from resnet_v2.deploy import held_output
from resnet_v2.deploy import integrity
from resnet_v2.deploy import manifest as manifest_lib
from resnet_v2.deploy import staging
from resnet_v2.nets import analysis
from resnet_v2.training import run_dir
from resnet_v2.training import saved_model

# Bytes per parameter of a SavedModel: its float32 variables.
SAVED_MODEL_BYTES_PER_PARAMETER = 4
SAVED_MODEL_INPUT = {'name': 'images', 'shape': [None, None, None, 3],
                     'dtype': 'uint8',
                     'signature': saved_model.DEFAULT_SIGNATURE}


def _calibration(trained, precision, data_dir, count):
  """``(images, description)`` for int8, ``(None, None)`` otherwise."""
  if precision != 'int8':
    return None, None
  if not data_dir:
    raise ValueError(
        'precision=int8 calibrates on the training images of the run: pass '
        '--data_dir, the image folder %r was trained on.'
        % (trained.train_dir or 'a folder of ImageNet classes',))
  return calibration_lib.training_images(trained, data_dir, count)


def _write_model(trained, format_name, precision, calibration, export_dir):
  """Write the model file(s); return the manifest's input description."""
  if format_name == 'saved_model':
    saved_model.export_saved_model(trained.train_dir, export_dir,
                                   trained.checkpoint)
    return dict(SAVED_MODEL_INPUT)
  net = frozen.freeze_run(trained)
  engines.convert(format_name, net, precision, calibration, export_dir)
  return {'name': frozen.INPUT_NAME + ':0', 'shape': net.input_shape,
          'dtype': 'float32'}


def export_model(train_dir, export_dir, format='saved_model',  # noqa: A002
                 precision='fp32', data_dir=None,
                 calibration_images=calibration_lib.DEFAULT_COUNT,
                 checkpoint_path=None) -> dict:
  """Export ``train_dir``'s newest (or given) checkpoint to ``export_dir``.

  Args:
    train_dir: the folder a training run wrote.
    export_dir: a new or empty folder.
    format: 'saved_model', 'tflite', 'onnx' or 'openvino'.
    precision: 'fp32', 'bf16' or 'int8', as the format supports.
    data_dir: the image folder the run trained on; int8 calibrates on
      ``calibration_images`` images of its training split.
    calibration_images: how many images int8 calibrates on.
    checkpoint_path: a checkpoint prefix; the newest in train_dir if None.

  Returns:
    The manifest written as ``model.json``.

  Raises:
    ValueError: for an unsupported format and precision, a runtime that is
      not installed, a missing run or checkpoint, an export_dir that is
      not empty or cannot be made, another export writing
      to export_dir, int8 without data_dir, or a write that ran out of
      room (the message says how much the export needs).
  """
  spec = formats.check_supported(format, precision)
  formats.require_runtime(spec)
  trained = run_dir.open_run(train_dir, checkpoint_path)
  saved_model.check_export_dir(export_dir)
  with staging.complete_or_absent(export_dir) as folder:
    images, described = _calibration(trained, precision, data_dir,
                                     calibration_images)
    with held_output.held_back(), staging.write_failures_explained(
        export_dir, _space_needed(trained, format, precision)):
      model_input = _write_model(trained, format, precision, images, folder)
      manifest = _manifest(trained, spec, format, precision, model_input,
                           described)
      manifest['files'] = integrity.file_records(folder)
      manifest_lib.write(folder, manifest)
  return manifest


def _space_needed(trained, format_name, precision):
  """Roughly the bytes the export of ``trained`` takes while written."""
  parameters = analysis.describe(trained.record['model'],
                                 trained.record['image_size'],
                                 len(trained.class_names)).total_params
  if format_name == 'saved_model':
    return parameters * SAVED_MODEL_BYTES_PER_PARAMETER
  return parameters * engines.bytes_per_parameter(format_name, precision)


def _manifest(trained, spec, format_name, precision, model_input,
              calibration_described):
  """The ``model.json`` record of an export (see ``manifest``)."""
  return {
      'format': format_name, 'precision': precision,
      'runtime': spec.runtime,
      'model_file': integrity.expected_model_file(format_name),
      'input': model_input,
      'output': ('probabilities, classes, class_names'
                 if format_name == 'saved_model' else 'logits'),
      'preprocessing': manifest_lib.preprocessing(
          trained, inside_model=format_name == 'saved_model'),
      'class_names': trained.class_names,
      'calibration': calibration_described,
      'model': trained.record['model'],
      'run_dir': (os.path.abspath(trained.train_dir) if trained.train_dir
                  else None),
      'release': trained.record.get('release'),
      'checkpoint': os.path.abspath(trained.checkpoint),
  }
