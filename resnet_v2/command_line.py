"""Shared by every ``python -m resnet_v2.<command>``: quiet logs, clean errors.

A command's ``main`` raises ValueError or TypeError for bad input (and
FloatingPointError when training diverges); ``run``
turns that into one ``error: ...`` line on stderr and exit status 2, with
no traceback, because the message already says what to change. TensorFlow's
own deprecation chatter is silenced so that the progress lines stay
readable.
"""

import sys

from absl import app
from absl import logging
import tensorflow as tf

USAGE_ERROR_EXIT = 2


def _guarded(main):
  """``main`` with bad-input exceptions turned into a message and exit code."""
  def guarded_main(argv):
    if len(argv) > 1:
      raise app.UsageError('unexpected arguments %s: every option is a '
                           '--flag.' % ' '.join(argv[1:]))
    tf.get_logger().setLevel('ERROR')
    logging.set_verbosity(logging.INFO)
    try:
      return main()
    except (ValueError, TypeError, FloatingPointError) as error:
      sys.stderr.write('error: %s\n' % error)
      return USAGE_ERROR_EXIT
  return guarded_main


def run(main):
  """Parse the absl flags and call ``main()``; it returns the exit code."""
  app.run(_guarded(main))
