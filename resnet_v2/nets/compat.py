"""Make tf-slim 1.1.0 work on current TensorFlow and tf-keras.

tf-slim's last release predates TensorFlow 2.16 and trips over two removals:

1. ``tensorflow.python.framework.ops.Tensor`` no longer exists (the class
   is ``tf.Tensor``), yet ``tf_slim.layers.utils`` and the learning helpers
   still test ``isinstance(x, ops.Tensor)``.
2. ``slim.batch_norm`` reaches the legacy Keras layers through TensorFlow's
   lazy loader, which imports ``tf_keras.legacy_tf_layers``; tf-keras now
   ships that package as ``tf_keras.src.legacy_tf_layers``.

Importing this module restores both names, once, without touching files on
disk. The package imports it before anything else, so ``import resnet_v2``
is all a user needs for ``tf_slim`` (and ``tf_slim.nets``) to work.
"""

import importlib
import sys
import warnings

import tensorflow as tf
from tensorflow.python.framework import ops as _framework_ops

_LEGACY_LAYERS = 'tf_keras.legacy_tf_layers'
_LEGACY_LAYERS_HOME = 'tf_keras.src.legacy_tf_layers'
_LEGACY_SUBMODULES = ('base', 'convolutional', 'core', 'normalization',
                      'pooling')


def _restore_tensor_class():
  """Give ``ops.Tensor`` back to code that still spells it that way."""
  if not hasattr(_framework_ops, 'Tensor'):
    _framework_ops.Tensor = tf.Tensor


def _alias_legacy_layers():
  """Register tf-keras' legacy layers under the import path tf-slim uses."""
  try:
    importlib.import_module(_LEGACY_LAYERS + '.normalization')
    return
  except ImportError:
    pass
  sys.modules[_LEGACY_LAYERS] = importlib.import_module(_LEGACY_LAYERS_HOME)
  for name in _LEGACY_SUBMODULES:
    sys.modules[_LEGACY_LAYERS + '.' + name] = importlib.import_module(
        _LEGACY_LAYERS_HOME + '.' + name)


def _quiet_legacy_layer_warning():
  """Hide the per-layer 'layer.apply is deprecated' warning tf-slim causes."""
  warnings.filterwarnings('ignore', message='`layer.apply` is deprecated')


def apply():
  """Apply every fix; safe to call more than once."""
  _restore_tensor_class()
  _alias_legacy_layers()
  _quiet_legacy_layer_warning()


apply()
