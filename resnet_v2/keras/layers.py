"""TF-Slim's conv and batch norm as Keras 3 layers, named by their scopes.

  conv = Conv(depth=64, kernel_size=3, stride=2, normalized=True,
              name=layer_name('resnet_v2_50/block1/unit_3/bottleneck_v2/conv2'))
  slim_name(conv.weights[0])   # '.../bottleneck_v2/conv2/weights'

A layer's name is the TF-Slim scope it stands for, with ``SEPARATOR`` for
'/' (Keras refuses '/' in names, and PyTorch '.'), and a weight's name is
the rest of its TF-Slim variable name spelt the same way ('weights',
'biases', 'BatchNorm-gamma', ...). So one rule, ``slim_name``, maps every
weight to the name TF-Slim's checkpoints use, in both directions of
``load_slim_checkpoint`` and ``save_slim_checkpoint``.

The layers compute with ``keras.ops`` only, so they run on TensorFlow, JAX
and PyTorch alike. Batch norm follows ``slim.batch_norm``: the batch is
normalised with its biased variance, and the moving variance tracks the
unbiased one, as TensorFlow's fused kernel returns it.
"""

import keras
from keras import ops

from resnet_v2.nets import arg_scope
from resnet_v2.nets import blocks

SEPARATOR = '-'


def layer_name(scope: str) -> str:
  """The Keras name of the layer for TF-Slim scope ``scope``."""
  return scope.replace('/', SEPARATOR)


def slim_name(weight) -> str:
  """The TF-Slim variable name of a weight of one of these layers.

  E.g. 'resnet_v2_50/block1/unit_1/bottleneck_v2/conv1/BatchNorm/gamma'.
  A weight's path ends with its layer's name and its own.
  """
  layer, name = weight.path.split('/')[-2:]
  return ('%s/%s' % (layer, name)).replace(SEPARATOR, '/')


def _l2(weight_decay):
  """TF-Slim's ``l2_regularizer``: ``weight_decay * sum(w ** 2) / 2``."""
  return keras.regularizers.L2(weight_decay / 2.0) if weight_decay else None


class _BatchNormalized(keras.layers.Layer):
  """A layer that may hold TF-Slim's batch-norm variables and apply them."""

  def __init__(self, batch_norm_decay: float, batch_norm_epsilon: float,
               **kwargs):
    super().__init__(**kwargs)
    self.batch_norm_decay = batch_norm_decay
    self.batch_norm_epsilon = batch_norm_epsilon

  def _add_batch_norm(self, channels, prefix):
    """Create gamma, beta and the moving statistics, named ``prefix + ...``."""
    def add(name, initializer, trainable):
      return self.add_weight(name=prefix + name, shape=(channels,),
                             initializer=initializer, trainable=trainable)
    self.gamma = add('gamma', 'ones', True)
    self.beta = add('beta', 'zeros', True)
    self.moving_mean = add('moving_mean', 'zeros', False)
    self.moving_variance = add('moving_variance', 'ones', False)

  def _batch_norm(self, inputs, training):
    """Normalise ``inputs``; with ``training``, update the moving statistics."""
    if training:
      mean, variance = ops.moments(inputs, axes=[0, 1, 2])
      count = ops.cast(ops.size(inputs) // ops.shape(inputs)[-1],
                       variance.dtype)
      unbiased = variance * count / ops.maximum(count - 1.0, 1.0)
      keep = 1.0 - self.batch_norm_decay
      for average, value in ((self.moving_mean, mean),
                             (self.moving_variance, unbiased)):
        average.assign(average - (average - ops.stop_gradient(value)) * keep)
    else:
      mean, variance = self.moving_mean, self.moving_variance
    scale = self.gamma * ops.rsqrt(variance + self.batch_norm_epsilon)
    return inputs * scale + (self.beta - mean * scale)

  def get_config(self) -> dict:
    """The constructor's arguments, for Keras' saving and cloning."""
    config = super().get_config()
    config.update(batch_norm_decay=self.batch_norm_decay,
                  batch_norm_epsilon=self.batch_norm_epsilon)
    return config


@keras.saving.register_keras_serializable(package='resnet_v2')
class BatchNorm(_BatchNormalized):
  """``slim.batch_norm`` with a scale, then an optional ReLU.

  The pre-activation of a v2 unit ('preact') and the net's final
  normalisation ('postnorm'). Its weights are 'gamma', 'beta',
  'moving_mean' and 'moving_variance'.

  Args:
    relu: apply a ReLU after the normalisation.
    batch_norm_decay: the moving averages keep this fraction each step.
    batch_norm_epsilon: added to the variance before its square root.
    **kwargs: ``keras.layers.Layer``'s (``name`` ...).
  """

  def __init__(self, relu: bool,
               batch_norm_decay: float = arg_scope.BATCH_NORM_DECAY,
               batch_norm_epsilon: float = arg_scope.BATCH_NORM_EPSILON,
               **kwargs):
    super().__init__(batch_norm_decay, batch_norm_epsilon, **kwargs)
    self.relu = relu

  def build(self, input_shape):
    """Create the variables for ``input_shape[-1]`` channels."""
    self._add_batch_norm(input_shape[-1], '')

  def compute_output_shape(self, input_shape):
    """The input's shape: batch norm keeps it."""
    return input_shape

  def call(self, inputs, training=False):
    """The normalised (and rectified) ``inputs``."""
    outputs = self._batch_norm(inputs, training)
    return ops.relu(outputs) if self.relu else outputs

  def get_config(self) -> dict:
    """The constructor's arguments, for Keras' saving and cloning."""
    config = super().get_config()
    config.update(relu=self.relu)
    return config


@keras.saving.register_keras_serializable(package='resnet_v2')
class Conv(_BatchNormalized):
  """``slim.conv2d`` (or ``conv2d_same`` when strided) in TF-Slim's scope.

  A strided conv pads explicitly and symmetrically (``blocks``'
  ``fixed_padding``) and then convolves without padding, as
  ``resnet_v2.nets.blocks.conv2d_same`` does, so pixel (0, 0) of the
  output is centred on pixel (0, 0) of the input whatever its parity; a
  stride-1 conv pads 'same' (with its dilation ``rate``). The weights are
  'weights' (``[height, width, in, out]``, He-initialised with the L2
  penalty as a Keras loss), then 'BatchNorm-*' when ``normalized``, else
  'biases'.

  Args:
    depth: output channels.
    kernel_size: the side of the square kernel.
    stride: the stride (the graph builder never combines one above 1 with
      a rate above 1).
    rate: the dilation rate.
    normalized: batch norm after the conv (and no biases).
    relu: apply a ReLU last.
    weight_decay: TF-Slim's L2 penalty on the weights; 0 adds no loss.
    batch_norm_decay, batch_norm_epsilon: as in ``BatchNorm``.
    **kwargs: ``keras.layers.Layer``'s (``name`` ...).
  """

  def __init__(self, depth: int, kernel_size: int, stride: int = 1,
               rate: int = 1, normalized: bool = True, relu: bool = True,
               weight_decay: float = 0.0,
               batch_norm_decay: float = arg_scope.BATCH_NORM_DECAY,
               batch_norm_epsilon: float = arg_scope.BATCH_NORM_EPSILON,
               **kwargs):
    super().__init__(batch_norm_decay, batch_norm_epsilon, **kwargs)
    self.depth = depth
    self.kernel_size = kernel_size
    self.stride = stride
    self.rate = rate
    self.normalized = normalized
    self.relu = relu
    self.weight_decay = weight_decay

  def build(self, input_shape):
    """Create the kernel for ``input_shape[-1]`` input channels, then the
    batch norm's variables or the biases."""
    self.kernel = self.add_weight(
        name='weights', initializer='he_normal',
        shape=(self.kernel_size, self.kernel_size, input_shape[-1],
               self.depth),
        regularizer=_l2(self.weight_decay))
    if self.normalized:
      self._add_batch_norm(self.depth, 'BatchNorm' + SEPARATOR)
    else:
      self.bias = self.add_weight(name='biases', shape=(self.depth,),
                                  initializer='zeros')

  def _output_side(self, side):
    """The output height (or width) of an input ``side`` pixels high."""
    if side is None or self.stride == 1:
      return side
    padded = side + sum(blocks.fixed_padding(self.kernel_size, self.rate))
    span = self.kernel_size + (self.kernel_size - 1) * (self.rate - 1)
    return (padded - span) // self.stride + 1

  def compute_output_shape(self, input_shape):
    """``[batch, height / stride, width / stride, depth]``, rounded up."""
    batch, height, width = input_shape[:3]
    return (batch, self._output_side(height), self._output_side(width),
            self.depth)

  def call(self, inputs, training=False):
    """The conv of ``inputs``, normalised or biased, then rectified."""
    padding = 'same'
    if self.stride > 1:
      before, after = blocks.fixed_padding(self.kernel_size, self.rate)
      inputs = ops.pad(inputs, [[0, 0], [before, after], [before, after],
                                [0, 0]])
      padding = 'valid'
    outputs = ops.conv(inputs, self.kernel, strides=self.stride,
                       padding=padding, dilation_rate=self.rate)
    if self.normalized:
      outputs = self._batch_norm(outputs, training)
    else:
      outputs = outputs + self.bias
    return ops.relu(outputs) if self.relu else outputs

  def get_config(self) -> dict:
    """The constructor's arguments, for Keras' saving and cloning."""
    config = super().get_config()
    config.update(depth=self.depth, kernel_size=self.kernel_size,
                  stride=self.stride, rate=self.rate,
                  normalized=self.normalized, relu=self.relu,
                  weight_decay=self.weight_decay)
    return config

