"""Whether an export folder is still what ``export`` wrote.

  manifest['files'] = file_records(folder)    # at export time
  check_folder('models/photos', manifest)     # at load; ValueError if not

``model.json`` records the size and SHA-256 of every model file when the
export is written, so a file truncated, edited or swapped for another
model's no longer matches. ``model.json`` itself cannot carry its own
checksum, so it is checked against everything it must agree with: a
format and precision the package knows, that format's model file, its
own input shape, and ``labels.txt`` line for line; ``deploy.load`` then
compares the input size and class count with the model file's own. An
export written before checksums were recorded has no ``files`` entry and
is checked for the rest; its runtime's reading of the model file catches
most damage (``engines.open_engine``).

Each refusal is one ValueError naming the file and what to do.
"""

import hashlib
import os

from resnet_v2.deploy import engines
from resnet_v2.deploy import formats
from resnet_v2.deploy import manifest as manifest_lib

SAVED_MODEL_FILE = 'saved_model.pb'
_CHUNK = 1 << 20


def expected_model_file(format_name) -> str:
  """The model file ``model.json`` names for an export of ``format_name``."""
  if format_name == 'saved_model':
    return SAVED_MODEL_FILE
  return engines.model_file(format_name)


def _sha256(path):
  """The hex SHA-256 of the file at ``path``."""
  digest = hashlib.sha256()
  with open(path, 'rb') as f:
    for chunk in iter(lambda: f.read(_CHUNK), b''):
      digest.update(chunk)
  return digest.hexdigest()


def file_records(export_dir) -> dict:
  """``{path: {'bytes', 'sha256'}}`` of every model file in ``export_dir``.

  Paths are relative, with '/' between folders; ``model.json`` and
  ``labels.txt`` are checked in their own ways and not listed.
  """
  records = {}
  for root, dirs, names in os.walk(export_dir):
    dirs.sort()
    for name in sorted(names):
      path = os.path.join(root, name)
      relative = os.path.relpath(path, export_dir).replace(os.sep, '/')
      if relative in (manifest_lib.MANIFEST_FILE, manifest_lib.LABELS_FILE):
        continue
      records[relative] = {'bytes': os.path.getsize(path),
                           'sha256': _sha256(path)}
  return records


def export_again(manifest) -> str:
  """The command that writes a new export like the one ``manifest`` says."""
  words = ['python -m resnet_v2.export']
  for flag, key in (('train_dir', 'run_dir'), ('format', 'format'),
                    ('precision', 'precision')):
    if isinstance(manifest.get(key), str):
      words.append('--%s=%s' % (flag, manifest[key]))
  calibration = manifest.get('calibration')
  if isinstance(calibration, dict) and 'data_dir' in calibration:
    words.append('--data_dir=%s' % calibration['data_dir'])
  return ' '.join(words + ['--export_dir=NEW_FOLDER'])


def _edited(path, what, manifest):
  """The ValueError for a ``model.json`` at ``path`` that says ``what``."""
  return ValueError('%r %s: it was edited or damaged after the export; '
                    'restore it, or export again: %s'
                    % (path, what, export_again(manifest)))


_FIELDS = (('format', str), ('precision', str), ('model_file', str),
           ('input', dict), ('preprocessing', dict), ('class_names', list),
           ('checkpoint', str))


def _check_fields(path, manifest):
  """Raise unless ``manifest`` has the fields every reader relies on."""
  for key, kind in _FIELDS:
    if not isinstance(manifest.get(key), kind):
      raise _edited(path, 'has no %s %r' % (kind.__name__, key), manifest)
  if not manifest['class_names'] or not all(
      isinstance(name, str) for name in manifest['class_names']):
    raise _edited(path, 'has no list of class names', manifest)
  size = manifest['preprocessing'].get('image_size')
  if not isinstance(size, int) or isinstance(size, bool) or size < 1:
    raise _edited(path, 'has no image_size in its preprocessing', manifest)


def _check_format(path, manifest):
  """Raise unless the format, precision and model file belong together."""
  name, precision = manifest['format'], manifest['precision']
  if name not in formats.FORMATS:
    raise _edited(path, 'names format %r, which is none of %s'
                  % (name, ', '.join(formats.FORMATS)), manifest)
  if precision not in formats.FORMATS[name].precisions:
    raise _edited(path, 'names precision %r, which format %s does not have '
                  '(it has %s)' % (precision, name,
                                   ', '.join(formats.FORMATS[name].precisions)),
                  manifest)
  expected = expected_model_file(name)
  if manifest['model_file'] != expected:
    raise _edited(path, 'names model file %r, but a %s export holds %s'
                  % (manifest['model_file'], name, expected), manifest)


def _check_input(path, manifest):
  """Raise unless the input shape agrees with the preprocessing's size."""
  size = manifest['preprocessing']['image_size']
  shape = manifest['input'].get('shape')
  if manifest['format'] == 'saved_model' or shape == [None, size, size, 3]:
    return
  raise _edited(path, 'gives image_size %d but an input of shape %s'
                % (size, shape), manifest)


def _check_labels(export_dir, manifest):
  """Raise unless ``labels.txt`` lists the manifest's classes in order."""
  path = os.path.join(export_dir, manifest_lib.LABELS_FILE)
  again = export_again(manifest)
  if not os.path.isfile(path):
    raise ValueError('%r is missing: an export holds its class names there, '
                     'one per line in label order; restore it, or export '
                     'again: %s' % (path, again))
  with open(path, encoding='utf-8') as f:
    labels = f.read().splitlines()
  names = manifest['class_names']
  if labels == names:
    return
  if sorted(labels) == sorted(names):
    what = 'lists the classes of model.json in another order'
  else:
    what = 'lists %d classes, model.json %d, and they differ' % (
        len(labels), len(names))
  raise ValueError('%r %s (first difference: line %d); the model predicts '
                   "model.json's: restore it, or export again: %s"
                   % (path, what, _first_difference(labels, names) + 1, again))


def _first_difference(first, second):
  """The index of the first item where two lists differ."""
  return next((index for index, (a, b) in enumerate(zip(first, second))
               if a != b), min(len(first), len(second)))


def _check_files(export_dir, manifest):
  """Raise unless every recorded model file has its size and checksum."""
  for relative, record in sorted(manifest.get('files', {}).items()):
    path = os.path.join(export_dir, *relative.split('/'))
    again = export_again(manifest)
    if not os.path.isfile(path):
      raise ValueError('%r is missing, a model file model.json lists: '
                       'restore it, or export again: %s' % (path, again))
    size = os.path.getsize(path)
    if size != record['bytes']:
      raise ValueError('%r is %d bytes; the export wrote %d: it was '
                       'truncated or replaced after the export; export '
                       'again: %s' % (path, size, record['bytes'], again))
    if _sha256(path) != record['sha256']:
      raise ValueError("%r does not match the SHA-256 model.json recorded: "
                       'it was changed or replaced (another model?) after '
                       'the export; export again: %s' % (path, again))


def check_folder(export_dir, manifest) -> None:
  """Raise a ValueError if ``export_dir`` is not the export ``manifest``
  describes (see the module docstring for what is compared)."""
  path = os.path.join(export_dir, manifest_lib.MANIFEST_FILE)
  _check_fields(path, manifest)
  _check_format(path, manifest)
  _check_input(path, manifest)
  _check_labels(export_dir, manifest)
  model_file = os.path.join(export_dir, manifest['model_file'])
  if not os.path.isfile(model_file):
    raise ValueError('%r has no %s, the model file of its %s export: export '
                     'it again: %s' % (export_dir, manifest['model_file'],
                                       manifest['format'],
                                       export_again(manifest)))
  _check_files(export_dir, manifest)


def check_model_shapes(export_dir, manifest, input_shape, output_shape):
  """Raise unless the model file takes the manifest's input size and gives
  one score per class.

  ``input_shape`` is the ``[batch, height, width, 3]`` the model file
  takes after preprocessing (None for a free dimension), ``output_shape``
  its ``[batch, classes]``.
  """
  path = os.path.join(export_dir, manifest['model_file'])
  size = manifest['preprocessing']['image_size']
  classes = len(manifest['class_names'])
  if list(input_shape[1:]) != [size, size, 3]:
    raise ValueError(
        '%r takes %s inputs, but model.json gives image_size %d: one of '
        'them was swapped or edited after the export; export again: %s'
        % (path, 'x'.join(str(d) for d in input_shape[1:3]), size,
           export_again(manifest)))
  if output_shape[-1] != classes:
    raise ValueError(
        '%r scores %s classes, but model.json and labels.txt name %d: one '
        'of them was swapped or edited after the export; export again: %s'
        % (path, output_shape[-1], classes, export_again(manifest)))
