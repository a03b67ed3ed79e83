"""Score an export next to the float32 checkpoint it came from.

  comparison = compare('models/photos_int8', 'photos')
  print(report(comparison))     # top-1, top-5, agreement, largest difference

Both models see the same images: the checkpoint through the evaluation
pipeline, the export through ``deploy.load`` on the decoded uint8 files.
Agreement is the fraction of images on which both predict the same class;
it shows what quantization changed even where accuracy does not.
"""

import collections

import numpy as np

from resnet_v2.common import tables
from resnet_v2.data import image_folder
from resnet_v2.data import images as images_lib
from resnet_v2.deploy import predictor as predictor_lib
from resnet_v2.training import evaluation
from resnet_v2.training import run_dir

Comparison = collections.namedtuple(
    'Comparison', ['manifest', 'export', 'checkpoint', 'agreement',
                   'max_probability_difference'])
Comparison.__doc__ = """An export and its checkpoint scored on the same images.

``export`` and ``checkpoint`` are ``evaluation.EvalResult`` values;
``agreement`` is the fraction of images with the same top-1 class and
``max_probability_difference`` the largest absolute difference of any
class probability.
"""


def _export_probabilities(predictor, paths, batch_size):
  """The export's probabilities for the image files ``paths``, in order."""
  outputs = []
  for start in range(0, len(paths), batch_size):
    decoded = [images_lib.read_image(path).numpy()
               for path in paths[start:start + batch_size]]
    outputs.append(predictor.probabilities(decoded))
  return np.concatenate(outputs)


def _check_same_classes(manifest, trained, model_path):
  """Raise if the export and the run do not share their class names."""
  if list(manifest['class_names']) != trained.class_names:
    raise ValueError(
        'the export %r has other classes than the run %r: pass the '
        '--train_dir the export came from.' % (model_path, trained.train_dir))


def _check_folder_classes(manifest, data_dir, model_path):
  """Raise, with a table of both, if ``data_dir``'s class folders are not
  the export's classes in label order.

  An export of a released checkpoint is exempt: a folder of some of
  ImageNet's classes is scored by name (``evaluation.load_subset``).
  """
  exported = list(manifest['class_names'])
  found = list(image_folder.scan(data_dir).class_names)
  if manifest.get('release') or found == exported:
    return
  rows = [(label,
           exported[label] if label < len(exported) else '-',
           found[label] if label < len(found) else '-',
           '' if exported[label:label + 1] == found[label:label + 1]
           else 'differs')
          for label in range(max(len(exported), len(found)))]
  raise ValueError(
      'the %d class folders of data_dir %r are not the %d classes of the '
      'export %r, so nothing was scored: evaluate on a folder with one '
      'subfolder per class of the export, named as in its labels.txt.\n%s'
      % (len(found), data_dir, len(exported), model_path,
         tables.format_table(['label', 'export', 'data_dir', ''], rows)))


def compare(model_path, data_dir, subset='auto', train_dir=None,
            checkpoint_path=None, batch_size=32, strict=False) -> Comparison:
  """Score the export in ``model_path`` and its float32 checkpoint.

  Args:
    model_path: a folder written by ``python -m resnet_v2.export``.
    data_dir: the image folder, with the run's class subfolders.
    subset: as in ``evaluation.evaluate``; 'auto' is the validation split
      when training made one, else every image.
    train_dir: the run to compare with; the one ``model.json`` names if
      None.
    checkpoint_path: its checkpoint; with neither this nor train_dir
      given, the checkpoint ``model.json`` names, else the newest.
    batch_size: images per batch.
    strict: fail on an unreadable image instead of skipping it.

  Returns:
    A ``Comparison``.

  Raises:
    ValueError: before anything is scored, for an export that was damaged
      or edited (``deploy.load`` refuses it), or a data_dir whose classes
      are not the export's.
  """
  predictor = predictor_lib.load(model_path)
  manifest = predictor.manifest
  _check_folder_classes(manifest, data_dir, model_path)
  if train_dir is None and checkpoint_path is None:
    checkpoint_path = manifest['checkpoint']
  trained = run_dir.open_run(train_dir or manifest.get('run_dir'),
                             checkpoint_path)
  _check_same_classes(manifest, trained, model_path)
  if subset == 'auto':
    subset = evaluation.default_subset(trained.record)
  folder, skipped = evaluation.load_subset(data_dir, trained.record, subset,
                                           strict)
  exported = _export_probabilities(predictor, folder.paths, batch_size)
  reference = evaluation.evaluate_folder(trained, folder,
                                         batch_size=batch_size,
                                         skipped_images=skipped)
  agreement = float(np.mean(np.argmax(exported, axis=1) ==
                            np.argmax(reference.probabilities, axis=1)))
  difference = float(np.max(np.abs(exported - reference.probabilities)))
  return Comparison(
      manifest,
      evaluation.summarize(exported, folder.labels, trained.class_names,
                           skipped)._replace(subset=subset),
      reference._replace(subset=subset), agreement, difference)


def report(comparison: Comparison) -> str:
  """The side-by-side text ``python -m resnet_v2.evaluate`` prints."""
  manifest = comparison.manifest
  scored = [('%s %s' % (manifest['format'], manifest['precision']),
             comparison.export),
            ('checkpoint fp32', comparison.checkpoint)]
  table = tables.format_table(
      ['model', 'top-1', 'top-%d' % comparison.checkpoint.k],
      [(name, '%.4f' % result.top1, '%.4f' % result.top_k)
       for name, result in scored])
  return '\n'.join([
      'subset: %s (%d images)' % (comparison.checkpoint.subset,
                                  comparison.checkpoint.num_images),
      table,
      'top-1 agreement with the checkpoint: %.4f' % comparison.agreement,
      'largest probability difference: %.2e'
      % comparison.max_probability_difference])
