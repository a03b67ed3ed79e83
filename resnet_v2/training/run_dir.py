"""The run directory: checkpoints plus a record (``run.json``) of their run.

  run = open_run('runs/photos')           # record + newest checkpoint
  logits, _ = run.network_fn()(images)    # the trained model, inference mode

A train_dir holds checkpoints, TensorBoard events and ``run.json``, which
records the model name, the class names and the data settings of the run.
The record serves two purposes: a second run pointed at the same folder
with another model or other classes is refused before anything is written
(so no checkpoint is overwritten by an incompatible one), and evaluation
and export read the model and class names from it instead of asking again.
A run with a validation split records which images are in each part
(``SPLIT_KEY``, relative paths), written when the run starts and kept by
every resume, so evaluation scores the images training held out and no
others, however the folder changed since.
"""

import collections
import contextlib
import fcntl
import json
import os
import re
import time
from typing import Optional, Tuple

import tensorflow as tf


from resnet_v2 import weights
from resnet_v2.common import tables
from resnet_v2.nets import checkpoints
from resnet_v2.nets import registry
from resnet_v2.nets import zoo
from resnet_v2.training import saver as saver_lib

RUN_FILE = 'run.json'
STATE_FILE = saver_lib.STATE_FILE
CHECKPOINT_NAME = saver_lib.CHECKPOINT_NAME
OWNERSHIP_KEYS = ('model', 'class_names')
# Settings that change what a run means: a resume must keep them.
MEANING_KEYS = OWNERSHIP_KEYS + ('image_size', 'validation_split', 'data_dir',
                                 'seed')
# Settings a resume may change; the record notes each change and its step.
CHANGEABLE_KEY = 'settings'
# The run's split: {'training': [...], 'validation': [...]} relative paths
# (``data.image_folder.split_record``); absent without a validation split
# and in records written before splits were.
SPLIT_KEY = 'split'


def run_file(train_dir):
  """The path of the run record inside ``train_dir``."""
  return os.path.join(train_dir, RUN_FILE)


def read_run(train_dir):
  """The run record of ``train_dir`` as a dict, or None if there is none.

  Raises:
    ValueError: if the record cannot be read or lacks the model and
      classes (a truncated or hand-edited file), naming the file.
  """
  path = run_file(train_dir)
  if not os.path.isfile(path):
    return None
  try:
    with open(path) as f:
      record = json.load(f)
  except (OSError, ValueError) as error:
    record, problem = None, str(error)
  else:
    problem = 'it lacks %s' % ' and '.join(OWNERSHIP_KEYS)
  if not (isinstance(record, dict) and all(k in record
                                           for k in OWNERSHIP_KEYS)):
    raise ValueError(
        '%s cannot be read (%s): restore it from a copy of the run, or pass '
        'a new --train_dir; the checkpoints beside it are left as they are.'
        % (path, problem))
  return record


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
      return registry.get_spec(self.record['model']).inputs.value_range
    return tuple(recorded)

  def network_fn(self, is_training=False):
    """The run's model with its class count, in the model's arg_scope."""
    return zoo.get_network_fn(self.record['model'],
                              num_classes=len(self.class_names),
                              is_training=is_training)


def released_record(release) -> dict:
  """The run record a released checkpoint would have had: its model,
  ImageNet's class names and the release's input settings."""
  return {'model': release.model,
          'class_names': weights.class_names(release),
          'image_size': release.inputs.image_size,
          'central_fraction': release.inputs.central_fraction,
          'value_range': [list(bound) if isinstance(bound, tuple) else bound
                          for bound in release.inputs.value_range],
          'validation_split': 0.0, 'seed': 0, 'release': release.archive}


def open_run(train_dir, checkpoint_path=None) -> TrainedRun:
  """The record of ``train_dir`` and its newest (or the given) checkpoint.

  Without a ``train_dir``, ``checkpoint_path`` may name a release
  (``resnet_v2_50``, fetched on first use): its record is then the
  release's (``released_record``).

  Raises:
    ValueError: if ``train_dir`` has no run record or no checkpoint.
  """
  if not train_dir:
    release = weights.release_for(checkpoint_path, None)
    if release is None:
      raise ValueError(
          'pass --train_dir (a training run), or a release name as '
          '--checkpoint_path (one of %s) for TF-Slim\'s ImageNet weights.'
          % ', '.join(weights.list_releases()))
    return TrainedRun(None, released_record(release), checkpoints.resolve(
        weights.resolve(checkpoint_path, release.model)))
  record = require_run(train_dir)
  if not checkpoint_path and not latest_checkpoint(train_dir):
    raise ValueError(
        'train_dir %r holds no readable checkpoint yet: train first '
        '(python -m resnet_v2.train --train_dir=%s ...), or pass '
        '--checkpoint_path.' % (train_dir, train_dir))
  checkpoint = checkpoints.resolve(
      weights.resolve(checkpoint_path, record['model']) or train_dir)
  return TrainedRun(train_dir, record, checkpoint)


def _state_file(train_dir):
  """The path of the ``checkpoint`` state file inside ``train_dir``."""
  return os.path.join(train_dir, STATE_FILE)


def _saved_checkpoints(train_dir):
  """The prefixes of the run's checkpoints on disk (``model.ckpt-N`` with
  an index), the newest step first, whether or not a state file names
  them."""
  pattern = re.compile(r'^%s-(\d+)\.index$' % re.escape(CHECKPOINT_NAME))
  steps = sorted((int(found.group(1)) for found in
                  map(pattern.match, os.listdir(train_dir)) if found),
                 reverse=True)
  return [os.path.join(train_dir, '%s-%d' % (CHECKPOINT_NAME, step))
          for step in steps]


def latest_checkpoint(train_dir):
  """The newest readable checkpoint in ``train_dir``, or None.

  See ``checkpoints.latest_readable``: a moved or copied run directory
  uses its own checkpoints, and an unreadable one is skipped. Without a
  state file (removed), the newest complete ``model.ckpt-N`` in the
  folder: a new run there would otherwise overwrite it.
  """
  if os.path.isdir(train_dir) and not os.path.exists(_state_file(train_dir)):
    return next((prefix for prefix in _saved_checkpoints(train_dir)
                 if checkpoints.readable(prefix)), None)
  return checkpoints.latest_readable(train_dir)


def resume_checkpoint(train_dir: str) -> Tuple[Optional[str], Optional[str]]:
  """``(checkpoint, note)``: what a training run in ``train_dir`` resumes
  from (None: the start), and a line saying what changed since the last
  run (None when nothing did).

  Raises:
    ValueError: if the state file names checkpoints and none of them can
      be used (their files gone or damaged): starting again from step 0
      would write over them, so nothing is written.
  """
  latest = latest_checkpoint(train_dir)
  if not os.path.isdir(train_dir):
    return None, None
  state_file = _state_file(train_dir)
  if not os.path.exists(state_file):
    return latest, latest and (
        '%s is missing (removed?): resuming from %s, the newest complete '
        'checkpoint in the folder.' % (state_file, latest))
  if latest is None:
    state = tf.train.get_checkpoint_state(train_dir)
    named = [os.path.basename(path) for path in
             (state.all_model_checkpoint_paths if state else [])]
    raise ValueError(
        '%s names %s, and none of them can be used (their files are gone '
        'or damaged): put them back to resume, or pass a new --train_dir; '
        'nothing was written.'
        % (state_file, ', '.join(named) or 'no checkpoint'))
  return latest, None


def checkpoint_state(train_dir: str) -> Optional[bytes]:
  """The bytes of ``train_dir``'s state file, None without one: equal
  bytes later mean that no checkpoint was added or dropped meanwhile."""
  try:
    with open(_state_file(train_dir), 'rb') as f:
      return f.read()
  except FileNotFoundError:
    return None


def check_unchanged(train_dir: str, record: dict, step: int) -> Optional[str]:
  """Check, before a save, that ``train_dir`` still holds ``record``'s run.

  Returns:
    None, or a line saying that ``run.json`` had been removed and has
    been written again.

  Raises:
    ValueError: if ``train_dir`` is gone, or its ``run.json`` no longer
      reads as this run's (replaced by another run's, damaged): the save
      is not made, so nothing of the folder is overwritten.
  """
  if not os.path.isdir(train_dir):
    raise ValueError(
        'train_dir %r was removed while this run trained: stopped at step %d '
        'without saving; run the same command again to start it anew.'
        % (train_dir, step))
  path = run_file(train_dir)
  if not os.path.exists(path):
    _write(train_dir, record)
    return ('%s was removed while this run trained: written again at step '
            '%d.' % (path, step))
  try:
    existing = read_run(train_dir)
  except ValueError:
    existing = None
  if existing is None or any(existing.get(key) != record.get(key)
                             for key in MEANING_KEYS):
    raise ValueError(
        '%s was replaced while this run trained: it records %s, not this '
        "run's %s. Stopped at step %d without saving, so that file and the "
        "checkpoints are left as they are: put this run's run.json back, or "
        "move the other run's files to a folder of their own, then run the "
        'same command again to resume from %s.'
        % (path, _describe(existing) if existing else 'something unreadable',
           _describe(record), step,
           latest_checkpoint(train_dir) or 'the start'))
  return None


def _short(value):
  """A value for a table cell, lists cut after five items."""
  if isinstance(value, list) and len(value) > 5:
    return '[%s, ...] (%d)' % (', '.join(map(str, value[:5])), len(value))
  return str(value)


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
    changed = [key for key in MEANING_KEYS
               if key in existing and key in run and existing[key] != run[key]]
    if changed:
      rows = [(key, _short(existing[key]), _short(run[key]))
              for key in changed]
      raise ValueError(
          'train_dir %r holds a run of %s, and resuming it with other %s '
          'would change what it means:\n%s\nPass a new --train_dir to start '
          'a run with these settings, or the recorded ones to resume.'
          % (train_dir, _describe(existing), ', '.join(changed),
             tables.format_table(('setting', 'recorded', 'this run'), rows)))
    return existing
  if latest_checkpoint(train_dir):
    raise ValueError(
        'train_dir %r holds checkpoints without a %s, so which model wrote '
        'them is unknown: pass a new --train_dir (use --checkpoint_path to '
        'start from those checkpoints).' % (train_dir, RUN_FILE))
  return None


LOCK_FILE = '.lock'


def _holder(path):
  """``(pid, started)`` recorded in the lock file, or None if unreadable."""
  try:
    with open(path) as f:
      holder = json.load(f)
    return int(holder['pid']), holder.get('started', '?')
  except (OSError, ValueError, KeyError, TypeError):
    return None


def _in_use_error(train_dir, path):
  """The refusal for a folder another live run holds, naming that run."""
  holder = _holder(path)
  who = ('process %d, started %s' % holder if holder
         else 'a process that is still starting')
  return ValueError(
      'train_dir %r is in use by another training run (%s): wait for it to '
      'finish, stop it, or pass another --train_dir.' % (train_dir, who))


def _locked_file(train_dir, path):
  """An open descriptor of the lock file at ``path``, exclusively locked.

  The kernel's lock (``flock``) is what excludes a second run: it lasts
  while the descriptor is open and dies with the process, so a lock file
  left by a crash or ``kill -9`` is simply locked again, and two runs that
  find such a file at the same moment cannot both take it. If the file
  was replaced between opening and locking, the new one is locked instead.
  """
  while True:
    descriptor = os.open(path, os.O_CREAT | os.O_RDWR, 0o644)
    try:
      fcntl.flock(descriptor, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
      os.close(descriptor)
      raise _in_use_error(train_dir, path) from None
    try:
      current = os.stat(path).st_ino
    except FileNotFoundError:
      current = None
    if current == os.fstat(descriptor).st_ino:
      return descriptor
    os.close(descriptor)


@contextlib.contextmanager
def lock(train_dir):
  """Hold ``train_dir`` for this process while inside; refuse a second run.

  The lock file (``LOCK_FILE``) holds this process's id and start time, so
  that a refused run can say who holds the folder; it is removed on exit.
  A lock file left by a run that crashed is taken over.

  Raises:
    ValueError: naming the process that holds the folder, if it runs.
  """
  os.makedirs(train_dir, exist_ok=True)
  path = os.path.join(train_dir, LOCK_FILE)
  descriptor = _locked_file(train_dir, path)
  try:
    os.ftruncate(descriptor, 0)
    os.write(descriptor, json.dumps({
        'pid': os.getpid(),
        'started': time.strftime('%Y-%m-%d %H:%M:%S')}).encode('utf-8'))
    yield
  finally:
    try:
      os.remove(path)
    except FileNotFoundError:
      pass
    os.close(descriptor)


def _write(train_dir, record):
  """Write ``record`` atomically: a crash never leaves half a file."""
  os.makedirs(train_dir, exist_ok=True)
  temporary = run_file(train_dir) + '.tmp'
  with open(temporary, 'w') as f:
    json.dump(record, f, indent=2, sort_keys=True)
  os.replace(temporary, run_file(train_dir))


def _note_changes(existing, run, step):
  """``existing`` with the changed resumable settings noted at ``step``."""
  old = existing.get(CHANGEABLE_KEY, {})
  new = run.get(CHANGEABLE_KEY, {})
  merged = dict(old, **new)
  if merged == old:
    return existing
  record = dict(existing, **{CHANGEABLE_KEY: merged})
  changes = {key: [old[key], value] for key, value in new.items()
             if key in old and old[key] != value}
  if not changes:
    return record
  record['changes'] = existing.get('changes', []) + [
      {'step': step, 'settings': changes}]
  return record


def claim(train_dir, run, step=0):
  """Make ``train_dir`` the home of ``run``, or raise if another run owns it.

  A new or empty folder gets ``run`` written. A resumed run keeps its
  record; resumable settings (``run['settings']``: every training option
  that does not define the run, such as steps, learning rate, batch size,
  log and save intervals) that differ are updated and noted in
  ``record['changes']`` with the ``step`` they changed at.

  Args:
    train_dir: the folder.
    run: a JSON-serialisable dict with at least ``OWNERSHIP_KEYS``.
    step: the step the run starts from.

  Returns:
    The record now in force.

  Raises:
    ValueError: when the folder belongs to a different run, or the run
      would change one of ``MEANING_KEYS`` (with a table of them).
  """
  existing = check_owner(train_dir, run)
  record = run if existing is None else _note_changes(existing, run, step)
  if record is not existing:
    _write(train_dir, record)
  return record
