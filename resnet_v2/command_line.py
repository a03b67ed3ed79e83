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

USAGE_ERROR_EXIT = 2
HELP_FLAGS = ('-h', '--help', '--helpshort', '--helpfull', '-?')


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
