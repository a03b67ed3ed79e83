"""Shared by every command: flag definitions, parsing, logs, clean errors.

  FLAGS = flags.FlagValues()
  cli.define_precision_flag(FLAGS)
  if __name__ == '__main__':
    cli.run(main, FLAGS, __doc__)        # exit status 2 and one line on error

Each command keeps its flags in its own ``absl.flags.FlagValues`` rather
than absl's global one, so the command modules can be imported side by side
(in tests, or by another tool) even though several define ``--train_dir``
or ``--batch_size``. ``run`` parses them, and turns bad input into one
``error: ...`` line on stderr with exit status 2 and no traceback, because
the message already says what to change: a flag that does not parse, a
ValueError or TypeError from the library, or a FloatingPointError when
training diverges. TensorFlow's deprecation chatter is silenced so that the
progress lines stay readable.
"""

import contextlib
import dataclasses
import importlib
import logging as python_logging
import os
import re
import sys

from absl import flags
from absl import logging

from resnet_v2.common import flag_owners
from resnet_v2.common import flagfiles

# TensorFlow's C++ log threshold for every command, set before TensorFlow
# loads: 3 keeps the lines it prints at first use (a failed CUDA probe on
# a machine without a GPU, MLIR pass notes) off the command's output. Set
# TF_CPP_MIN_LOG_LEVEL=0 in the environment to see them.
os.environ.setdefault('TF_CPP_MIN_LOG_LEVEL', '3')

USAGE_ERROR_EXIT = 2
INTERRUPTED_EXIT = 130  # 128 + SIGINT, as a shell reports it
HELP_FLAGS = ('-h', '--help', '--helpshort', '--helpfull', '-?')


RELEASE_HELP = ('or a release name (resnet_v2_50, ...; see python -m '
                'resnet_v2.weights list) for TF-Slim\'s ImageNet weights, '
                'fetched on first use')


def define_trained_run_flags(flag_values):
  """``--train_dir`` and ``--checkpoint_path``, to read a run or a release."""
  flags.DEFINE_string('train_dir', None, 'Folder a training run wrote.',
                      flag_values=flag_values)
  flags.DEFINE_string('checkpoint_path', None,
                      'Checkpoint (file, prefix or folder); default: the '
                      'newest in train_dir; ' + RELEASE_HELP + '.',
                      flag_values=flag_values)


def define_dataclass_flags(flag_values, record_type):
  """One flag per field of the dataclass ``record_type``.

  The flag takes the field's name, default and ``metadata['help']``; its
  kind follows the annotation (bool, int, float, a sequence of str as a
  comma list, else str), and ``metadata['choices']``, a function returning
  the allowed values, makes it an enum. The dataclass stays the one home
  of the defaults.
  """
  for field in dataclasses.fields(record_type):
    default = (field.default_factory() if field.default is dataclasses.MISSING
               else field.default)
    help_text = field.metadata.get('help', field.name)
    choices = field.metadata.get('choices')
    if choices is not None:
      flags.DEFINE_enum(field.name, default, list(choices()), help_text,
                        flag_values=flag_values)
      continue
    kind = str(field.type)
    define = next((define for word, define in _FLAG_KINDS if word in kind),
                  flags.DEFINE_string)
    define(field.name, default, help_text, flag_values=flag_values)


# Annotation word -> flag definer, first match wins ('bool' before 'int').
_FLAG_KINDS = (('bool', flags.DEFINE_boolean), ('int', flags.DEFINE_integer),
               ('float', flags.DEFINE_float), ('Sequence', flags.DEFINE_list))


def define_precision_flag(flag_values, several=False):
  """``--precision``: one of ``precision.PRECISIONS``, or a comma list.

  ``precision`` needs TensorFlow, so it is imported here, by the commands
  that take the flag, rather than with this module.
  """
  precision = importlib.import_module('resnet_v2.common.precision')
  help_text = ('fp32, or bf16 mixed precision where the hardware has it '
               '(bfloat16 on CPUs with AVX512-BF16/AMX, float16 on GPUs)')
  if several:
    flags.DEFINE_list('precision', [precision.PRECISIONS[0]],
                      help_text + '; a comma list such as fp32,bf16 runs each.',
                      flag_values=flag_values)
  else:
    flags.DEFINE_enum('precision', precision.PRECISIONS[0],
                      precision.PRECISIONS, help_text + '.',
                      flag_values=flag_values)


def define_data_flags(flag_values):
  """``--strict`` and ``--precision``, for commands that read image folders."""
  flags.DEFINE_boolean('strict', False,
                       'Fail on an unreadable image instead of skipping it.',
                       flag_values=flag_values)
  define_precision_flag(flag_values)


def fail(message, program=None):
  """Print ``[program: ]error: message`` to stderr; exit with status 2."""
  prefix = '%s: ' % program if program else ''
  sys.stderr.write('%serror: %s\n' % (prefix, message))
  sys.exit(USAGE_ERROR_EXIT)


@contextlib.contextmanager
def errors_as_usage(program=None):
  """Turn the library's ValueError, TypeError and FloatingPointError into
  one ``error:`` line and exit status 2: their messages say what to change.
  """
  try:
    yield
  except (ValueError, TypeError, FloatingPointError) as error:
    fail(error, program)


def parse(flag_values, argv, doc, program=None):
  """Parse ``argv`` into ``flag_values``; help and bad flags exit here.

  The first problem is named, in this order: an argument that is not a
  flag, a line of a ``--flagfile`` that is not one of this command's flags
  with a value that parses (``flagfiles``), a flag this command does not
  take, a value that does not parse, a required flag left out.

  Returns:
    ``argv[:1]``: every option is a --flag, so nothing else is left.
  """
  if any(argument in HELP_FLAGS for argument in argv[1:]):
    print(doc)
    print(flag_values.get_help())
    sys.exit(0)
  stray = _stray_arguments(flag_values, argv[1:])
  if stray:
    fail('unexpected arguments %s: every option is a --flag (see --help).'
         % ' '.join(stray), program)
  problem = flagfiles.first_problem(
      flag_values, argv[1:],
      lambda name: _unknown_flag_message(name, argv[0]))
  if problem:
    fail(problem, program)
  try:
    return flag_values(argv)[:1]
  except flags.UnrecognizedFlagError as error:
    fail(_unknown_flag_message(error.flagname, argv[0], str(error)), program)
  except flags.IllegalFlagValueError as error:
    fail(_illegal_value_message(error, flag_values), program)
  except flags.Error as error:
    fail(error, program)


def _stray_arguments(flag_values, arguments):
  """The arguments that are neither a flag nor the value of one.

  absl takes ``--flag value`` as well as ``--flag=value`` for a flag that
  is not boolean, so the word after such a flag (or after a flag this
  command does not know, which is reported as such) is its value.
  """
  stray, takes_value = [], False
  for index, argument in enumerate(arguments):
    if argument == '--':
      return stray + arguments[index + 1:]
    if takes_value:
      takes_value = False
    elif argument.startswith('-'):
      name = argument.lstrip('-')
      takes_value = '=' not in name and (name not in flag_values or
                                         not flag_values[name].boolean)
    else:
      stray.append(argument)
  return stray


_REQUIRED = re.compile(r'Flag --(\w+) must have a value other than None')
_UNPARSED = re.compile(r'^flag --(\w+)=(.*?): ')
# The parser of a number flag -> what its value must look like.
_NUMBER_KINDS = {flags.IntegerParser: 'a whole number',
                 flags.FloatParser: 'a number'}


def _illegal_value_message(error, flag_values):
  """absl's message for a bad value, with what would work."""
  message = str(error)
  required = _REQUIRED.search(message)
  if required:
    flag = flag_values[required.group(1)]
    return '--%s is required: %s' % (flag.name, flag.help)
  unparsed = _UNPARSED.match(message)
  if unparsed and unparsed.group(1) in flag_values:
    flag = flag_values[unparsed.group(1)]
    kind = _NUMBER_KINDS.get(type(flag.parser))
    if kind:
      example = ('%s (the default)' % flag.default if flag.default is not None
                 else '10')
      return ('--%s=%s is not %s: pass e.g. --%s=%s.'
              % (flag.name, unparsed.group(2), kind, flag.name, example))
  return message


def _unknown_flag_message(name, program_path, unknown=None):
  """``unknown`` (absl's message, by default one of ours), plus the command
  that takes the flag ``name`` if one does."""
  owners = flag_owners.owners(name, program_path)
  if not owners:
    return '%s (see --help for the flags this command takes).' % (
        unknown or '--%s is not a flag of this command' % name)
  this = flag_owners.command_for(program_path) or 'this command'
  return ('--%s is a flag of %s, not of %s: run it there, or see --help for '
          "this command's flags." % (name, ', '.join(owners), this))


def quiet_logs():
  """INFO logs through absl; TensorFlow's Python warnings silenced."""
  flags.FLAGS.mark_as_parsed()
  logging.use_absl_handler()
  logging.set_verbosity(logging.INFO)
  python_logging.getLogger('tensorflow').setLevel(python_logging.ERROR)


def run(main, flag_values, doc, argv=None):
  """Parse the command line into ``flag_values``, then exit with ``main()``.

  Args:
    main: a function of no arguments returning the exit status.
    flag_values: the command's ``FlagValues``.
    doc: the command's usage text, printed by ``--help``.
    argv: the command line; ``sys.argv`` when None.
  """
  parse(flag_values, sys.argv if argv is None else argv, doc)
  quiet_logs()
  try:
    with errors_as_usage():
      status = main()
  except KeyboardInterrupt:
    # Ctrl-C outside training (which saves and stops by itself): one line,
    # and the shell's status for SIGINT, instead of a traceback.
    sys.stderr.write('interrupted (Ctrl-C).\n')
    status = INTERRUPTED_EXIT
  sys.exit(status)
