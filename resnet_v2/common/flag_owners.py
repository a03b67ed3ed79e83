"""Which command takes a flag: the advice for a flag given to the wrong one.

  owners('max_steps')          # ['python -m resnet_v2.train']
  owners('num_batches')        # ['python benchmarks/time_resnet_v2.py']

A flag that one command does not know is often a flag of another (for
example ``--max_steps`` given to ``resnet_v2.evaluate``); the error then
names the command that takes it. The commands' own flag definitions are
the only record: each command module keeps its flags in a module-level
``FLAGS``, so the lookup imports the commands (only on this error path,
since that loads TensorFlow) and asks them.
"""

import importlib
import importlib.util
import os
import pathlib
from typing import List, Optional

# The package's command modules, as a user runs them.
_MODULES = ('resnet_v2.train', 'resnet_v2.evaluate', 'resnet_v2.export',
            'resnet_v2.summary')
# The scripts beside the package in a source checkout.
_SCRIPTS_DIR = pathlib.Path(__file__).resolve().parents[2] / 'benchmarks'
_SCRIPTS = ('time_resnet_v2.py', 'train_digits.py')


def _module_commands():
  """``[(how a user runs it, its file), ...]`` for the command modules."""
  found = []
  for name in _MODULES:
    module_spec = importlib.util.find_spec(name)
    if module_spec is not None and module_spec.origin:
      found.append(('python -m ' + name, module_spec.origin))
  return found


def _script_commands():
  """``[(how a user runs it, its file), ...]`` for the scripts present."""
  return [('python benchmarks/' + name, str(_SCRIPTS_DIR / name))
          for name in _SCRIPTS if (_SCRIPTS_DIR / name).is_file()]


def _commands():
  """Every command the package has here, as (how it is run, its file)."""
  return _module_commands() + _script_commands()


def _same_file(first: str, second: str) -> bool:
  """Whether two paths name one file."""
  return os.path.realpath(first) == os.path.realpath(second)


def command_for(program_path: str) -> Optional[str]:
  """How a user runs the command whose file is ``program_path``, or None."""
  for command, path in _commands():
    if _same_file(path, program_path):
      return command
  return None


def _flags_of(path: str):
  """The ``FLAGS`` of the command at ``path``, loaded without running it."""
  name = '_flag_owners_' + pathlib.Path(path).stem
  module_spec = importlib.util.spec_from_file_location(name, path)
  module = importlib.util.module_from_spec(module_spec)
  module_spec.loader.exec_module(module)
  return module.FLAGS


def owners(flag: str, program_path: Optional[str] = None) -> List[str]:
  """The commands (as a user runs them) that define ``--flag``.

  ``--noflag``, absl's way to give a boolean False, counts as ``--flag``.
  The command at ``program_path`` (the one that refused the flag) is left
  out.
  """
  names = {flag, flag[2:]} if flag.startswith('no') else {flag}
  found = []
  for command, path in _commands():
    if program_path and _same_file(path, program_path):
      continue
    if names & set(_flags_of(path)):
      found.append(command)
  return found
