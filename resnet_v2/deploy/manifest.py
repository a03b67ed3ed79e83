"""``model.json`` and ``labels.txt``: what an export is and where it came from.

  write(export_dir, manifest)                # plus labels.txt
  manifest = read('models/photos_int8')      # dict; one-line error if absent
                                             # or not JSON
  manifest['format'], manifest['precision'], manifest['class_names']

The manifest is plain JSON so that code without this package can serve
the model too: it names the model file, the input tensor (name, shape,
dtype) and the preprocessing that turns an image into that input.
"""

import json
import os

MANIFEST_FILE = 'model.json'
LABELS_FILE = 'labels.txt'
PREPROCESSING_STEPS = (
    'uint8 pixels / 255 to [0, 1]; central crop keeping central_fraction of '
    'the height and width; bilinear resize to image_size x image_size; '
    'linear map of [0, 1] to value_range')


def preprocessing(trained, inside_model):
  """The preprocessing of a ``run_dir.TrainedRun``, as the manifest states it.

  ``inside_model`` says whether the model file does it itself (the
  SavedModel) or its caller must (every other format).
  """
  return {'image_size': trained.record['image_size'],
          'central_fraction': trained.record['central_fraction'],
          'value_range': list(trained.value_range), 'resize': 'bilinear',
          'steps': PREPROCESSING_STEPS, 'inside_model': inside_model}


def write(export_dir, manifest):
  """Write ``manifest`` as ``model.json`` and its class names as labels.txt."""
  with open(os.path.join(export_dir, MANIFEST_FILE), 'w',
            encoding='utf-8') as f:
    json.dump(manifest, f, indent=2)
    f.write('\n')
  with open(os.path.join(export_dir, LABELS_FILE), 'w',
            encoding='utf-8') as f:
    f.write(''.join(name + '\n' for name in manifest['class_names']))


def read(export_dir) -> dict:
  """The manifest of ``export_dir``, as written (``integrity`` checks it).

  Raises:
    ValueError: if ``export_dir`` is not a folder holding ``model.json``,
      or the file is not a JSON object.
  """
  path = os.path.join(export_dir or '', MANIFEST_FILE)
  if not os.path.isfile(path):
    raise ValueError('%r holds no %s: pass a folder written by python -m '
                     'resnet_v2.export.' % (export_dir, MANIFEST_FILE))
  with open(path, 'rb') as f:
    text = f.read()
  try:
    manifest = json.loads(text)
  except ValueError as error:
    raise ValueError('%r is not valid JSON (%s): it was edited or damaged '
                     'after the export; restore it, or export again with '
                     'python -m resnet_v2.export.' % (path, error)) from None
  if not isinstance(manifest, dict):
    raise ValueError('%r holds a JSON %s, not the object an export writes: '
                     'restore it, or export again with python -m '
                     'resnet_v2.export.' % (path, type(manifest).__name__))
  return manifest
