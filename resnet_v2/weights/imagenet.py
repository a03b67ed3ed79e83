"""ImageNet's class names, shipped with the package, in the releases' order.

  class_names(get_release('resnet_v2_50'))[282]     # 'tabby cat'
  class_names(get_release('resnet_v1_50'))[281]     # 'tabby cat'
  synsets()[281]                                    # 'n02123045'

``imagenet_classes.tsv`` lists the 1000 ILSVRC-2012 classes in label order
(their WordNet ids sorted, as every ImageNet loader numbers them), each
with a short readable name. A release with a background class (the v2
ones) has 'background' at 0 and the classes at 1 to 1000.
"""

import functools
import os
from typing import List, Tuple

from resnet_v2.nets import releases

_TABLE_FILE = os.path.join(os.path.dirname(__file__), 'imagenet_classes.tsv')


@functools.lru_cache(maxsize=None)
def _table() -> Tuple[Tuple[str, str], ...]:
  """``(synset, name)`` of the 1000 classes, in label order."""
  with open(_TABLE_FILE, encoding='utf-8') as f:
    return tuple(tuple(line.rstrip('\n').split('\t')) for line in f)


def synsets() -> List[str]:
  """The 1000 WordNet ids (``n01440764`` ...), in label order."""
  return [synset for synset, _ in _table()]


def names() -> List[str]:
  """The 1000 readable class names, in label order."""
  return [name for _, name in _table()]


def class_names(release: releases.Release) -> List[str]:
  """The names of the release's logits, one per class, in order."""
  listed = names()
  return [releases.BACKGROUND] + listed if release.background_class \
      else listed
