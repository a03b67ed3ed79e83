"""resnet_v2: TF-Slim-compatible, configurable pre-activation ResNets.

  import resnet_v2
  with tf.Graph().as_default():
    logits, end_points = resnet_v2.get_network_fn('resnet_v2_50', 1000)(images)

The package is folders by concern: ``nets`` (the Block spec, units, model
table, analysis, backbone), ``data`` (image folders, preprocessing,
tf.data), ``training`` (the trainer, run records, evaluation, export) and
``benchmark`` (timing and the peers); ``common`` holds what every command
shares. Importing it applies the tf-slim compatibility fix first
(``resnet_v2.nets.compat``). Each registered model's constructor
(``resnet_v2.resnet_v2_50`` ...) is an attribute of the package, generated
from the model table in ``resnet_v2.nets.zoo``.
"""

from resnet_v2 import nets as _nets
from resnet_v2.benchmark.timing import TimingResult
from resnet_v2.benchmark.timing import time_tensorflow_run
from resnet_v2.common.precision import check_precision_supported
from resnet_v2.common.precision import session_config
from resnet_v2.nets import *  # noqa: F401,F403  (the public names of nets)

__all__ = sorted(_nets.__all__ + [
    'TimingResult', 'check_precision_supported', 'session_config',
    'time_tensorflow_run'])


def __getattr__(name):
  """The constructor of a model registered after import, by its name."""
  return getattr(_nets, name)
