"""Momentum SGD with TF1's update rule, for eager and distributed training.

  optimizer = Momentum(variables, momentum=0.9, names=slim_names)
  optimizer.apply(gradients, learning_rate)     # in a replica context

``accumulation = momentum * accumulation + gradient`` and ``variable -=
learning_rate * accumulation``: the rule of ``tf.compat.v1.train.
MomentumOptimizer``, whose slots checkpoints store as ``<variable>/Momentum``.
Under a ``tf.distribute`` strategy the replicas' gradients are summed
first (the loss of each replica is already divided by the global batch),
so every copy of a variable takes the same step.
"""

from typing import Dict, Sequence

import tensorflow as tf

SLOT_SUFFIX = '/Momentum'

# Gradients travel in packs of up to 32 MiB: a few large all-reduces per
# step instead of one per variable, which between machines is latency.
_PACKED = tf.distribute.experimental.CommunicationOptions(
    bytes_per_pack=32 * 1024 * 1024)


class Momentum:
  """The momentum accumulations of ``variables`` and the update that uses them.

  Create it inside the strategy's scope, so the accumulations are
  distributed like the variables.

  Args:
    variables: the variables to train.
    momentum: the decay of the accumulation, in [0, 1).
    names: the checkpoint name of each variable, in the same order.
  """

  def __init__(self, variables: Sequence[tf.Variable], momentum: float,
               names: Sequence[str]):
    self.variables = list(variables)
    self.momentum = momentum
    self.slot_names = [name + SLOT_SUFFIX for name in names]
    self.slots = [tf.Variable(tf.zeros(variable.shape, variable.dtype),
                              trainable=False, name=name)
                  for variable, name in zip(self.variables, self.slot_names)]

  def named_slots(self) -> Dict[str, tf.Variable]:
    """``{'<variable name>/Momentum': accumulation}``, for checkpoints."""
    return dict(zip(self.slot_names, self.slots))

  def apply(self, gradients: Sequence[tf.Tensor], learning_rate) -> None:
    """One step of every variable; call it from a replica context."""
    context = tf.distribute.get_replica_context()
    gradients = context.all_reduce(tf.distribute.ReduceOp.SUM,
                                   list(gradients), options=_PACKED)
    context.merge_call(self._update, args=(gradients, learning_rate))

  def _update(self, strategy, gradients, learning_rate):
    """Update every copy of every variable (cross-replica context)."""

    def step(variable, slot, gradient, rate):
      # TF1's fused kernel: one pass over the variable and its slot.
      return tf.raw_ops.ResourceApplyMomentum(
          var=variable.handle, accum=slot.handle,
          lr=tf.cast(rate, variable.dtype), grad=gradient,
          momentum=tf.constant(self.momentum, variable.dtype))

    for variable, slot, gradient in zip(self.variables, self.slots,
                                        gradients):
      strategy.extended.update(variable, step,
                               args=(slot, gradient, learning_rate))
