"""TF-Slim's released ImageNet checkpoints: one line of data per release.

  get_release('resnet_v2_50').inputs.image_size      # 299
  get_release('resnet_v1_50').num_classes            # 1000
  list_releases()                                    # ['resnet_v2_50', ...]

The facts come from the "Pre-trained Models" table of TF-Slim's README
(tensorflow/models, research/slim): each archive holds one checkpoint file
in TensorFlow's V1 format, named after the model, for the ILSVRC-2012
classes. The v2 nets were trained with Inception preprocessing (pixels in
[-1, 1]) and evaluated at 299x299, with 1001 classes whose class 0 is
'background'; the v1 nets with VGG preprocessing (RGB in [0, 255] minus
the ImageNet mean) at 224x224, with the 1000 classes. A release's
``inputs`` are what every consumer (training, evaluation, export, the
predictor) uses with its weights. The table is plain data, read without
TensorFlow; ``resnet_v2.weights`` downloads and checks the files.
"""

import collections
import dataclasses
from typing import Dict, List, Optional, Tuple

from resnet_v2.nets import inputs as inputs_lib
from resnet_v2.nets import registry

# Where TF-Slim's README links its archives; ``$RESNET_V2_WEIGHTS_URL``
# (read by ``resnet_v2.weights``) replaces it, e.g. with a mirror.
BASE_URL = 'http://download.tensorflow.org/models/'
# The name that stands for "the release of the model being built".
IMAGENET = 'imagenet'
BACKGROUND = 'background'

# VGG preprocessing: RGB in [0, 255] minus the ImageNet mean of each
# channel, written as the per-channel range [0, 1] maps onto.
VGG_MEAN_RGB = (123.68, 116.78, 103.94)
VGG_INPUTS = inputs_lib.InputSettings(
    image_size=224,
    value_range=(tuple(-mean for mean in VGG_MEAN_RGB),
                 tuple(255.0 - mean for mean in VGG_MEAN_RGB)),
    central_fraction=0.875)
INCEPTION_INPUTS = inputs_lib.InputSettings(
    image_size=299, value_range=(-1.0, 1.0), central_fraction=0.875)


@dataclasses.dataclass(frozen=True)
class Release:
  """One released checkpoint and what its weights need.

  Attributes:
    model: the registered model the checkpoint is for (its variable scope).
    archive: the file name of the ``.tar.gz`` under ``BASE_URL``.
    checkpoint: the checkpoint file inside the archive.
    num_classes: logits of the released head.
    background_class: whether class 0 is 'background' (then the ImageNet
      classes are 1 to 1000).
    inputs: the input settings the weights were trained and evaluated with.
    preprocessing: the name of that preprocessing in TF-Slim.
    top1: published ImageNet validation top-1 accuracy, in percent.
    top5: published top-5 accuracy, in percent.
  """
  model: str
  archive: str
  checkpoint: str
  num_classes: int
  background_class: bool
  inputs: inputs_lib.InputSettings
  preprocessing: str
  top1: float
  top5: float

  @property
  def entry(self) -> str:
    """The cache folder name: the archive's name without ``.tar.gz``."""
    return self.archive[:-len('.tar.gz')]


def _v2(depth: int, top1: float, top5: float) -> Release:
  """A v2 release of 2017-04-14: 1001 classes, Inception preprocessing."""
  name = 'resnet_v2_%d' % depth
  return Release(name, name + '_2017_04_14.tar.gz', name + '.ckpt', 1001,
                 True, INCEPTION_INPUTS, 'inception', top1, top5)


def _v1(depth: int, top1: float, top5: float) -> Release:
  """A v1 release of 2016-08-28: 1000 classes, VGG preprocessing."""
  name = 'resnet_v1_%d' % depth
  return Release(name, name + '_2016_08_28.tar.gz', name + '.ckpt', 1000,
                 False, VGG_INPUTS, 'vgg', top1, top5)


RELEASES = (
    _v2(50, 75.6, 92.8), _v2(101, 77.0, 93.7), _v2(152, 77.8, 94.1),
    _v1(50, 75.2, 92.2), _v1(101, 76.4, 92.9), _v1(152, 76.8, 93.2),
)

_TABLE: Dict[str, Release] = collections.OrderedDict(
    (release.model, release) for release in RELEASES)

HEADERS = ('model', 'file', 'classes', 'input', 'preprocessing',
           'top-1', 'top-5')


def add(release: Release) -> None:
  """Put ``release`` in the table (for a model registered at run time).

  Raises:
    ValueError: if the model is not registered or already has a release.
  """
  registry.get_spec(release.model)
  if release.model in _TABLE:
    raise ValueError('model %r already has a release.' % release.model)
  _TABLE[release.model] = release


def remove(model: str) -> None:
  """Take the release of ``model`` out of the table."""
  get_release(model)
  del _TABLE[model]


def list_releases() -> List[str]:
  """The models that have released weights, in table order."""
  return list(_TABLE)


def get_release(model: str) -> Release:
  """The release of ``model``; ValueError names the models that have one."""
  release = _TABLE.get(model)
  if release is None:
    raise ValueError(
        'no released ImageNet weights for %r: TF-Slim released %s.'
        % (model, ', '.join(_TABLE)))
  return release


def release_named(name: Optional[str], model: Optional[str]) -> \
    Optional[Release]:
  """The release that ``name`` stands for where a checkpoint path is taken.

  ``'imagenet'`` is the release of ``model``; a model's own name (e.g.
  ``'resnet_v2_50'``) is its release. Anything else is a path: None.

  Raises:
    ValueError: for ``'imagenet'`` without a model, a model with no
      release, or a release name that is not ``model``'s.
  """
  if name == IMAGENET:
    if not model:
      raise ValueError(
          "checkpoint_path='imagenet' needs the model it is for: pass the "
          'release name instead, one of %s.' % ', '.join(_TABLE))
    return get_release(model)
  if name in _TABLE:
    if model and model != name:
      raise ValueError(
          'checkpoint_path=%r holds the weights of %s, not of the model %s: '
          'pass --checkpoint_path=imagenet for the release of %s, or '
          '--model=%s.' % (name, name, model, model, name))
    return _TABLE[name]
  return None


def release_of_file(path: Optional[str]) -> Optional[Release]:
  """The release whose checkpoint file ``path`` is, by its file name.

  A released checkpoint downloaded by hand (``.../resnet_v1_50.ckpt``)
  then gets its release's input settings, as the fetched one does.
  """
  if not path:
    return None
  base = path.rstrip('/').rsplit('/', 1)[-1]
  return next((release for release in _TABLE.values()
               if release.checkpoint == base), None)


def _input_text(inputs: inputs_lib.InputSettings) -> str:
  """E.g. ``'299x299'``."""
  return '%dx%d' % (inputs.image_size, inputs.image_size)


def release_rows() -> List[Tuple[str, ...]]:
  """One row of ``HEADERS`` per release, for ``python -m resnet_v2.weights
  list`` and the README."""
  return [(release.model, release.archive, str(release.num_classes),
           _input_text(release.inputs), release.preprocessing,
           '%.1f' % release.top1, '%.1f' % release.top5)
          for release in _TABLE.values()]


def settings_text(release: Release) -> str:
  """What the release's weights expect, in one line."""
  low, high = release.inputs.value_range
  if release.preprocessing == 'vgg':
    pixels = 'RGB 0..255 minus the mean %s' % (VGG_MEAN_RGB,)
  else:
    pixels = 'pixels in [%g, %g]' % (low, high)
  return ('%s: %d classes%s, %s, %s preprocessing (%s)'
          % (release.model, release.num_classes,
             " (class 0 is 'background')" if release.background_class else '',
             _input_text(release.inputs), release.preprocessing, pixels))
