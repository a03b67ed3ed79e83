"""What a model's input images look like: its input settings.

  SLIM_INPUTS.value_range                   # (-1.0, 1.0)
  InputSettings(image_size=320).central_fraction

The settings are data that every consumer (training, evaluation, export,
the benchmark) reads from a model's spec instead of choosing its own.
"""

import dataclasses
from typing import Tuple, Union

Bound = Union[float, Tuple[float, float, float]]


@dataclasses.dataclass(frozen=True)
class InputSettings:
  """What a model's input images look like.

  Attributes:
    image_size: the default side of the square input, in pixels.
    value_range: ``(low, high)``: the pixel values [0, 1] maps onto,
      each a number or one per RGB channel. TF-Slim's released ResNet v2
      checkpoints were trained on ``2 * x / 255 - 1``, i.e. ``(-1.0,
      1.0)``; its v1 ones on ``x - mean`` per channel, i.e. ``(-mean,
      255 - mean)`` (``releases.VGG_INPUTS``).
    central_fraction: the central crop (fraction of each side) used at
      evaluation and export.
  """
  image_size: int = 224
  value_range: Tuple[Bound, Bound] = (-1.0, 1.0)
  central_fraction: float = 0.875


SLIM_INPUTS = InputSettings()
