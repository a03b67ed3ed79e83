"""The one batch-norm function every unit and net uses, in three modes.

  with slim.arg_scope([normalization.batch_norm], mode='sync'):
    logits, _ = network_fn(images)     # statistics averaged over replicas

'local' is ``slim.batch_norm``: each replica normalizes with its own batch,
as TF-Slim and Keras do. 'sync' normalizes with the mean and variance of
the whole global batch, all-reduced over the replicas of a
``tf.distribute`` strategy every step. 'frozen' normalizes with the moving
averages and never updates them (fine-tuning with small batches). Every
mode creates the same variables under the same names (``BatchNorm/beta``,
``gamma``, ``moving_mean``, ``moving_variance``), so checkpoints do not
depend on the mode.
"""

import tensorflow.compat.v1 as tf
import tf_slim as slim

BATCH_NORM_MODES = ('local', 'sync', 'frozen')


def check_mode(mode: str) -> None:
  """Raise a ValueError unless ``mode`` is one of ``BATCH_NORM_MODES``."""
  if mode not in BATCH_NORM_MODES:
    raise ValueError('batch_norm must be one of %s; got %r.'
                     % (', '.join(BATCH_NORM_MODES), mode))


@slim.add_arg_scope
def batch_norm(inputs, activation_fn=None, scope=None, mode='local',
               **params):
  """Batch norm of ``inputs`` (then ``activation_fn``) in ``mode``.

  ``params`` are ``slim.batch_norm``'s keywords (decay, epsilon, scale,
  is_training, updates_collections, ...); an enclosing
  ``slim.arg_scope([slim.batch_norm], ...)`` applies in every mode.
  """
  check_mode(mode)
  if mode == 'local':
    return slim.batch_norm(inputs, activation_fn=activation_fn, scope=scope,
                           **params)
  if mode == 'frozen':
    params['is_training'] = False
    return slim.batch_norm(inputs, activation_fn=activation_fn, scope=scope,
                           **params)
  settings = dict(slim.current_arg_scope().get(
      slim.arg_scope_func_key(slim.batch_norm), {}))
  settings.update(params)
  outputs = _synchronized(inputs, scope, settings)
  return activation_fn(outputs) if activation_fn else outputs


def _moments(inputs, axes):
  """Mean, variance and count over ``axes`` of the batch of every replica.

  Sums and counts are all-reduced first, then the squared deviations from
  the global mean, so the variance is exact rather than a mean of
  per-replica variances.
  """
  context = tf.distribute.get_replica_context()

  def total(values):
    if context is None:
      return values
    return context.all_reduce(tf.distribute.ReduceOp.SUM, values)

  count = tf.cast(tf.reduce_prod(tf.gather(tf.shape(inputs), axes)),
                  inputs.dtype)
  local_sum, count = total([tf.reduce_sum(inputs, axes), count])
  mean = local_sum / count
  squares = total(tf.reduce_sum(tf.square(inputs - mean), axes))
  return mean, squares / count, count


def _variable(name, channels, initializer, trainable):
  """One batch-norm variable; moving statistics average across replicas."""
  return tf.get_variable(
      name, [channels], initializer=initializer, trainable=trainable,
      aggregation=(tf.VariableAggregation.NONE if trainable
                   else tf.VariableAggregation.MEAN))


def _synchronized(inputs, scope, settings):
  """Batch norm with the global batch's statistics (see the module doc)."""
  channels = inputs.shape[-1]
  axes = list(range(inputs.shape.rank - 1))
  decay = settings.get('decay', 0.999)
  with tf.variable_scope(scope, 'BatchNorm', [inputs]):
    gamma = (_variable('gamma', channels, tf.ones_initializer(), True)
             if settings.get('scale', False) else None)
    beta = _variable('beta', channels, tf.zeros_initializer(), True)
    moving_mean = _variable('moving_mean', channels, tf.zeros_initializer(),
                            False)
    moving_variance = _variable('moving_variance', channels,
                                tf.ones_initializer(), False)
    if not settings.get('is_training', True):
      return tf.nn.batch_normalization(inputs, moving_mean, moving_variance,
                                       beta, gamma,
                                       settings.get('epsilon', 0.001))
    mean, variance, count = _moments(inputs, axes)
    # Like slim's batch norm, the moving variance tracks the unbiased
    # estimate, while the batch is normalized with the biased one.
    unbiased = variance * count / tf.maximum(count - 1.0, 1.0)
    updates = [moving_mean.assign_sub((moving_mean - mean) * (1.0 - decay)),
               moving_variance.assign_sub(
                   (moving_variance - unbiased) * (1.0 - decay))]
    outputs = tf.nn.batch_normalization(inputs, mean, variance, beta, gamma,
                                        settings.get('epsilon', 0.001))
    collection = settings.get('updates_collections')
    if collection and not tf.executing_eagerly_outside_functions():
      for update in updates:
        tf.add_to_collection(collection, update)
      return outputs
    with tf.control_dependencies(updates):
      return tf.identity(outputs)
