"""What a model's input images look like: its input settings.

  SLIM_INPUTS.value_range                   # (-1.0, 1.0)
  InputSettings(image_size=320).central_fraction

The settings are data that every consumer (training, evaluation, export,
the benchmark) reads from a model's spec instead of choosing its own.
"""

import dataclasses
from typing import Tuple


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
