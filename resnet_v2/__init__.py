"""resnet_v2: TF-Slim-compatible, configurable pre-activation ResNets.

  import resnet_v2
  with tf.Graph().as_default():
    logits, end_points = resnet_v2.get_network_fn('resnet_v2_50', 1000)(images)

The package is folders by concern: ``nets`` (the Block spec, units, model
table, analysis, backbone), ``data`` (image folders, preprocessing,
tf.data), ``training`` (the trainer, run records, evaluation, export) and
``benchmark`` (timing and the peers); ``common`` holds what every command
shares. Importing it applies the tf-slim compatibility fix first
(``resnet_v2.nets.compat``). Each registered model's constructor
(``resnet_v2.resnet_v2_50`` ...) is an attribute of the package, generated
from the model table in ``resnet_v2.nets.zoo``.
"""

import importlib as _importlib
import os as _os
import sys as _sys
import tempfile as _tempfile


def _import_tensorflow_quietly():
  """Import TensorFlow with the start-up lines of its C++ runtime held back.

  While it loads, TensorFlow's runtime writes notices (CUDA probing,
  oneDNN, CPU features) straight to the stderr file descriptor, before any
  log level applies. They are captured in a temporary file and shown only
  if the import fails. (Devices are left alone: XLA's CPU flag must reach
  TensorFlow before it first sets them up.)
  """
  saved = _os.dup(2)
  with _tempfile.TemporaryFile() as captured:
    _os.dup2(captured.fileno(), 2)
    try:
      import tensorflow  # noqa: F401  pylint: disable=g-import-not-at-top
    except BaseException:
      _os.dup2(saved, 2)
      captured.seek(0)
      _sys.stderr.write(captured.read().decode('utf-8', 'replace'))
      raise
    finally:
      _os.dup2(saved, 2)
      _os.close(saved)


_import_tensorflow_quietly()

from resnet_v2 import nets as _nets  # noqa: E402
from resnet_v2.benchmark.timing import TimingResult  # noqa: E402
from resnet_v2.benchmark.timing import time_tensorflow_run  # noqa: E402
from resnet_v2.common.precision import check_precision_supported  # noqa: E402
from resnet_v2.common.precision import session_config  # noqa: E402
from resnet_v2.nets import *  # noqa: F401,F403,E402  (nets' public names)

__all__ = sorted(_nets.__all__ + [
    'TimingResult', 'check_precision_supported', 'session_config',
    'time_tensorflow_run'])


# Imported on first use: they bring tf_keras layers, distribution and the
# deployment runtimes, which a graph-mode user of the nets does not need.
_LAZY_SUBMODULES = ('keras', 'data', 'training', 'deploy', 'benchmark')


def __getattr__(name):
  """A lazily imported part (``resnet_v2.keras`` ...), or the constructor of
  a model registered after import, by its name."""
  if name in _LAZY_SUBMODULES:
    return _importlib.import_module('resnet_v2.' + name)
  try:
    return getattr(_nets, name)
  except AttributeError:
    raise AttributeError('module %r has no attribute %r'
                         % (__name__, name)) from None
