"""The run directory: checkpoints plus a record (``run.json``) of their run.

  run = open_run('runs/photos')           # record + newest checkpoint
  logits, _ = run.network_fn()(images)    # the trained model, inference mode

A train_dir holds checkpoints, TensorBoard events and ``run.json``, which
records the model name, the class names and the data settings of the run.
The record serves two purposes: a second run pointed at the same folder
with another model or other classes is refused before anything is written
(so no checkpoint is overwritten by an incompatible one), and evaluation
and export read the model and class names from it instead of asking again.
"""

import collections
import json
import os

import tensorflow.compat.v1 as tf

from resnet_v2.nets import zoo
from resnet_v2.training import checkpoints

RUN_FILE = 'run.json'
OWNERSHIP_KEYS = ('model', 'class_names')


def run_file(train_dir):
  """The path of the run record inside ``train_dir``."""
  return os.path.join(train_dir, RUN_FILE)


def read_run(train_dir):
  """The run record of ``train_dir`` as a dict, or None if there is none."""
  path = run_file(train_dir)
  if not os.path.isfile(path):
    return None
  with open(path) as f:
    return json.load(f)


def require_run(train_dir):
  """The run record of ``train_dir``; ValueError if it is not a train_dir."""
  run = read_run(train_dir)
  if run is None:
    raise ValueError('%r has no %s: pass the --train_dir of a run of '
                     'python -m resnet_v2.train.' % (train_dir, RUN_FILE))
  return run


class TrainedRun(collections.namedtuple(
    'TrainedRun', ['train_dir', 'record', 'checkpoint'])):
  """A finished (or paused) run: its folder, its record, one checkpoint."""

  __slots__ = ()

  @property
  def class_names(self):
    """The class names, in label order."""
    return list(self.record['class_names'])

  @property
  def value_range(self):
    """The pixel range the model was trained on (the model's default for
    records written before the range was recorded)."""
    recorded = self.record.get('value_range')
    if recorded is None:
      return zoo.get_spec(self.record['model']).inputs.value_range
    return tuple(recorded)

  def network_fn(self, is_training=False):
    """The run's model with its class count, in the model's arg_scope."""
    return zoo.get_network_fn(self.record['model'],
                              num_classes=len(self.class_names),
                              is_training=is_training)


def open_run(train_dir, checkpoint_path=None) -> TrainedRun:
  """The record of ``train_dir`` and its newest (or the given) checkpoint.

  Raises:
    ValueError: if ``train_dir`` has no run record or no checkpoint.
  """
  record = require_run(train_dir)
  checkpoint = checkpoints.resolve(checkpoint_path or train_dir)
  return TrainedRun(train_dir, record, checkpoint)


def latest_checkpoint(train_dir):
  """The newest checkpoint prefix in ``train_dir``, or None."""
  if not os.path.isdir(train_dir):
    return None
  return tf.train.latest_checkpoint(train_dir)


def _describe(run):
  """A short description of a run record for error messages."""
  return 'model %s with %d classes (%s)' % (
      run['model'], len(run['class_names']),
      ', '.join(run['class_names'][:5]) +
      (', ...' if len(run['class_names']) > 5 else ''))


def check_owner(train_dir, run):
  """Raise if ``train_dir`` belongs to a run other than ``run``; write nothing.

  A folder with a record of the same model and classes may be resumed; a
  folder with another record, or with checkpoints but no record, may not.

  Returns:
    The existing record, or None for a new or empty folder.

  Raises:
    ValueError: when the folder belongs to a different run.
  """
  existing = read_run(train_dir)
  if existing is not None:
    if any(existing.get(k) != run[k] for k in OWNERSHIP_KEYS):
      raise ValueError(
          'train_dir %r holds a run of %s, but this run is %s: pass a new '
          '--train_dir, or the same --model and data to resume it.'
          % (train_dir, _describe(existing), _describe(run)))
    return existing
  if latest_checkpoint(train_dir):
    raise ValueError(
        'train_dir %r holds checkpoints without a %s, so which model wrote '
        'them is unknown: pass a new --train_dir (use --checkpoint_path to '
        'start from those checkpoints).' % (train_dir, RUN_FILE))
  return None


def claim(train_dir, run):
  """Make ``train_dir`` the home of ``run``, or raise if another run owns it.

  The record of a resumed run is kept as it is; a new or empty folder gets
  ``run`` written (atomically, so a crash never leaves half a record).

  Args:
    train_dir: the folder.
    run: a JSON-serialisable dict with at least ``OWNERSHIP_KEYS``.

  Returns:
    The record now in force (the existing one when resuming).

  Raises:
    ValueError: when the folder belongs to a different run.
  """
  existing = check_owner(train_dir, run)
  if existing is not None:
    return existing
  os.makedirs(train_dir, exist_ok=True)
  temporary = run_file(train_dir) + '.tmp'
  with open(temporary, 'w') as f:
    json.dump(run, f, indent=2, sort_keys=True)
  os.replace(temporary, run_file(train_dir))
  return run
