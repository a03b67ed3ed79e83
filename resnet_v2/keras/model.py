"""``ResNetV2``: a registered net as a Keras 3 functional model.

  model = ResNetV2('resnet_v2_50', num_classes=1001, weights='imagenet')
  logits = model.predict(images)                # [batch, 1001]
  backbone = ResNetV2('resnet_v2_50', output_stride=16, returns='features')
  backbone(images)['C4']                        # stride 16, 1024 channels

The net is generated from the model's line in the model table
(``registry.get_spec(name).block_unit_args()``, the same Block spec the
graph builder reads) with the units of ``resnet_v2.keras.units``: the
root, the stack of Blocks (atrous past ``output_stride``), the v2
'postnorm', the global pool and the logits, as
``resnet_v2.nets.resnet`` builds them, layer for layer and name for name.
"""

from typing import Optional, Sequence, Tuple

import keras

from resnet_v2.keras import layers
from resnet_v2.keras import units
from resnet_v2.nets import arg_scope
from resnet_v2.nets import blocks as blocks_lib
from resnet_v2.nets import features as features_lib
from resnet_v2.nets import registry
from resnet_v2.nets import spec as spec_lib

# What ``ResNetV2(returns=...)`` can give.
RETURNS = ('logits', 'end_points', 'features')


def model_blocks(model_name: str):
  """The model's Blocks, with the Keras unit functions as ``unit_fn``."""
  model = registry.get_spec(model_name)
  unit_fn = units.UNIT_FUNCTIONS[model.unit]
  return [spec_lib.Block(scope, unit_fn, args)
          for scope, args in model.block_unit_args()]


def _stack_blocks(builder, net, scope, blocks, output_stride):
  """Every unit of every Block in turn; ``{'block1/unit_2': output, ...}``.

  Past ``output_stride`` the units stop striding and dilate instead, as
  ``resnet_v2.nets.blocks.stack_blocks_dense`` does.
  """
  unit_outputs = {}
  current_stride, rate = 1, 1
  for block in blocks:
    for index, unit in enumerate(block.args):
      name = '%s/unit_%d' % (block.scope, index + 1)
      unit_stride = unit.get('stride', 1)
      if output_stride is not None and current_stride == output_stride:
        net = block.unit_fn(builder, net, scope + '/' + name, rate=rate,
                            **dict(unit, stride=1))
        rate *= unit_stride
      else:
        net = block.unit_fn(builder, net, scope + '/' + name, **unit)
        current_stride *= unit_stride
      unit_outputs[name] = net
    builder.end_points['%s/%s' % (scope, block.scope)] = net
  return net, unit_outputs


def _root_block(builder, net, scope, pre_activation):
  """The 7x7/2 conv (bare in a v2 net) and the 3x3/2 max-pool."""
  net = builder.conv(net, scope + '/conv1', spec_lib.ROOT_DEPTH,
                     spec_lib.ROOT_KERNEL_SIZE, spec_lib.ROOT_CONV_STRIDE,
                     normalized=not pre_activation, relu=not pre_activation)
  return keras.layers.MaxPooling2D(
      3, strides=spec_lib.ROOT_POOL_STRIDE, padding='same',
      name=layers.layer_name(scope + '/pool1'))(net)


def _head(builder, net, scope, num_classes, global_pool, spatial_squeeze):
  """The global pool and the logits (squeezed), with their end_points."""
  end_points = builder.end_points
  if global_pool:
    net = keras.layers.GlobalAveragePooling2D(
        keepdims=True, name=layers.layer_name(scope + '/pool5'))(net)
    end_points['global_pool'] = net
  if num_classes:
    if spatial_squeeze and any(side not in (None, 1)
                               for side in net.shape[1:3]):
      raise ValueError(
          '%s: spatial_squeeze=True needs a 1x1 output but the logits would '
          'be %sx%s. Set global_pool=True for one prediction per image, or '
          'spatial_squeeze=False for a dense prediction map.'
          % (scope, net.shape[1], net.shape[2]))
    net = builder.conv(net, scope + '/logits', num_classes, 1,
                       normalized=False, relu=False)
    if spatial_squeeze:
      net = keras.layers.Reshape((num_classes,), name=layers.layer_name(
          scope + '/SpatialSqueeze'))(net)
      end_points[scope + '/spatial_squeeze'] = net
    end_points['predictions'] = keras.layers.Softmax(
        name=layers.layer_name(scope + '/predictions'))(net)
  return net


def _minimum_size(blocks, include_root_block):
  """The smallest height and width the net takes: its nominal stride."""
  stride = blocks_lib.reachable_output_strides(blocks)[-1]
  return stride * spec_lib.ROOT_STRIDE if include_root_block else stride


def _check_output_stride(blocks, output_stride, include_root_block):
  """Raise unless the net can hold ``output_stride``; the blocks' share."""
  if not include_root_block:
    blocks_lib.check_output_stride(blocks, output_stride)
    return output_stride
  blocks_lib.check_output_stride(blocks, output_stride, spec_lib.ROOT_STRIDE)
  return None if output_stride is None else (
      output_stride // spec_lib.ROOT_STRIDE)


def check_images(shape: Sequence, dtype: str, model_name: str,
                 channels: int, minimum_size: int) -> None:
  """Raise one ValueError saying what works unless the batch fits the net.

  Args:
    shape: the batch's shape (None for an unknown size).
    dtype: its Keras dtype name ('float32', 'uint8', ...).
    model_name: for the messages.
    channels: the channels the net takes.
    minimum_size: the smallest height and width the net takes.
  """
  shape = tuple(shape)
  if len(shape) != 4:
    raise ValueError(
        '%s takes a rank-4 [batch, height, width, %d] batch of images; got '
        'shape %s. Add a batch axis with keras.ops.expand_dims(image, 0).'
        % (model_name, channels, shape))
  if shape[3] is not None and shape[3] != channels:
    raise ValueError(
        '%s takes images with %d channels (RGB); got %s. Repeat a grey '
        'image with keras.ops.repeat(images, 3, axis=-1).'
        % (model_name, channels, shape[3]))
  if 'float' not in dtype:
    raise ValueError(
        '%s takes float pixels in its value range ([-1, 1] for the TF-Slim '
        'weights); got dtype %s. Convert uint8 images with '
        "keras.ops.cast(images, 'float32') / 127.5 - 1.0."
        % (model_name, dtype))
  if any(side is not None and side < minimum_size for side in shape[1:3]):
    raise ValueError(
        'images are %sx%s pixels, smaller than the output stride %d of %s: '
        'use at least %dx%d, e.g. keras.ops.image.resize(images, (224, 224)) '
        '(the TF-Slim weights take 224x224).'
        % (shape[1], shape[2], minimum_size, model_name, minimum_size,
           minimum_size))


def _check_returns(returns, num_classes):
  """Raise unless ``returns`` is one of ``RETURNS`` that fits the head."""
  if returns not in RETURNS:
    raise ValueError('returns must be one of %s; got %r.'
                     % (', '.join(RETURNS), returns))
  if returns == 'features' and num_classes:
    raise ValueError(
        "returns='features' gives the C2..C5 levels, which have no logits: "
        'leave num_classes=None (got %r).' % (num_classes,))


@keras.saving.register_keras_serializable(package='resnet_v2')
class ResNetV2(keras.Model):
  """A registered ResNet (v2 or v1) as a Keras 3 functional model.

  Called on a ``[batch, height, width, 3]`` float batch in the model's
  value range ([-1, 1] for TF-Slim's weights); ``training`` (as Keras
  passes it: True in ``fit``) normalises with the batch's statistics and
  updates the moving averages with TF-Slim's decay, False uses them. A
  batch-norm layer set ``trainable = False`` always uses them.

  Every layer is named for its TF-Slim scope (``layers.layer_name``) and
  every weight maps to its TF-Slim variable by ``layers.slim_name``, so
  ``load_slim_checkpoint`` and ``save_slim_checkpoint`` read and write
  TF-Slim's checkpoints; the weights count and shapes are those of the
  graph builder's variables. The conv L2 penalties are ``model.losses``,
  which ``fit`` adds to the loss.

  Args:
    model_name: a registered model (``resnet_v2.list_models()``).
    num_classes: logits per image; None or 0 returns the features.
    global_pool: average the final features over height and width.
    output_stride: None for the nominal stride 32, or 8/16 for denser
      features computed with atrous convolution.
    spatial_squeeze: drop the 1x1 height and width from the logits.
    include_root_block: build the 7x7 conv and max-pool stem.
    weight_decay: TF-Slim's L2 penalty on the conv weights (0: none).
    batch_norm_decay: moving-average decay of the batch-norm statistics;
      a short fine-tuning run wants a smaller one, e.g. 0.9.
    returns: 'logits' (the net: logits, or features without classes),
      'end_points' (a dict with the graph builder's end_point names: every
      conv, unit and block, 'global_pool', '<scope>/logits', ...) or
      'features' (a dict of the C2..C5 levels at strides 4, 8, 16, 32, each
      capped at ``output_stride``; no pool and no logits).
    input_shape: ``(height, width, channels)``; None for any size.
    weights: None, 'imagenet' (TF-Slim's released weights of the model),
      another release name, or a checkpoint path, loaded by
      ``load_slim_checkpoint``; logits of another class count than the
      checkpoint's keep their initial values.
    name: the model's name; ``model_name`` when None.
    **kwargs: ``keras.Model``'s (``trainable``, ``dtype`` ...).

  Raises:
    ValueError: for an unregistered model name (the message lists them),
      a bad ``num_classes``, ``output_stride``, ``returns`` or input
      shape, or a checkpoint that does not fit (a table of the mismatches).
  """

  def __init__(self, model_name: str, num_classes: Optional[int] = None,
               global_pool: bool = True, output_stride: Optional[int] = None,
               spatial_squeeze: bool = True, include_root_block: bool = True,
               weight_decay: float = arg_scope.WEIGHT_DECAY,
               batch_norm_decay: float = arg_scope.BATCH_NORM_DECAY,
               returns: str = 'logits',
               input_shape: Tuple = (None, None, 3),
               weights: Optional[str] = None, name: Optional[str] = None,
               **kwargs):
    model = registry.get_spec(model_name)
    spec_lib.check_num_classes(num_classes)
    _check_returns(returns, num_classes)
    blocks = model_blocks(model_name)
    block_output_stride = _check_output_stride(blocks, output_stride,
                                               include_root_block)
    minimum_size = _minimum_size(blocks, include_root_block)
    input_shape = tuple(input_shape)
    check_images((None,) + input_shape, 'float32', model_name,
                 input_shape[-1] if input_shape else 3, minimum_size)
    builder = units.Builder(weight_decay, batch_norm_decay)
    images = keras.Input(shape=input_shape, name='images')
    net = images
    if include_root_block:
      net = _root_block(builder, net, model_name, model.pre_activation)
    net, unit_outputs = _stack_blocks(builder, net, model_name, blocks,
                                      block_output_stride)
    if model.pre_activation:
      net = builder.batch_norm(net, model_name + '/postnorm')
    if returns == 'features':
      outputs = {level: unit_outputs[unit] for level, unit in
                 features_lib.feature_units(model_name).items()}
      outputs['C5'] = net
    else:
      net = _head(builder, net, model_name, num_classes, global_pool,
                  spatial_squeeze)
      outputs = builder.end_points if returns == 'end_points' else net
    super().__init__(inputs=images, outputs=outputs, name=name or model_name,
                     **kwargs)
    # The checks in ``call`` say what works; Keras' own would come first.
    self.input_spec = None
    self._minimum_size = minimum_size
    self._options = dict(
        model_name=model_name, num_classes=num_classes,
        global_pool=global_pool, output_stride=output_stride,
        spatial_squeeze=spatial_squeeze,
        include_root_block=include_root_block, weight_decay=weight_decay,
        batch_norm_decay=batch_norm_decay, returns=returns,
        input_shape=input_shape)
    if weights:
      from resnet_v2.keras import checkpoints  # pylint: disable=C0415
      checkpoints.load_weights(self, weights)

  @property
  def model_name(self) -> str:
    """The registered model's name, also the scope of its weights."""
    return self._options['model_name']

  def _check(self, images):
    """Raise ``check_images``' ValueError unless ``images`` fit the net."""
    check_images(images.shape, keras.backend.standardize_dtype(images.dtype),
                 self.model_name, self._options['input_shape'][-1],
                 self._minimum_size)

  def __call__(self, inputs, *args, **kwargs):
    """The outputs on ``inputs``, checked before Keras sees them.

    A ValueError from inside ``call`` reaches the caller wrapped in Keras'
    account of the call; checked here, it is one line.
    """
    self._check(inputs)
    return super().__call__(inputs, *args, **kwargs)

  def call(self, inputs, training=None, mask=None):
    """The outputs of the net on ``inputs`` (checked again: a stateless
    call, as ``fit`` makes under JAX, comes here directly)."""
    self._check(inputs)
    return super().call(inputs, training=training, mask=mask)

  def get_config(self) -> dict:
    """The constructor's arguments, so ``.keras`` files rebuild the model."""
    return dict(self._options, name=self.name, trainable=self.trainable)

  @classmethod
  def from_config(cls, config, custom_objects=None):
    """The model ``get_config`` describes, with fresh weights."""
    del custom_objects  # Every layer is this package's own.
    return cls(**config)
