"""Run ``python -m resnet_v2.train`` that SIGKILLs itself inside a save.

  python fault_runner.py --fault_save=2 --fault_moment=data_partial \\
      --data_dir=... --train_dir=... (the train command's flags)

The trainer is imported unchanged; only TensorFlow's checkpoint writer
(``tf.raw_ops.SaveV2``) and the ``checkpoint`` state-file update
(``tf.compat.v1.train.update_checkpoint_state``) are wrapped, so that the
``--fault_save``-th save of this process dies with SIGKILL at
``--fault_moment``:

- ``data_partial``: the data file is half written and there is no index
  yet (what a kill while the data is written leaves);
- ``before_state``: data and index are complete, the state file does not
  name them yet;
- ``state_ahead``: the state file names the new checkpoint, but its data
  file is half written (what a crash leaves when the state file reached
  the disk before the data did);
- ``after_state``: the save is complete, the process dies before it goes on.
"""

import os
import signal
import sys

os.environ.setdefault('TF_CPP_MIN_LOG_LEVEL', '2')

import resnet_v2  # noqa: E402,F401  (imports TensorFlow quietly)
import tensorflow as tf  # noqa: E402

MOMENTS = ('data_partial', 'before_state', 'state_ahead', 'after_state')
DATA_SUFFIX = '.data-00000-of-00001'


def _truncate_half(path: str) -> None:
  """Cut the file at ``path`` to half its size."""
  with open(path, 'r+b') as f:
    f.truncate(os.path.getsize(path) // 2)


def _die() -> None:
  """SIGKILL this process: no handler, no clean-up, no flush."""
  os.kill(os.getpid(), signal.SIGKILL)


def install(fault_save: int, moment: str) -> None:
  """Wrap the save path so that save number ``fault_save`` dies at ``moment``."""
  save_v2 = tf.raw_ops.SaveV2
  update_state = tf.compat.v1.train.update_checkpoint_state
  saves = []

  def save(**kwargs):
    saves.append(kwargs['prefix'])
    result = save_v2(**kwargs)
    if len(saves) == fault_save and moment == 'data_partial':
      _truncate_half(kwargs['prefix'] + DATA_SUFFIX)
      os.remove(kwargs['prefix'] + '.index')
      _die()
    return result

  def update(directory, name, *args, **kwargs):
    if len(saves) != fault_save:
      return update_state(directory, name, *args, **kwargs)
    if moment == 'before_state':
      _die()
    if moment == 'state_ahead':
      _truncate_half(os.path.join(directory, name) + DATA_SUFFIX)
    result = update_state(directory, name, *args, **kwargs)
    _die()
    return result

  tf.raw_ops.SaveV2 = save
  tf.compat.v1.train.update_checkpoint_state = update


def _take(argv, flag):
  """The value of ``--flag=value`` in ``argv``, removed from it."""
  for argument in argv:
    if argument.startswith('--%s=' % flag):
      argv.remove(argument)
      return argument.split('=', 1)[1]
  raise SystemExit('fault_runner: --%s is required' % flag)


def main(argv) -> None:
  """Install the fault the flags ask for, then run the train command."""
  argv = list(argv)
  fault_save = int(_take(argv, 'fault_save'))
  moment = _take(argv, 'fault_moment')
  if moment not in MOMENTS:
    raise SystemExit('fault_runner: --fault_moment must be one of %s'
                     % ', '.join(MOMENTS))
  install(fault_save, moment)
  from resnet_v2 import train
  from resnet_v2.common import cli
  cli.run(train.main, train.FLAGS, train.__doc__, argv=argv)


if __name__ == '__main__':
  main(sys.argv)
