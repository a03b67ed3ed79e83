"""Evaluate a trained checkpoint on an image folder: top-1, top-5, confusion.

  result = evaluate('runs/photos', 'photos', subset='validation', tta=True)
  print(report(result))

The model, its classes, the input size and the validation split are read
from the run record of the train_dir (see ``run_dir``), so evaluating
the held-out part of a training folder takes no more than the two folders.
With ``tta`` every image is predicted from ten views (centre and corner
crops and their mirror images) and the probabilities are averaged.
"""

import collections

import numpy as np
import tensorflow.compat.v1 as tf
import tf_slim as slim

from resnet_v2.common import checks
from resnet_v2.common import precision as precision_lib
from resnet_v2.common import tables
from resnet_v2.data import image_folder
from resnet_v2.data import pipeline
from resnet_v2.nets import checkpoints
from resnet_v2.training import run_dir
from resnet_v2.weights import imagenet

TOP_K = 5
FULL_MATRIX_MAX_CLASSES = 20

EvalResult = collections.namedtuple(
    'EvalResult', ['class_names', 'num_images', 'top1', 'top_k', 'k',
                   'confusion', 'probabilities', 'labels', 'skipped_images',
                   'subset', 'changes'], defaults=(None, None))
EvalResult.__doc__ = """The scores of one evaluation.

``top1`` and ``top_k`` are fractions of ``num_images``; ``k`` is
min(5, number of classes). ``confusion[i, j]`` counts images of class
``i`` predicted as class ``j``. ``probabilities`` ([images, classes]) and
``labels`` are kept, in file order, for further analysis; ``subset`` names
the images scored ('all', 'training' or 'validation') when known;
``changes`` (an ``image_folder.SplitChanges``) says how the folder differs
from the split the run recorded, when it recorded one.
"""


def summarize(probabilities, labels, class_names, skipped_images=()):
  """Score ``probabilities`` ([images, classes]) against integer ``labels``.

  Ties in top-k are broken by class index, like ``np.argsort``.

  Returns:
    An ``EvalResult``.
  """
  probabilities = np.asarray(probabilities)
  labels = np.asarray(labels)
  num_classes = len(class_names)
  k = min(TOP_K, num_classes)
  ranked = np.argsort(-probabilities, axis=1, kind='stable')
  predictions = ranked[:, 0]
  top_k = np.any(ranked[:, :k] == labels[:, None], axis=1)
  confusion = np.zeros((num_classes, num_classes), dtype=np.int64)
  np.add.at(confusion, (labels, predictions), 1)
  return EvalResult(list(class_names), len(labels),
                    float(np.mean(predictions == labels)),
                    float(np.mean(top_k)), k, confusion, probabilities,
                    labels, list(skipped_images))


def _most_confused(row, label, class_names):
  """'name (count)' of the class most often predicted instead of ``label``."""
  others = row.copy()
  others[label] = 0
  if not others.any():
    return '-'
  wrong = int(np.argmax(others))
  return '%s (%d)' % (class_names[wrong], others[wrong])


def confusion_table(result):
  """The per-class table: images, accuracy, and where the errors went.

  Up to ``FULL_MATRIX_MAX_CLASSES`` classes the whole confusion matrix is
  shown (rows: true class, columns: predicted class); for more classes
  only the classes that have images, each with the class it is most often
  mistaken for.
  """
  names = result.class_names
  rows = []
  for label, row in enumerate(result.confusion):
    total = int(row.sum())
    if not total and len(names) > FULL_MATRIX_MAX_CLASSES:
      continue
    accuracy = '%.3f' % (row[label] / total) if total else '-'
    cells = [names[label], total, accuracy]
    if len(names) <= FULL_MATRIX_MAX_CLASSES:
      cells += [int(count) for count in row]
    else:
      cells.append(_most_confused(row, label, names))
    rows.append(cells)
  headers = ['class', 'images', 'accuracy']
  headers += (list(names) if len(names) <= FULL_MATRIX_MAX_CLASSES
              else ['most often predicted instead'])
  return tables.format_table(headers, rows)


def report(result):
  """The text printed by ``python -m resnet_v2.evaluate``."""
  correct = int(round(result.top1 * result.num_images))
  lines = ['images: %d' % result.num_images,
           'top-1 accuracy: %.4f (%d/%d)' % (result.top1, correct,
                                             result.num_images),
           'top-%d accuracy: %.4f' % (result.k, result.top_k)]
  if result.skipped_images:
    lines.append('skipped unreadable images: %d (%s)' % (
        len(result.skipped_images),
        image_folder.shortlist(result.skipped_images)))
  if result.changes and result.changes.describe():
    lines.append(result.changes.describe())
  lines += ['', confusion_table(result)]
  return '\n'.join(lines)


def _probabilities(images, network_fn, multi_crop):
  """Softmax outputs; with ``multi_crop`` averaged over each image's views."""
  if not multi_crop:
    logits, _ = network_fn(images)
    return tf.nn.softmax(logits)
  shape = tf.shape(images)
  views = tf.reshape(images, tf.concat([[-1], shape[2:]], axis=0))
  logits, _ = network_fn(views)
  probabilities = tf.nn.softmax(logits)
  return tf.reduce_mean(
      tf.reshape(probabilities, [shape[0], shape[1], -1]), axis=1)


def _release_label(name, model_names):
  """The model's label of an ImageNet class folder named ``name`` (its
  readable name or its WordNet id), or None."""
  if name in model_names:
    return model_names.index(name)
  synsets = imagenet.synsets()
  if name in synsets:
    return synsets.index(name) + len(model_names) - len(synsets)
  return None


def _as_model_classes(folder, run, data_dir):
  """``folder`` labelled with the model's classes; raises if they differ.

  A released checkpoint knows ImageNet's classes, so a folder of some of
  them (named as ``labels.txt`` names them, or by WordNet id as in
  ILSVRC-2012) is scored with its images labelled as the release's.
  """
  model_names = list(run['class_names'])
  if list(folder.class_names) == model_names:
    return folder
  if 'release' in run:
    labels = [_release_label(name, model_names) for name in folder.class_names]
    unknown = [name for name, label in zip(folder.class_names, labels)
               if label is None]
    if not unknown:
      return image_folder.ImageFolder(
          tuple(model_names), folder.paths,
          tuple(labels[label] for label in folder.labels))
    raise ValueError(
        'the class folders %s of data_dir %r are not ImageNet classes: name '
        'each class folder as the release names it (e.g. %r; the names are '
        'the lines of labels.txt in an export of it) or by its WordNet id '
        '(e.g. %r).'
        % (', '.join(unknown[:5]), data_dir, model_names[-1],
           imagenet.synsets()[-1]))
  raise ValueError(
      'the classes of data_dir %r (%s) differ from the %d classes the model '
      'was trained on (%s): evaluate on a folder with the same class '
      'subfolders.' % (data_dir, ', '.join(folder.class_names),
                       len(run['class_names']),
                       ', '.join(run['class_names'])))


def default_subset(run):
  """'validation' when training held images out, else 'all'."""
  return 'validation' if run['validation_split'] else 'all'


def load_subset(data_dir, run, subset, strict=False):
  """The readable images of ``subset`` of ``data_dir``, split as in training.

  Returns:
    ``(folder, skipped_paths)``.
  """
  folder, skipped, _ = _load_subset(data_dir, run, subset, strict)
  return folder, skipped


def _load_subset(data_dir, run, subset, strict):
  """``load_subset`` and the folder's ``SplitChanges`` since the run's
  recorded split (None for a run that recorded none).

  The parts are the ones the run recorded when it has them, so an image
  added since is in neither; older runs are split again by their seed.
  """
  folder = _as_model_classes(image_folder.scan(data_dir), run, data_dir)
  folder, skipped = image_folder.drop_unreadable(folder, strict=strict,
                                                 part='evaluation')
  recorded = run.get(run_dir.SPLIT_KEY)
  chosen = image_folder.select(folder, subset, run['validation_split'],
                               run['seed'], recorded)
  if not chosen.paths and recorded is not None:
    raise ValueError(
        'none of the images of %r are in the %s subset the run recorded '
        '(from %s): pass --subset=all to score every image of this folder.'
        % (data_dir, subset, run['data_dir']))
  if not chosen.paths:
    raise ValueError('the %s subset of %r is empty: use a larger '
                     'validation_split or subset=all.' % (subset, data_dir))
  changes = (image_folder.split_changes(folder, recorded)
             if recorded is not None else None)
  return chosen, skipped, changes


def evaluate(train_dir, data_dir, subset='all', checkpoint_path=None,
             tta=False, batch_size=32, strict=False, precision='fp32'):
  """Evaluate the latest (or a given) checkpoint of ``train_dir``.

  Args:
    train_dir: the folder a training run wrote.
    data_dir: the image folder, with the same class subfolders.
    subset: 'all', or 'training' / 'validation' for the split training
      recorded (or, for runs recorded before splits were, made again
      with its ``validation_split`` and ``seed``); 'auto' is the
      validation split when training made one, else all.
    checkpoint_path: a checkpoint prefix; the newest in train_dir if None.
    tta: average over ten crops and flips of each image.
    batch_size: images per batch.
    strict: fail on an unreadable image instead of skipping it.
    precision: 'fp32' or 'bf16'.

  Returns:
    An ``EvalResult``.

  Raises:
    ValueError: for a folder that is not a train_dir, other classes, a
      missing checkpoint or bad data.
  """
  checks.check_count('batch_size', batch_size, 1)
  run = run_dir.open_run(train_dir, checkpoint_path)
  precision_lib.check_precision_supported(precision)
  if subset == 'auto':
    subset = default_subset(run.record)
  folder, skipped, changes = _load_subset(data_dir, run.record, subset,
                                          strict)
  result = evaluate_folder(run, folder, tta, batch_size, precision, skipped)
  return result._replace(subset=subset, changes=changes)


def evaluate_folder(run, folder, tta=False, batch_size=32, precision='fp32',
                    skipped_images=()):
  """Score ``run`` (a ``run_dir.TrainedRun``) on an ``ImageFolder``.

  The folder is taken as it is: already scanned, decoded and split (the
  trainer hands over its validation part this way).

  Returns:
    An ``EvalResult``.
  """
  record = run.record
  with tf.Graph().as_default():
    dataset = pipeline.evaluation_dataset(
        folder, record['image_size'], batch_size, record['central_fraction'],
        multi_crop=tta, value_range=run.value_range)
    images, labels = tf.data.make_one_shot_iterator(dataset).get_next()
    probabilities = _probabilities(images, run.network_fn(), tta)
    restore, _ = checkpoints.restore_fn(run.checkpoint,
                                        slim.get_model_variables())
    outputs = {'probabilities': [], 'labels': []}
    with tf.Session(config=precision_lib.session_config(precision)) as session:
      restore(session)
      while True:
        try:
          batch = session.run({'probabilities': probabilities,
                               'labels': labels})
        except tf.errors.OutOfRangeError:
          break
        for key, value in batch.items():
          outputs[key].append(value)
  return summarize(np.concatenate(outputs['probabilities']),
                   np.concatenate(outputs['labels']), run.class_names,
                   skipped_images)
