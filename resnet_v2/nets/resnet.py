"""The ResNet v1 and v2 generators: any list of Blocks to a net.

  with slim.arg_scope(resnet_arg_scope()):
    logits, end_points = resnet_v2(images, blocks_for_depth(50), 1000,
                                   is_training=False, scope='resnet_v2_50')

``resnet_v2`` (pre-activation) and ``resnet_v1`` (the original,
post-activation ResNet) turn any list of Blocks into a classifier or a
dense feature extractor. They share everything but the stem's batch norm
and the final one: input checks, the stack, the head and the end_points.
The named constructors (``resnet_v2_50`` ...) are generated from the model
table in ``zoo``.
"""

import tensorflow.compat.v1 as tf
from tensorflow.python.ops import variable_scope
import tf_slim as slim

from resnet_v2.nets import blocks as blocks_lib
from resnet_v2.nets import inputs as inputs_lib
from resnet_v2.nets import normalization
from resnet_v2.nets import spec


def _tf1_variables_tracked() -> bool:
  """Whether eager code runs under a store that keeps TF1-style variables.

  tf_keras' ``track_tf1_style_variables`` (the shim ``resnet_v2.tf_keras``
  wraps the nets in) installs such a store; outside it, an eager
  ``tf.compat.v1.get_variable`` would make new variables on every call.
  """
  # TensorFlow has no public accessor for the active variable store.
  store = variable_scope._get_default_variable_store()  # pylint: disable=W0212
  return getattr(store, '_store_eager_variables', False)


def check_images(inputs) -> tf.Tensor:
  """Return ``inputs`` as a tensor, or raise if it is not a 4-D image batch.

  Eager execution is refused unless the variables are tracked (inside the
  Keras layer ``resnet_v2.tf_keras.ResNetV2``), since eager TF1-style code
  would otherwise create fresh variables on every call.
  """
  if tf.executing_eagerly() and not _tf1_variables_tracked():
    raise RuntimeError(
        'resnet_v2 builds TF1-style graphs: call it inside '
        '`with tf.Graph().as_default():` (or a tf.function), or run the net '
        'eagerly as a Keras model: '
        "resnet_v2.keras.ResNetV2('resnet_v2_50', num_classes=1000)(images).")
  inputs = tf.convert_to_tensor(inputs)
  shape = inputs.get_shape()
  if shape.rank != 4:
    raise ValueError(
        'inputs must be a rank-4 [batch, height, width, channels] tensor; got '
        'shape %s. Add a batch axis with tf.expand_dims(image, 0).' % (shape,))
  if shape[3] is None:
    raise ValueError(
        'inputs must have a known channel count (the last axis); got shape %s. '
        'Set it with inputs.set_shape([None, None, None, 3]).' % (shape,))
  if not inputs.dtype.is_floating:
    raise ValueError(
        'inputs have dtype %s, but the nets take float pixels in the '
        "model's value range ([-1, 1] for the TF-Slim checkpoints): convert "
        'uint8 images with tf.cast(images, tf.float32) / 127.5 - 1.0.'
        % inputs.dtype.name)
  return inputs


def _check_root_output_stride(output_stride):
  """The root already strides by 4, so a requested stride must divide by 4."""
  if output_stride is not None and output_stride % spec.ROOT_STRIDE != 0:
    raise ValueError(
        'output_stride=%r must be a multiple of 4 with the root block (its '
        'conv and max-pool already stride by 4): use 8, 16 or 32, or None.'
        % (output_stride,))


def _check_input_size(inputs, stride):
  """Raise if a known height or width is below the net's nominal stride.

  Below it the deepest blocks see one padded pixel: the features carry no
  spatial information, and the classifier is not what it seems.
  """
  height, width = inputs.get_shape()[1], inputs.get_shape()[2]
  if any(side is not None and side < stride for side in (height, width)):
    raise ValueError(
        'inputs are %sx%s pixels, smaller than the net\'s output stride %d: '
        'use images of at least %dx%d, e.g. tf.image.resize(images, [%d, %d]) '
        '(the released checkpoints take 224x224).'
        % (height, width, stride, stride, stride, stride, stride))


def _check_squeezable(net, scope_name):
  """Raise if the logits would be a spatial map that cannot be squeezed."""
  height, width = net.get_shape()[1], net.get_shape()[2]
  if (height is not None and height != 1) or (width is not None and width != 1):
    raise ValueError(
        '%s: spatial_squeeze=True needs a 1x1 output but the logits are %sx%s. '
        'Set global_pool=True for one prediction per image, or '
        'spatial_squeeze=False for a dense prediction map.'
        % (scope_name, height, width))


def _batch_norm_is_training(is_training):
  """The ``is_training`` batch norm should use inside the net.

  A caller who wrapped the net in ``slim.arg_scope([slim.batch_norm],
  is_training=...)`` said explicitly how every batch norm should behave, so
  that setting wins; otherwise the net's own ``is_training`` argument does.
  """
  enclosing = slim.current_arg_scope().get(
      slim.arg_scope_func_key(slim.batch_norm), {})
  return enclosing.get('is_training', is_training)


def _root_block(net, pre_activation):
  """The stem: a 7x7/2 conv to 64 channels, then a 3x3/2 max-pool.

  In a pre-activation net the conv has neither batch norm nor activation:
  the first unit's own BN-ReLU normalizes its input. In a post-activation
  net it has both, like every other conv.
  """
  bare = {'activation_fn': None, 'normalizer_fn': None}
  with slim.arg_scope([slim.conv2d], **(bare if pre_activation else {})):
    net = blocks_lib.conv2d_same(net, spec.ROOT_DEPTH, spec.ROOT_KERNEL_SIZE,
                                 stride=spec.ROOT_CONV_STRIDE, scope='conv1')
  return slim.max_pool2d(net, [3, 3], stride=spec.ROOT_POOL_STRIDE,
                         scope='pool1')


def _arg_scoped_unit_fns(blocks):
  """The distinct unit functions of ``blocks`` that accept arg_scope."""
  found = []
  for block in blocks:
    if block.unit_fn not in found and slim.has_arg_scope(block.unit_fn):
      found.append(block.unit_fn)
  return found


def _resnet(inputs, blocks, pre_activation, default_scope, num_classes,
            is_training, global_pool, output_stride, include_root_block,
            spatial_squeeze, reuse, scope):
  """Build root -> blocks -> [postnorm] -> [pool] -> [logits]; see resnet_v2."""
  inputs = check_images(inputs)
  spec.check_num_classes(num_classes)
  if reuse is True and not scope:
    raise ValueError('reuse=True needs the scope of the net to reuse: pass '
                     'scope=<the name used when it was first built>.')
  if include_root_block:
    _check_root_output_stride(output_stride)
    blocks_lib.check_output_stride(blocks, output_stride, spec.ROOT_STRIDE)
    _check_input_size(inputs, spec.ROOT_STRIDE *
                      blocks_lib.reachable_output_strides(blocks)[-1])
    block_output_stride = (None if output_stride is None
                           else output_stride // spec.ROOT_STRIDE)
  else:
    blocks_lib.check_output_stride(blocks, output_stride)
    block_output_stride = output_stride

  bn_is_training = _batch_norm_is_training(is_training)
  with tf.variable_scope(scope, default_scope, [inputs], reuse=reuse) as sc:
    collection = sc.original_name_scope + '_end_points'
    collected = [slim.conv2d, blocks_lib.stack_blocks_dense]
    collected += _arg_scoped_unit_fns(blocks)
    with slim.arg_scope(collected, outputs_collections=collection), \
         slim.arg_scope([slim.batch_norm], is_training=bn_is_training):
      net = inputs
      if include_root_block:
        net = _root_block(net, pre_activation)
      net = blocks_lib.stack_blocks_dense(net, blocks, block_output_stride)
      if pre_activation:
        net = normalization.batch_norm(net, activation_fn=tf.nn.relu,
                                       scope='postnorm')
      end_points = slim.utils.convert_collection_to_dict(collection)
      if global_pool:
        net = tf.reduce_mean(net, [1, 2], name='pool5', keepdims=True)
        end_points['global_pool'] = net
      if num_classes:
        if spatial_squeeze:
          _check_squeezable(net, sc.name)
        net = slim.conv2d(net, num_classes, [1, 1], activation_fn=None,
                          normalizer_fn=None, scope='logits')
        end_points[sc.name + '/logits'] = net
        if spatial_squeeze:
          net = tf.squeeze(net, [1, 2], name='SpatialSqueeze')
          end_points[sc.name + '/spatial_squeeze'] = net
        end_points['predictions'] = slim.softmax(net, scope='predictions')
  return net, end_points


_GENERATOR_ARGS = """
  Args:
    inputs: ``[batch, height, width, channels]`` images; batch, height and
      width may be unknown.
    blocks: a list of ``Block``, e.g. ``blocks_for_depth(50)``.
    num_classes: logits per position; None or 0 returns the features.
    is_training: batch-norm mode (batch statistics and moving-average
      updates when True). An enclosing ``slim.arg_scope([slim.batch_norm],
      is_training=...)`` takes precedence.
    global_pool: average the final features over height and width.
    output_stride: None for the nominal stride (32), or 8/16 etc. for a
      denser output computed with atrous convolution.
    include_root_block: build the 7x7 conv and max-pool stem.
    spatial_squeeze: drop the 1x1 height and width from the logits.
    reuse: reuse the variables of an earlier call with the same ``scope``.
    scope: variable scope; '%s' when None.

  Returns:
    ``(net, end_points)``: the logits (or features) and a dict from full
    scope names (every conv, unit and block, plus 'global_pool',
    '<scope>/logits', '<scope>/spatial_squeeze' and 'predictions') to
    tensors.

  Raises:
    ValueError: on a bad input shape, num_classes, output_stride,
      spatial_squeeze on a spatial output, or reuse=True without a scope.
"""


def _make_generator(default_scope, pre_activation, summary):
  """A ``resnet_v*(inputs, blocks, ...)`` generator with TF-Slim's signature."""

  def generator(inputs, blocks, num_classes=None, is_training=True,
                global_pool=True, output_stride=None, include_root_block=True,
                spatial_squeeze=True, reuse=None, scope=None):
    return _resnet(inputs, blocks, pre_activation, default_scope, num_classes,
                   is_training, global_pool, output_stride, include_root_block,
                   spatial_squeeze, reuse, scope)

  generator.__name__ = generator.__qualname__ = default_scope
  generator.__doc__ = summary.strip() + '\n' + _GENERATOR_ARGS % default_scope
  generator.default_image_size = inputs_lib.SLIM_INPUTS.image_size
  return generator


resnet_v2 = _make_generator('resnet_v2', pre_activation=True, summary="""
  Build a pre-activation ResNet (v2) from a list of Blocks.

  The net is root -> blocks -> batch norm + ReLU ('postnorm') -> optional
  global average pool -> optional 1x1 logits conv. The final BN-ReLU is
  needed because pre-activation units leave their sums un-normalized, and
  the root conv has no batch norm because the first unit normalizes its
  input. Without the root block, ``inputs`` should be the output of an
  activation-free convolution.
""")

resnet_v1 = _make_generator('resnet_v1', pre_activation=False, summary="""
  Build the original (post-activation) ResNet v1 from a list of Blocks.

  The net of He et al. 2015: root (7x7 conv with batch norm and ReLU, then
  max-pool) -> blocks of ``bottleneck_v1`` units -> optional global average
  pool -> optional 1x1 logits conv. Every unit already ends in a ReLU, so
  no final batch norm is needed. Variable and end_point names are those of
  TF-Slim's ``resnet_v1``, plus the newer TF-Slim's 'global_pool' and
  spatial_squeeze.
""")
