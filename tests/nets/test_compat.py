"""The tf-slim compat fix: tf-slim 1.1.0 and its reference nets run on current TF."""

import importlib
import subprocess
import sys

import numpy as np
import tensorflow as tf
import tf_slim as slim
from tensorflow.python.framework import ops as framework_ops

from resnet_v2.nets import compat


def test_ops_tensor_is_tf_tensor():
  assert framework_ops.Tensor is tf.Tensor


def test_legacy_layers_import_under_the_old_path():
  module = importlib.import_module('tf_keras.legacy_tf_layers.normalization')
  assert hasattr(module, 'BatchNormalization')


def test_apply_is_idempotent():
  before = sys.modules['tf_keras.legacy_tf_layers']
  compat.apply()
  compat.apply()
  assert sys.modules['tf_keras.legacy_tf_layers'] is before
  assert framework_ops.Tensor is tf.Tensor


def test_slim_batch_norm_normalizes(graph):
  values = np.arange(24, dtype=np.float32).reshape(2, 2, 2, 3)
  out = slim.batch_norm(tf.constant(values), is_training=True, center=False,
                        scale=False, epsilon=0.0)
  with tf.compat.v1.Session() as sess:
    sess.run(tf.compat.v1.global_variables_initializer())
    result = sess.run(out)
  expected = (values - values.mean((0, 1, 2))) / values.std((0, 1, 2))
  np.testing.assert_allclose(result, expected, rtol=1e-4, atol=1e-4)


def test_importing_the_package_makes_the_reference_nets_build():
  code = (
      'import resnet_v2, tensorflow as tf, tf_slim as slim\n'
      'from tf_slim.nets import resnet_v2 as ref\n'
      'with tf.Graph().as_default():\n'
      '  with slim.arg_scope(ref.resnet_arg_scope()):\n'
      '    net, _ = ref.resnet_v2_50(tf.zeros([1, 32, 32, 3]), 10)\n'
      '  print(net.shape)\n')
  result = subprocess.run([sys.executable, '-c', code], capture_output=True,
                          text=True, check=False, timeout=300)
  assert result.returncode == 0, result.stderr[-2000:]
  assert result.stdout.strip().endswith('(1, 1, 1, 10)')
