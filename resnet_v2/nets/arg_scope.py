"""Layer defaults shared by every net in the package: ``resnet_arg_scope``.

  with slim.arg_scope(resnet_arg_scope(weight_decay=1e-4)):
    logits, end_points = resnet_v2_50(images, 1000, is_training=False)
"""

import tensorflow.compat.v1 as tf
import tf_slim as slim

from resnet_v2.nets import normalization

# Batch norm's moving-average decay and epsilon in TF-Slim's ResNet recipe;
# every default in the package reads them from here.
BATCH_NORM_DECAY = 0.997
BATCH_NORM_EPSILON = 1e-5
# The L2 penalty on conv weights in TF-Slim's recipe.
WEIGHT_DECAY = 1e-4


def resnet_arg_scope(weight_decay=WEIGHT_DECAY,
                     batch_norm_decay=BATCH_NORM_DECAY,
                     batch_norm_epsilon=BATCH_NORM_EPSILON,
                     batch_norm_scale=True,
                     activation_fn=tf.nn.relu,
                     use_batch_norm=True,
                     batch_norm_updates_collections=tf.GraphKeys.UPDATE_OPS):
  """The ``slim.arg_scope`` the ResNets are trained and restored under.

  Convolutions get He (variance-scaling) initialization, an L2 weight
  penalty, and batch norm followed by ``activation_fn``; because a conv with
  a normalizer has no bias, forgetting this scope silently builds *different
  variables* (biases instead of batch norm), which is why
  ``resnet_v2.get_network_fn`` applies it for you. Max-pooling uses SAME
  padding so the root's 3x3/2 pool keeps the border.

  Args:
    weight_decay: L2 penalty on conv weights (added to REGULARIZATION_LOSSES).
    batch_norm_decay: moving-average decay of the batch-norm statistics.
    batch_norm_epsilon: added to the variance before dividing by it.
    batch_norm_scale: whether batch norm learns a ``gamma`` multiplier;
      the released checkpoints have one.
    activation_fn: activation after each normalized conv.
    use_batch_norm: False builds convs with biases and no normalizer.
    batch_norm_updates_collections: where the moving-average update ops go;
      run ``tf.GraphKeys.UPDATE_OPS`` with the train op.

  Returns:
    An arg_scope to enter with ``slim.arg_scope(...)``.
  """
  batch_norm_params = {
      'decay': batch_norm_decay,
      'epsilon': batch_norm_epsilon,
      'scale': batch_norm_scale,
      'updates_collections': batch_norm_updates_collections,
      'fused': None,
  }
  with slim.arg_scope(
      [slim.conv2d],
      weights_regularizer=slim.l2_regularizer(weight_decay),
      weights_initializer=slim.variance_scaling_initializer(),
      activation_fn=activation_fn,
      normalizer_fn=normalization.batch_norm if use_batch_norm else None,
      normalizer_params=batch_norm_params):
    with slim.arg_scope([slim.batch_norm], **batch_norm_params):
      with slim.arg_scope([slim.max_pool2d], padding='SAME') as scope:
        return scope
