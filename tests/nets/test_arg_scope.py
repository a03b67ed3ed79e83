"""resnet_arg_scope and how batch-norm settings reach every layer."""

import numpy as np
import tensorflow as tf
import tf_slim as slim

import resnet_v2

# resnet_v2_50: 16 units with three batch norms each (preact, conv1, conv2)
# and the final postnorm.
BATCH_NORMS = 16 * 3 + 1


def batch_norm_ops(graph):
  """Every fused batch-norm op of ``graph``."""
  return [op for op in graph.get_operations()
          if op.type.startswith('FusedBatchNorm') and 'grad' not in op.type]


def build(is_training=True, **scope_kwargs):
  """resnet_v2_50 with 10 classes under resnet_arg_scope(**scope_kwargs)."""
  with slim.arg_scope(resnet_v2.resnet_arg_scope(**scope_kwargs)):
    return resnet_v2.resnet_v2_50(tf.zeros([2, 64, 64, 3]), 10,
                                  is_training=is_training)


def test_training_mode_collects_moving_average_updates(graph):
  build(is_training=True)
  ops = batch_norm_ops(graph)
  assert len(ops) == BATCH_NORMS
  assert all(op.get_attr('is_training') for op in ops)
  updates = tf.compat.v1.get_collection(tf.compat.v1.GraphKeys.UPDATE_OPS)
  assert len(updates) == 2 * len(ops)


def test_inference_mode_uses_moving_averages(graph):
  build(is_training=False)
  assert not any(op.get_attr('is_training') for op in batch_norm_ops(graph))
  assert not tf.compat.v1.get_collection(tf.compat.v1.GraphKeys.UPDATE_OPS)


def test_user_arg_scope_reaches_every_batch_norm(graph):
  with slim.arg_scope([slim.batch_norm], is_training=False):
    build(is_training=True)
  ops = batch_norm_ops(graph)
  assert len(ops) == BATCH_NORMS
  assert not any(op.get_attr('is_training') for op in ops)
  assert not tf.compat.v1.get_collection(tf.compat.v1.GraphKeys.UPDATE_OPS)


def test_weight_decay_penalizes_every_conv_kernel(graph):
  build(weight_decay=0.01)
  kernels = [v for v in tf.compat.v1.trainable_variables()
             if v.op.name.endswith('weights')]
  losses = tf.compat.v1.losses.get_regularization_losses()
  assert len(losses) == len(kernels) == 1 + 16 * 3 + 4 + 1
  with tf.compat.v1.Session() as session:
    session.run(tf.compat.v1.global_variables_initializer())
    total, values = session.run([tf.add_n(losses), kernels])
  expected = 0.01 * sum(np.sum(np.square(v)) / 2 for v in values)
  np.testing.assert_allclose(total, expected, rtol=1e-4)


def test_without_batch_norm_convs_get_biases(graph):
  build(use_batch_norm=False)
  names = [v.op.name for v in tf.compat.v1.global_variables()]
  assert 'resnet_v2_50/block1/unit_1/bottleneck_v2/conv1/biases' in names
  assert not any('conv1/BatchNorm' in name for name in names)


def test_updates_collection_none_updates_in_place(graph):
  build(batch_norm_updates_collections=None)
  assert not tf.compat.v1.get_collection(tf.compat.v1.GraphKeys.UPDATE_OPS)


def test_max_pool_pads_same(graph):
  _, end_points = build()
  assert end_points['resnet_v2_50/conv1'].shape.as_list() == [2, 32, 32, 64]
  pool = graph.get_operation_by_name('resnet_v2_50/pool1/MaxPool')
  assert pool.get_attr('padding') == b'SAME'
