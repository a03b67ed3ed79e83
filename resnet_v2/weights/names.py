"""A release's name where a checkpoint path is taken: ``resolve``.

  resolve('imagenet', 'resnet_v2_50')        # fetches; the cached .ckpt
  resolve('resnet_v2_50', None)              # the same
  resolve('runs/photos', 'resnet_v2_50')     # a path: returned as it is

A path that exists is always a path, so a folder that happens to be named
like a model is read as the folder. Every entry point that takes a
checkpoint (the trainer, evaluate, export, the Keras layers,
``get_network_fn``) passes what it was given through here.
"""

import os
from typing import Optional

from resnet_v2.nets import releases
from resnet_v2.weights import cache


def release_for(checkpoint_path: Optional[str],
                model: Optional[str]) -> Optional[releases.Release]:
  """The release ``checkpoint_path`` names or is the file of, else None.

  Raises:
    ValueError: see ``releases.release_named``.
  """
  if not checkpoint_path:
    return None
  if os.path.exists(checkpoint_path):
    return releases.release_of_file(checkpoint_path)
  return releases.release_named(checkpoint_path, model)


def resolve(checkpoint_path: Optional[str],
            model: Optional[str]) -> Optional[str]:
  """``checkpoint_path``, with a release name replaced by its local file.

  Raises:
    ValueError: for a name without a release, or a fetch that failed.
  """
  if not checkpoint_path or os.path.exists(checkpoint_path):
    return checkpoint_path
  release = releases.release_named(checkpoint_path, model)
  return cache.fetch(release.model) if release else checkpoint_path
