"""TF-Slim's released ImageNet weights: fetched once, checked, named.

  from resnet_v2 import weights
  path = weights.fetch('resnet_v2_50')            # downloads once, cached
  weights.resolve('imagenet', 'resnet_v2_50')     # the same path
  weights.class_names(weights.get_release('resnet_v2_50'))[282]  # 'tabby cat'

``python -m resnet_v2.weights list`` prints the table of releases and
``python -m resnet_v2.weights fetch resnet_v2_50`` fetches one. The table
is data in ``resnet_v2.nets.releases`` and the cache lives in
``resnet_v2.nets.pretrained`` (the nets load their own weights); this
part adds ImageNet's class names (``imagenet``) and the command.
"""

from resnet_v2.nets.pretrained import cache_dir
from resnet_v2.nets.pretrained import fetch
from resnet_v2.nets.pretrained import release_for
from resnet_v2.nets.pretrained import resolve
from resnet_v2.nets.releases import get_release
from resnet_v2.nets.releases import list_releases
from resnet_v2.nets.releases import Release
from resnet_v2.weights.imagenet import class_names

__all__ = ['Release', 'cache_dir', 'class_names', 'fetch', 'get_release',
           'list_releases', 'release_for', 'resolve']
