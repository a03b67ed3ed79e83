"""What a net's input must be: the checks, and each model's input settings.

  images = check_images(images)            # a rank-4 float tensor, or raise
  SLIM_INPUTS.value_range                   # (-1.0, 1.0)

The settings are data that every consumer (training, evaluation, export,
the benchmark) reads from a model's spec instead of choosing its own.
"""

import dataclasses
from typing import Tuple

import tensorflow.compat.v1 as tf


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


def check_images(inputs) -> tf.Tensor:
  """Return ``inputs`` as a tensor, or raise if it is not a 4-D image batch."""
  if tf.executing_eagerly():
    raise RuntimeError(
        'resnet_v2 builds TF1-style graphs: call it inside '
        '`with tf.Graph().as_default():` (or a tf.function).')
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
  return inputs


