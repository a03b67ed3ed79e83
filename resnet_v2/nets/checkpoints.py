"""Restoring a checkpoint into a graph that may not match it exactly.

  restore, restored = restore_fn('resnet_v2_50.ckpt', slim.get_model_variables(),
                                 exclude_scopes=['resnet_v2_50/logits'])
  restore(session)

Fine-tuning restores a released (or earlier) checkpoint into a new graph,
usually with a different head. TF-Slim's recipe is kept: restore every
model variable except those under ``--checkpoint_exclude_scopes`` and train
only those under ``--trainable_scopes``. What is added is the check that
runs *before* training: every variable to restore must exist in the
checkpoint with the same shape, and if not, the error lists each offender
(name, checkpoint shape, graph shape) and the flag that would fix it.
"""

import collections
import os

from absl import logging
import numpy as np
import tensorflow.compat.v1 as tf

from resnet_v2.common import tables

Mismatch = collections.namedtuple(
    'Mismatch', ['name', 'checkpoint_shape', 'graph_shape'])
Mismatch.__doc__ = """A variable that cannot be restored.

``checkpoint_shape`` is None when the checkpoint has no such variable.
"""


class CheckpointMismatchError(ValueError):
  """The checkpoint does not fit the graph; the message says how to fix it."""


def variable_name(variable) -> str:
  """The checkpoint key of ``variable``: its name without the ':0' suffix.

  The same as ``variable.op.name`` for graph variables, and also defined
  for eager and distributed ones (the Keras layer's), which have no op.
  """
  return variable.name.split(':')[0]


def clean_scopes(scopes):
  """``scopes`` without blanks, surrounding spaces or trailing slashes.

  ``--checkpoint_exclude_scopes=resnet_v2_50/logits/`` and
  ``resnet_v2_50/logits`` then mean the same scope.
  """
  return [scope.strip().rstrip('/') for scope in scopes if scope.strip()]


def _in_scope(name, scope):
  """Whether variable ``name`` is ``scope`` itself or lies below it."""
  return name == scope or name.startswith(scope + '/')


def _check_scopes_match(variables, scopes, flag):
  """Raise if a scope in ``scopes`` selects none of ``variables``."""
  names = [variable_name(v) for v in variables]
  for scope in scopes:
    if not any(_in_scope(name, scope) for name in names):
      tops = sorted({name.split('/')[0] for name in names})
      raise ValueError(
          '%s: scope %r matches no variable of the graph. Scopes are variable '
          'name prefixes such as %s/logits.'
          % (flag, scope, tops[0] if tops else '<model>'))


def exclude(variables, exclude_scopes):
  """``variables`` minus those under any of ``exclude_scopes``.

  Raises:
    ValueError: if one of the scopes matches no variable (a typo would
      otherwise silently restore everything).
  """
  exclude_scopes = clean_scopes(exclude_scopes)
  _check_scopes_match(variables, exclude_scopes, '--checkpoint_exclude_scopes')
  return [v for v in variables
          if not any(_in_scope(variable_name(v), s) for s in exclude_scopes)]


def trainable(variables, trainable_scopes):
  """The variables under ``trainable_scopes``; all of them when none is given.

  Raises:
    ValueError: if one of the scopes matches no variable.
  """
  trainable_scopes = clean_scopes(trainable_scopes)
  if not trainable_scopes:
    return list(variables)
  _check_scopes_match(variables, trainable_scopes, '--trainable_scopes')
  return [v for v in variables
          if any(_in_scope(variable_name(v), s) for s in trainable_scopes)]


def _listed_bytes(reader):
  """The bytes the index says the data files hold (strings count as 0)."""
  shapes = reader.get_variable_to_shape_map()
  dtypes = reader.get_variable_to_dtype_map()
  return sum(int(np.prod(shapes[name], dtype=np.int64)) * dtypes[name].size
             for name in shapes if dtypes[name] != tf.string)


def _data_bytes(prefix):
  """The size of the data shards of ``prefix``; None if one is missing."""
  shards = tf.io.gfile.glob(prefix + '.data-?????-of-?????')
  if not shards:
    return None
  count = int(shards[0][-5:])
  if set(shards) != {'%s.data-%05d-of-%05d' % (prefix, i, count)
                     for i in range(count)}:
    return None
  return sum(tf.io.gfile.stat(path).length for path in shards)


def readable(prefix: str) -> bool:
  """Whether the checkpoint at ``prefix`` opens and its data is all there.

  The index alone opens even when the data file was cut short (a kill or a
  full disk while it was written, the state file already naming it), and
  only restoring would fail, so the data shards must exist and hold at
  least the bytes the index lists.
  """
  try:
    reader = tf.train.load_checkpoint(prefix)
    listed = _listed_bytes(reader)
  except (tf.errors.OpError, ValueError):
    return False
  size = _data_bytes(prefix)
  return size is not None and size >= listed


def latest_readable(folder):
  """The newest readable checkpoint prefix in ``folder``, or None.

  The checkpoints the folder's ``checkpoint`` file lists are taken from
  this folder whatever path the file recorded, so a run directory that
  was moved or copied resumes from its own checkpoints. One that cannot
  be read (truncated, corrupt) or is gone (its files removed) is skipped
  with a warning naming it, and the next newest is used; nothing is
  deleted.
  """
  if not os.path.isdir(folder):
    return None
  state = tf.train.get_checkpoint_state(folder)
  if state is None:
    return None
  names = [os.path.basename(path) for path in
           list(state.all_model_checkpoint_paths) or
           [state.model_checkpoint_path]]
  for name in reversed(names):
    prefix = os.path.join(folder, name)
    if readable(prefix):
      return prefix
    if tf.io.gfile.glob(prefix + '.*'):
      logging.warning('checkpoint %s cannot be read; trying an older one (it '
                      'is kept on disk).', prefix)
    else:
      logging.warning('checkpoint %s, named by %s, is gone (its files were '
                      'removed or moved); trying an older one.', prefix,
                      os.path.join(folder, 'checkpoint'))
  return None


# Files beside a checkpoint that are not one: V2 parts, graphs, records.
_NOT_CHECKPOINTS = ('.index', '.meta', '.graph', '.pb', '.pbtxt', '.json',
                    '.txt', '.gz', '.tar', '.lock')
ACCEPTED_FORMS = (
    "a TF1 checkpoint file in the V1 format (such as TF-Slim's released "
    'resnet_v2_50.ckpt), a checkpoint prefix (model.ckpt-1000, the part '
    'before .index), a folder with a "checkpoint" state file, or a folder '
    'holding exactly one checkpoint')


def _v1_file(path):
  """Whether ``path`` is a single-file (V1 format) checkpoint that opens."""
  if not os.path.isfile(path) or os.path.isfile(path + '.index'):
    return False
  try:
    tf.train.load_checkpoint(path)
  except (tf.errors.OpError, ValueError):
    return False
  return True


def _checkpoints_in(folder):
  """The checkpoints lying in ``folder``: V2 prefixes and V1 files."""
  found = []
  for name in sorted(os.listdir(folder)):
    path = os.path.join(folder, name)
    if name.endswith('.index'):
      found.append(path[:-len('.index')])
    elif ('.data-' not in name and not name.startswith(('.', 'events.')) and
          not name.endswith(_NOT_CHECKPOINTS) and _v1_file(path)):
      found.append(path)
  return found


def _in_folder(folder):
  """The checkpoint of ``folder``: its state file's newest readable one,
  else the only checkpoint in it; None when there is none.

  Raises:
    ValueError: for a folder with several checkpoints and no state file.
  """
  latest = latest_readable(folder)
  if latest or tf.train.get_checkpoint_state(folder) is not None:
    return latest
  found = _checkpoints_in(folder)
  if len(found) > 1:
    raise ValueError(
        'checkpoint_path %r holds %d checkpoints and no "checkpoint" state '
        'file: pass one of them, e.g. %s.' % (folder, len(found), found[-1]))
  return found[0] if found else None


def resolve(checkpoint_path):
  """The checkpoint ``checkpoint_path`` names, ready for ``load_checkpoint``.

  Every form TF-Slim and TensorFlow write is taken: a single V1 file (as
  released), a V2 prefix, a folder whose ``checkpoint`` state file names
  the latest, and a folder with exactly one checkpoint and no state file
  (an untarred release).

  Raises:
    ValueError: if there is no checkpoint there, saying which forms work.
  """
  found = None
  if checkpoint_path and os.path.isdir(checkpoint_path):
    found = _in_folder(checkpoint_path)
  elif checkpoint_path and (tf.gfile.Exists(checkpoint_path + '.index') or
                            _v1_file(checkpoint_path)):
    found = checkpoint_path
  if found:
    return found
  raise ValueError('checkpoint_path %r is not a checkpoint: pass %s.'
                   % (checkpoint_path, ACCEPTED_FORMS))


def find_mismatches(checkpoint, variables):
  """The ``Mismatch`` of every variable the checkpoint cannot fill."""
  shapes = tf.train.load_checkpoint(checkpoint).get_variable_to_shape_map()
  found = []
  for variable in variables:
    name = variable_name(variable)
    graph_shape = variable.get_shape().as_list()
    checkpoint_shape = shapes.get(name)
    if checkpoint_shape is None or list(checkpoint_shape) != graph_shape:
      found.append(Mismatch(name, checkpoint_shape, graph_shape))
  return found


def _fix_hint(checkpoint, mismatches):
  """What to pass so that the restore succeeds."""
  checkpoint_tops = sorted({name.split('/')[0] for name in
                            tf.train.load_checkpoint(checkpoint)
                            .get_variable_to_shape_map()})
  graph_tops = {m.name.split('/')[0] for m in mismatches}
  if all(m.checkpoint_shape is None for m in mismatches) and \
      not graph_tops & set(checkpoint_tops):
    return ('The checkpoint holds variables under %s, not %s: pick the '
            '--model it was trained as.'
            % (', '.join(checkpoint_tops), ', '.join(sorted(graph_tops))))
  layers = sorted({m.name.rsplit('/', 1)[0] for m in mismatches})
  return ('To leave these layers at their initial values and train them '
          'from scratch, pass --checkpoint_exclude_scopes=%s'
          % ','.join(layers))


def mismatch_message(checkpoint, mismatches):
  """The error text: a table of ``mismatches`` and the flag that fixes them."""
  rows = [(m.name, 'missing' if m.checkpoint_shape is None
            else list(m.checkpoint_shape), m.graph_shape)
          for m in mismatches]
  return ('checkpoint %s does not fit the graph: %d variable(s) cannot be '
          'restored.\n%s\n%s'
          % (checkpoint, len(mismatches),
             tables.format_table(['variable', 'checkpoint shape',
                                  'graph shape'], rows),
             _fix_hint(checkpoint, mismatches)))


def checked_restore(checkpoint_path, variables, exclude_scopes=()):
  """``(checkpoint, variables_to_restore)``, checked before anything runs.

  The checkpoint exists, every scope in ``exclude_scopes`` matches a
  variable, and every remaining variable exists in the checkpoint with the
  graph's shape. Graph, eager and distributed variables all work.

  Args:
    checkpoint_path: a checkpoint prefix or a folder holding checkpoints.
    variables: the candidate variables (usually the model variables).
    exclude_scopes: scopes whose variables keep their initial values.

  Returns:
    The checkpoint prefix and the variables to restore from it.

  Raises:
    CheckpointMismatchError: listing the variables that do not fit.
    ValueError: for a missing checkpoint or a scope that matches nothing.
  """
  checkpoint = resolve(checkpoint_path)
  to_restore = exclude(variables, exclude_scopes)
  if not to_restore:
    raise ValueError('--checkpoint_exclude_scopes %s excludes every variable: '
                     'exclude only the layers to train from scratch, e.g. '
                     'the logits.' % ','.join(clean_scopes(exclude_scopes)))
  mismatches = find_mismatches(checkpoint, to_restore)
  if mismatches:
    raise CheckpointMismatchError(mismatch_message(checkpoint, mismatches))
  return checkpoint, to_restore


def restore_fn(checkpoint_path, variables, exclude_scopes=()):
  """A function ``fn(session)`` that restores ``variables`` from a checkpoint.

  Everything is checked now, before any session runs (see
  ``checked_restore``).

  Returns:
    ``(fn, restored_variables)``.

  Raises:
    CheckpointMismatchError: listing the variables that do not fit.
    ValueError: for a missing checkpoint or a scope that matches nothing.
  """
  checkpoint, to_restore = checked_restore(checkpoint_path, variables,
                                           exclude_scopes)
  saver = tf.train.Saver({variable_name(v): v for v in to_restore})

  def restore(session):
    saver.restore(session, checkpoint)

  return restore, to_restore
