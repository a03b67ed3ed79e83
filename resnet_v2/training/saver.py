"""Checkpoints of a TF2 (eager, distributed) run, under TF-Slim's names.

  saver = Saver({'global_step': step, **layer_variables}, train_dir,
                is_chief=True)
  prefix = saver.save(100)                 # train_dir/model.ckpt-100
  saver.restore(prefix)                    # every variable, by name

The files are ordinary TF1 checkpoints: each variable is stored under its
TF-Slim name (``resnet_v2_50/block1/unit_1/bottleneck_v2/conv1/weights``),
so ``tf.compat.v1.train.Saver()`` in a graph, TF-Slim's own nets,
``evaluate`` and ``export`` all read them, and ``tf.train.list_variables``
shows the slim names. Distributed variables are read in cross-replica
context (batch-norm statistics kept per replica are averaged), which is a
collective under ``MultiWorkerMirroredStrategy``: every worker must call
``save``. Only the chief writes into ``train_dir``; the others write to a
temporary folder that is deleted at once.

Files changed behind the saver's back are named, never overwritten or
deleted blindly: a checkpoint the state file lists whose files are gone is
dropped from the list, a state file removed or replaced during the run is
written again from what this saver wrote, an old checkpoint that no longer
holds this run's variables is left in place instead of being rotated out,
and ``restore`` refuses a checkpoint replaced by another model's.
"""

import os
import re
import shutil
import tempfile
from typing import Callable, Dict, List, Optional, Tuple

import tensorflow as tf

CHECKPOINT_NAME = 'model.ckpt'
STATE_FILE = 'checkpoint'  # tf.train's name for the list of checkpoints


def _first_line(error):
  """The first line of an error's message, for a one-line report.

  TensorFlow wraps an op's message in the name of the function node that
  ran it (``{{function_node __wrapped__SaveV2_...}} ... [Op:SaveV2]``);
  those internal names are dropped so the user reads only the cause.
  """
  line = (str(getattr(error, 'message', '') or error).splitlines() or
          [type(error).__name__])[0]
  line = re.sub(r'\{\{function_node [^}]*\}\}\s*', '', line)
  return re.sub(r'\s*\[Op:\w+\]$', '', line).strip() or type(error).__name__


class Saver:
  """Writes and reads the checkpoints of one run.

  Args:
    variables: ``{checkpoint name: variable}`` of everything to keep.
    directory: the run's folder (the chief's checkpoints go there).
    is_chief: whether this process writes the real checkpoints.
    max_to_keep: how many of the newest checkpoints stay on disk.
    notify: prints a line saying what the saver found changed on disk.
  """

  def __init__(self, variables: Dict[str, tf.Variable], directory: str,
               is_chief: bool = True, max_to_keep: int = 5,
               notify: Callable[[str], None] = print):
    self.names = sorted(variables)
    self.variables = [variables[name] for name in self.names]
    self.directory = directory
    self.is_chief = is_chief
    self.max_to_keep = max_to_keep
    self.notify = notify
    # The names this saver last wrote into the state file (None until its
    # first save), to tell a state file changed during the run.
    self._listed = None
    # Traced now, not at the first save: a save on SIGTERM must fit in the
    # scheduler's grace period, and tracing resnet_v2_50's 447 reads takes
    # seconds.
    self._values = tf.function(
        lambda: [variable.read_value() for variable in self.variables]
    ).get_concrete_function()

  def _write(self, prefix):
    """Save every variable's value under its name to ``prefix``."""
    tf.raw_ops.SaveV2(prefix=prefix, tensor_names=self.names,
                      shape_and_slices=[''] * len(self.names),
                      tensors=self._values())

  def prefix(self, step: int) -> str:
    """The prefix of the checkpoint of ``step`` in the run's folder."""
    return os.path.join(self.directory, '%s-%d' % (CHECKPOINT_NAME, step))

  def save(self, step: int) -> Optional[str]:
    """Write the checkpoint of ``step``; its prefix (None on a non-chief).

    The ``checkpoint`` state file is updated only after the files are
    complete, so a crash while saving leaves the previous checkpoint as
    the newest one.
    """
    if not self.is_chief:
      scratch = tempfile.mkdtemp(prefix='worker_checkpoint_')
      try:
        self._write(os.path.join(scratch, CHECKPOINT_NAME))
      finally:
        shutil.rmtree(scratch, ignore_errors=True)
      return None
    prefix = self.prefix(step)
    name = os.path.basename(prefix)
    try:
      self._write(prefix)
    except (tf.errors.OpError, OSError) as error:
      self._remove(name)
      raise ValueError(
          'could not write the checkpoint of step %d to %s (%s): free space '
          'or permissions there, then run the same command again; it resumes '
          'from %s.' % (step, self.directory, _first_line(error),
                        self._newest() or 'the start')) from None
    # Names relative to the folder keep a moved or copied run directory
    # pointing at its own checkpoints. Older checkpoints are deleted only
    # once the state file no longer names them, so a kill in between never
    # leaves it naming deleted files.
    kept, dropped = self._kept_with(name)
    tf.compat.v1.train.update_checkpoint_state(
        self.directory, name, all_model_checkpoint_paths=kept)
    self._listed = kept
    for old in dropped:
      if self._holds_this_run(os.path.join(self.directory, old)):
        self._remove(old)
      else:
        self.notify('%s no longer holds this run\'s variables (replaced?): '
                    'left in place, and no longer named by the state file.'
                    % os.path.join(self.directory, old))
    return prefix

  def _newest(self) -> Optional[str]:
    """The newest checkpoint the state file names, or None."""
    state = tf.train.get_checkpoint_state(self.directory)
    return state.model_checkpoint_path if state else None

  def _remove(self, name: str) -> None:
    """Delete the files of checkpoint ``name`` in the run's folder."""
    for file_name in tf.io.gfile.glob(
        os.path.join(self.directory, name) + '.*'):
      tf.io.gfile.remove(file_name)

  def _state_names(self) -> List[str]:
    """The checkpoint names the state file lists, or, if it changed since
    this saver wrote it (removed, replaced), those this saver wrote."""
    state_file = os.path.join(self.directory, STATE_FILE)
    state = (tf.train.get_checkpoint_state(self.directory)
             if os.path.exists(state_file) else None)
    names = [os.path.basename(path) for path in
             (state.all_model_checkpoint_paths if state else [])]
    if self._listed is not None and names != self._listed:
      self.notify('%s was %s while this run trained: it is written again, '
                  'naming the checkpoints of this run.'
                  % (state_file, 'replaced' if state else 'removed'))
      return list(self._listed)
    return names

  def _kept_with(self, name: str) -> Tuple[List[str], List[str]]:
    """``(kept, dropped)``: the newest ``max_to_keep`` names ending with
    ``name``, and the older ones the state file lists, to delete.

    A listed checkpoint whose files are gone is named and left out of both.
    """
    older = [path for path in self._state_names() if path != name]
    for path in older:
      if not self._has_files(path):
        self.notify('%s is gone (its files were removed or moved): the state '
                    'file no longer names it.'
                    % os.path.join(self.directory, path))
    older = [path for path in older if self._has_files(path)]
    kept = older[-(self.max_to_keep - 1):] if self.max_to_keep > 1 else []
    return kept + [name], [path for path in older if path not in kept]

  def _has_files(self, name: str) -> bool:
    """Whether any file of checkpoint ``name`` is in the run's folder."""
    return bool(tf.io.gfile.glob(os.path.join(self.directory, name) + '.*'))

  def _mismatches(self, reader, names: Optional[List[str]] = None
                  ) -> List[str]:
    """This run's variables (or those in ``names``) that the checkpoint of
    ``reader`` lacks or holds in another shape, each as 'name (why)'."""
    shapes = reader.get_variable_to_shape_map()
    found = []
    for name, variable in zip(self.names, self.variables):
      here = variable.shape.as_list()
      if names is not None and name not in names:
        continue
      if name not in shapes:
        found.append('%s (missing)' % name)
      elif list(shapes[name]) != here:
        found.append('%s (%s here, %s there)' % (name, here,
                                                 list(shapes[name])))
    return found

  def _holds_this_run(self, prefix: str) -> bool:
    """Whether the checkpoint at ``prefix`` holds this run's variables (an
    unreadable one cannot be told apart, so it does not)."""
    try:
      return not self._mismatches(tf.train.load_checkpoint(prefix))
    except tf.errors.OpError:
      return False

  def restore(self, prefix: str, names: Optional[List[str]] = None) -> None:
    """Assign every variable (or those in ``names``) its saved value.

    Raises:
      ValueError: if the files cannot be read (damaged after they were
        checked) or hold another model's variables (replaced), naming the
        checkpoint and how to resume without it.
    """
    try:
      reader = tf.train.load_checkpoint(prefix)
      mismatches = self._mismatches(reader, names)
      if mismatches:
        raise ValueError(
            'checkpoint %s does not hold this run\'s variables (%d differ, '
            'e.g. %s): it was replaced by another model\'s or another run\'s. '
            'Move its files out of %s and run the same command again; it '
            'resumes from the checkpoint before it.'
            % (prefix, len(mismatches), mismatches[0],
               os.path.dirname(prefix)))
      for name, variable in zip(self.names, self.variables):
        if names is None or name in names:
          variable.assign(reader.get_tensor(name))
    except (tf.errors.OpError, IndexError) as error:
      raise ValueError(
          'checkpoint %s cannot be read (%s): move its files out of %s and '
          'run the same command again; it resumes from the checkpoint before '
          'it.' % (prefix, _first_line(error), os.path.dirname(prefix))
      ) from None
