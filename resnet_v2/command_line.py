"""Shared by every ``python -m resnet_v2.<command>``: flags, logs, clean errors.

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

import sys

from absl import flags
from absl import logging
import tensorflow as tf

from resnet_v2 import precision

USAGE_ERROR_EXIT = 2
HELP_FLAGS = ('-h', '--help', '--helpshort', '--helpfull', '-?')


def define_trained_run_flags(flag_values):
  """``--train_dir`` (required) and ``--checkpoint_path``, to read a run."""
  flags.DEFINE_string('train_dir', None, 'Folder a training run wrote.',
                      flag_values=flag_values)
  flags.DEFINE_string('checkpoint_path', None,
                      'Checkpoint prefix; default: the newest in train_dir.',
                      flag_values=flag_values)
  flags.mark_flag_as_required('train_dir', flag_values=flag_values)


def define_data_flags(flag_values):
  """``--strict`` and ``--precision``, for commands that read image folders."""
  flags.DEFINE_boolean('strict', False,
                       'Fail on an unreadable image instead of skipping it.',
                       flag_values=flag_values)
  flags.DEFINE_enum('precision', 'fp32', precision.PRECISIONS,
                    'fp32, or bf16 mixed precision where the hardware has it.',
                    flag_values=flag_values)


def fail(message):
  """Print ``error: message`` to stderr and exit with the usage status."""
  sys.stderr.write('error: %s\n' % (message,))
  sys.exit(USAGE_ERROR_EXIT)


def parse(flag_values, argv, doc):
  """Parse ``argv`` into ``flag_values``; help and bad flags exit here."""
  if any(argument in HELP_FLAGS for argument in argv[1:]):
    print(doc)
    print(flag_values.get_help())
    sys.exit(0)
  try:
    rest = flag_values(argv)
  except flags.Error as error:
    fail(error)
  if len(rest) > 1:
    fail('unexpected arguments %s: every option is a --flag (see --help).'
         % ' '.join(rest[1:]))


def run(main, flag_values, doc, argv=None):
  """Parse the command line into ``flag_values``, then exit with ``main()``.

  Args:
    main: a function of no arguments returning the exit status.
    flag_values: the command's ``FlagValues``.
    doc: the command's usage text, printed by ``--help``.
    argv: the command line; ``sys.argv`` when None.
  """
  parse(flag_values, sys.argv if argv is None else argv, doc)
  flags.FLAGS.mark_as_parsed()
  logging.use_absl_handler()
  logging.set_verbosity(logging.INFO)
  tf.get_logger().setLevel('ERROR')
  try:
    status = main()
  except (ValueError, TypeError, FloatingPointError) as error:
    fail(error)
  sys.exit(status)
