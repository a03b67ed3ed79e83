"""Checks of the ``--flagfile`` files a command line names, line by line.

  problem = first_problem(flag_values, sys.argv[1:], unknown_flag)
  if problem:
    cli.fail(problem)

absl reads a flag file as one argument per line and passes a line that
is not a flag on as a stray word, which a command then drops without a
word; a line naming an unknown flag or a value that does not parse is
reported without the file or the line. Checking the files first names
both, in one line, before the command does anything.
"""

import os
from typing import Callable, List, Optional, Sequence

from absl import flags

FLAGFILE = 'flagfile'
_COMMENTS = ('#', '//')


def flagfile_paths(arguments: Sequence[str]) -> List[str]:
  """The files ``--flagfile=PATH`` (or ``--flagfile PATH``) name, in order."""
  paths = []
  for index, argument in enumerate(arguments):
    name, equals, value = argument.lstrip('-').partition('=')
    if not argument.startswith('-') or name != FLAGFILE:
      continue
    if equals:
      paths.append(value)
    elif index + 1 < len(arguments):
      paths.append(arguments[index + 1])
  return [os.path.expanduser(path) for path in paths]


def _flag(flag_values, name):
  """The flag ``name`` names (``noNAME`` for a boolean's false), or None."""
  if name in flag_values:
    return flag_values[name]
  if name.startswith('no') and name[2:] in flag_values and (
      flag_values[name[2:]].boolean):
    return flag_values[name[2:]]
  return None


def _line_problem(flag_values, text, unknown_flag):
  """What is wrong with one flag line (stripped, not a comment), or None."""
  if not text.startswith('-'):
    return ('%r is not a flag: write one --flag=value per line (# starts a '
            'comment).' % text)
  name, equals, value = text.lstrip('-').partition('=')
  words = name.split()
  if len(words) > 1:
    return ('%r is not one --flag=value: write --%s=%s.'
            % (text, words[0], ' '.join(words[1:])))
  flag = _flag(flag_values, name)
  if flag is None:
    return unknown_flag(name)
  if not equals and not flag.boolean:
    return '--%s needs a value: write --%s=VALUE.' % (name, name)
  if equals:
    try:
      flag.parser.parse(value)
    except (ValueError, TypeError, flags.Error) as error:
      return '--%s=%s does not parse (%s).' % (name, value, error)
  return None


def _file_problem(flag_values, path, unknown_flag, reading, where=''):
  """The first problem of flag file ``path`` or a file it includes.

  ``reading`` holds the files being read above this one, so a file that
  includes itself is read once (as absl does); ``where`` is the line that
  included it ('' on the command line).
  """
  try:
    with open(path) as stream:
      lines = stream.read().splitlines()
  except (OSError, UnicodeDecodeError) as error:
    return ('%s--flagfile=%s cannot be read (%s): pass a text file of '
            '--flag=value lines.' % (where, path, getattr(error, 'strerror',
                                                          None) or error))
  for number, line in enumerate(lines, 1):
    text = line.strip()
    if not text or text.startswith(_COMMENTS):
      continue
    here = 'flagfile %s line %d: ' % (path, number)
    name, _, value = text.lstrip('-').partition('=')
    if text.startswith('-') and name == FLAGFILE:
      # An included file's problem names that file and its line.
      nested = os.path.expanduser(value)
      if nested not in reading:
        problem = _file_problem(flag_values, nested, unknown_flag,
                                reading + (nested,), here)
        if problem:
          return problem
      continue
    problem = _line_problem(flag_values, text, unknown_flag)
    if problem:
      return here + problem
  return None


def first_problem(flag_values: flags.FlagValues, arguments: Sequence[str],
                  unknown_flag: Callable[[str], str]) -> Optional[str]:
  """The first problem of the flag files ``arguments`` name, or None.

  Args:
    flag_values: the command's flags.
    arguments: the command line after the program name.
    unknown_flag: the message for a flag the command does not take, given
      its name.

  Returns:
    One line naming the file, the line number and what would work: a
    file that cannot be read, a line that is not a flag, a flag the
    command does not take, a value that does not parse.
  """
  for path in flagfile_paths(arguments):
    problem = _file_problem(flag_values, path, unknown_flag, (path,))
    if problem:
      return problem
  return None
