"""resnet_v2: TF-Slim-compatible, configurable pre-activation ResNets.

  import resnet_v2
  with tf.Graph().as_default():
    logits, end_points = resnet_v2.get_network_fn('resnet_v2_50', 1000)(images)

The package is folders by concern: ``nets`` (the Block spec, units, model
table, analysis, backbone), ``data`` (image folders, preprocessing,
tf.data), ``training`` (the trainer, run records, evaluation, export),
``deploy`` (int8 and bf16 exports) and ``benchmark`` (timing and the
peers); ``common`` holds what every command shares. Each registered
model's constructor (``resnet_v2.resnet_v2_50`` ...) is an attribute of
the package, generated from the model table in ``resnet_v2.nets.registry``.

Importing the package loads nothing heavy: each name is imported on first
use, so ``describe()`` and ``python -m resnet_v2.summary`` run without
TensorFlow. When TensorFlow does load, it loads quietly (its C++ start-up
notices are held back and shown only if the import fails) and with the
tf-slim compatibility fix applied (``resnet_v2.nets.compat``), so
``tf_slim`` and ``tf_slim.nets`` work after ``import resnet_v2``.
"""

import contextlib as _contextlib
import importlib as _importlib
import importlib.abc as _importlib_abc
import importlib.util as _importlib_util
import os as _os
import sys as _sys
import tempfile as _tempfile


@_contextlib.contextmanager
def _stderr_held_back():
  """Send the stderr file descriptor to a temporary file for the block.

  TensorFlow's runtime writes its start-up notices (CUDA probing, oneDNN,
  CPU features) straight to file descriptor 2, before any log level
  applies. They are dropped, unless the block raises: then they are shown,
  since they may say why.
  """
  saved = _os.dup(2)
  with _tempfile.TemporaryFile() as captured:
    _os.dup2(captured.fileno(), 2)
    try:
      yield
    except BaseException:
      _os.dup2(saved, 2)
      captured.seek(0)
      _sys.stderr.write(captured.read().decode('utf-8', 'replace'))
      raise
    finally:
      _os.dup2(saved, 2)
      _os.close(saved)


class _QuietLoader(_importlib_abc.Loader):
  """TensorFlow's own loader, run with stderr held back, then the fix."""

  def __init__(self, loader):
    self._loader = loader

  def create_module(self, spec):
    """The module object TensorFlow's loader makes."""
    return self._loader.create_module(spec)

  def exec_module(self, module):
    """Run TensorFlow's ``__init__`` quietly, then the tf-slim fix."""
    with _stderr_held_back():
      self._loader.exec_module(module)
      _importlib.import_module('resnet_v2.nets.compat')

  def __getattr__(self, name):
    """Anything else (resources, source) from TensorFlow's loader."""
    return getattr(self._loader, name)


class _QuietTensorFlowFinder(_importlib_abc.MetaPathFinder):
  """Finds TensorFlow once, the first time anything imports it."""

  def find_spec(self, fullname, path=None, target=None):
    """TensorFlow's own spec with the quiet loader; then steps aside."""
    if fullname != 'tensorflow':
      return None
    _sys.meta_path.remove(self)
    spec = _importlib_util.find_spec(fullname)
    if spec is not None and spec.loader is not None:
      spec.loader = _QuietLoader(spec.loader)
    return spec


if 'tensorflow' in _sys.modules:
  _importlib.import_module('resnet_v2.nets.compat')
else:
  _sys.meta_path.insert(0, _QuietTensorFlowFinder())


# Name -> the module that defines it, beyond the nets' public names.
_HOMES = {
    'TimingResult': 'resnet_v2.benchmark.timing',
    'time_tensorflow_run': 'resnet_v2.benchmark.timing',
    'check_precision_supported': 'resnet_v2.common.precision',
    'session_config': 'resnet_v2.common.precision',
}
_SUBPACKAGES = ('benchmark', 'common', 'data', 'deploy', 'keras', 'nets',
                'tf_keras', 'training', 'weights')


def _nets():
  """The ``resnet_v2.nets`` package."""
  return _importlib.import_module('resnet_v2.nets')


def __getattr__(name):
  """A part of the package (``resnet_v2.keras`` ...), a public name, or the
  constructor of a registered model, each imported on first use."""
  if name == '__all__':
    return sorted(list(_HOMES) + list(_nets().__all__))
  if name in _SUBPACKAGES:
    return _importlib.import_module('resnet_v2.' + name)
  if name in _HOMES:
    return getattr(_importlib.import_module(_HOMES[name]), name)
  try:
    return getattr(_nets(), name)
  except AttributeError:
    raise AttributeError('module %r has no attribute %r'
                         % (__name__, name)) from None


def __dir__():
  """The module's own names and the public ones, for ``dir()``."""
  return sorted(set(globals()) | set(__getattr__('__all__')))
