"""What a net's input must be: the checks, and each model's input settings.

  images = check_images(images)            # a rank-4 float tensor, or raise
  SLIM_INPUTS.value_range                   # (-1.0, 1.0)

The settings are data that every consumer (training, evaluation, export,
the benchmark) reads from a model's spec instead of choosing its own.
"""

import dataclasses
from typing import Tuple

import tensorflow.compat.v1 as tf
from tensorflow.python.ops import variable_scope


@dataclasses.dataclass(frozen=True)
class InputSettings:
  """What a model's input images look like.

  Attributes:
    image_size: the default side of the square input, in pixels.
    value_range: ``(low, high)`` pixel values the net expects; TF-Slim's
      released ResNet checkpoints were trained on ``2 * x / 255 - 1``,
      i.e. ``(-1.0, 1.0)``, with no mean subtraction.
    central_fraction: the central crop (fraction of each side) used at
      evaluation and export.
  """
  image_size: int = 224
  value_range: Tuple[float, float] = (-1.0, 1.0)
  central_fraction: float = 0.875


SLIM_INPUTS = InputSettings()


def _tf1_variables_tracked() -> bool:
  """Whether eager code runs under a store that keeps TF1-style variables.

  tf_keras' ``track_tf1_style_variables`` (the shim ``resnet_v2.keras``
  wraps the nets in) installs such a store; outside it, an eager
  ``tf.compat.v1.get_variable`` would make new variables on every call.
  """
  # TensorFlow has no public accessor for the active variable store.
  store = variable_scope._get_default_variable_store()  # pylint: disable=W0212
  return getattr(store, '_store_eager_variables', False)


def check_images(inputs) -> tf.Tensor:
  """Return ``inputs`` as a tensor, or raise if it is not a 4-D image batch.

  Eager execution is refused unless the variables are tracked (inside the
  Keras layer ``resnet_v2.keras.ResNetV2``), since eager TF1-style code
  would otherwise create fresh variables on every call.
  """
  if tf.executing_eagerly() and not _tf1_variables_tracked():
    raise RuntimeError(
        'resnet_v2 builds TF1-style graphs: call it inside '
        '`with tf.Graph().as_default():` (or a tf.function), or run the net '
        'eagerly as a Keras layer: '
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


