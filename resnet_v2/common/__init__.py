"""What every command shares: argument checks, precision, the CLI convention.

  checks.check_count('batch_size', 32)           # ValueError saying what works
  precision.session_config('bf16')               # the mixed-precision rewrite
  cli.run(main, FLAGS, __doc__)                  # 'error: ...' and exit 2

This package imports nothing else from resnet_v2, so every other part may
use it. Only ``precision`` needs TensorFlow; each module is imported on
first use, so the others stay light.
"""

import importlib

__all__ = ['checks', 'cli', 'precision', 'tables']


def __getattr__(name):
  """One of the modules above, imported on first use."""
  if name in __all__:
    return importlib.import_module(__name__ + '.' + name)
  raise AttributeError('module %r has no attribute %r' % (__name__, name))
