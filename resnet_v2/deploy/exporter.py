"""Export a trained run in any format and precision, with its manifest.

  manifest = export_model('runs/photos', 'models/photos_int8',
                          format='openvino', precision='int8',
                          data_dir='photos', calibration_images=300)

Every export folder holds the model, ``labels.txt`` and ``model.json``
(see ``manifest``). ``saved_model`` is the TensorFlow export with its
preprocessing and two signatures; the other formats hold the float32 (or
int8) net alone, fed preprocessed images by ``deploy.load``.
"""

import contextlib
import os
import shutil
import tempfile

from resnet_v2.deploy import calibration as calibration_lib
from resnet_v2.deploy import engines
from resnet_v2.deploy import formats
from resnet_v2.deploy import frozen
from resnet_v2.deploy import manifest as manifest_lib
from resnet_v2.training import run_dir
from resnet_v2.training import saved_model

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
  os.makedirs(export_dir, exist_ok=True)
  engines.convert(format_name, net, precision, calibration, export_dir)
  return {'name': frozen.INPUT_NAME + ':0', 'shape': net.input_shape,
          'dtype': 'float32'}


def _staging_dir(export_dir):
  """A new sibling folder of ``export_dir`` to write the export into."""
  parent = os.path.dirname(os.path.abspath(export_dir))
  os.makedirs(parent, exist_ok=True)
  return tempfile.mkdtemp(
      prefix='.%s.partial-' % os.path.basename(os.path.abspath(export_dir)),
      dir=parent)


@contextlib.contextmanager
def _complete_or_absent(export_dir):
  """Yield a staging folder; on success it becomes ``export_dir`` at once.

  The export is written beside ``export_dir`` and renamed into place only
  when every file is there, so ``export_dir`` never holds half an export:
  a failure removes the staging folder, and a ``kill -9`` leaves at most a
  hidden ``.<name>.partial-*`` folder beside it. An empty ``export_dir``
  given by the user is replaced by the rename (POSIX renames a folder
  over an empty one).
  """
  staging = _staging_dir(export_dir)
  try:
    yield staging
    os.chmod(staging, 0o777 & ~_umask())
    try:
      os.rename(staging, export_dir)
    except OSError as error:
      raise ValueError(
          'export_dir %r was filled by something else during the export '
          '(%s); nothing was overwritten: pass a new folder.'
          % (export_dir, error.strerror)) from None
  except BaseException:
    shutil.rmtree(staging, ignore_errors=True)
    raise


def _umask():
  """The process's file-mode creation mask (reading it means setting it)."""
  mask = os.umask(0o022)
  os.umask(mask)
  return mask


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
      not installed, a missing run or checkpoint, a non-empty export_dir,
      or int8 without data_dir.
  """
  spec = formats.check_supported(format, precision)
  formats.require_runtime(spec)
  trained = run_dir.open_run(train_dir, checkpoint_path)
  saved_model.check_export_dir(export_dir)
  images, described = _calibration(trained, precision, data_dir,
                                   calibration_images)
  with _complete_or_absent(export_dir) as staging:
    model_input = _write_model(trained, format, precision, images, staging)
    manifest = _manifest(trained, spec, format, precision, model_input,
                         described)
    manifest_lib.write(staging, manifest)
  return manifest


def _manifest(trained, spec, format_name, precision, model_input,
              calibration_described):
  """The ``model.json`` record of an export (see ``manifest``)."""
  return {
      'format': format_name, 'precision': precision,
      'runtime': spec.runtime,
      'model_file': ('saved_model.pb' if format_name == 'saved_model'
                     else engines.model_file(format_name)),
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
