"""What every command shares: argument checks, precision, the CLI convention.

  checks.check_count('batch_size', 32)           # ValueError saying what works
  precision.session_config('bf16')               # the mixed-precision rewrite
  cli.run(main, FLAGS, __doc__)                  # 'error: ...' and exit 2

This package imports nothing else from resnet_v2, so every other part may
use it.
"""

from resnet_v2.common import checks
from resnet_v2.common import cli
from resnet_v2.common import precision
from resnet_v2.common import tables

__all__ = ['checks', 'cli', 'precision', 'tables']
