"""A tiny registered model with a release, standing in for TF-Slim's.

``registered()`` puts ``resnet_v2_tiny`` (a 26-layer bottleneck net at an
eighth of the width, 1001 classes) and its release in the tables while
inside, so tests and the processes they start can fetch, fine-tune and
export it in seconds; other tests never see it.
``write_checkpoint`` saves TF-Slim's own reference net of the same layout
in either checkpoint format.
"""

import contextlib
import os
import tarfile

import numpy as np
import tensorflow.compat.v1 as tf
import tf_slim as slim
from tf_slim.nets import resnet_v2 as slim_resnet_v2

import resnet_v2
from resnet_v2.nets import inputs
from resnet_v2.nets import registry
from resnet_v2.nets import releases

MODEL = 'resnet_v2_tiny'
NUM_CLASSES = 1001
IMAGE_SIZE = 32
RELEASE = releases.Release(
    MODEL, MODEL + '_2017_04_14.tar.gz', MODEL + '.ckpt', NUM_CLASSES, True,
    inputs.InputSettings(image_size=IMAGE_SIZE), 'inception', 1.0, 5.0)



@contextlib.contextmanager
def registered():
  """The tiny model and its release in the tables while inside."""
  resnet_v2.register(registry.ModelSpec(MODEL, 26, 'bottleneck',
                                        width_multiplier=0.125))
  releases.add(RELEASE)
  try:
    yield
  finally:
    releases.remove(MODEL)
    resnet_v2.unregister(MODEL)


def reference_logits_fn(images, scope=MODEL, num_classes=NUM_CLASSES):
  """TF-Slim's own resnet_v2 with the tiny layout: the oracle."""
  blocks = [slim_resnet_v2.resnet_v2_block('block1', 8, 2, 2),
            slim_resnet_v2.resnet_v2_block('block2', 16, 2, 2),
            slim_resnet_v2.resnet_v2_block('block3', 32, 2, 2),
            slim_resnet_v2.resnet_v2_block('block4', 64, 2, 1)]
  with slim.arg_scope(slim_resnet_v2.resnet_arg_scope()):
    logits, _ = slim_resnet_v2.resnet_v2(images, blocks, num_classes,
                                         is_training=False, scope=scope)
  return logits


def test_images(count=2, seed=0):
  """Float images in [-1, 1] at the release's size."""
  return np.random.RandomState(seed).uniform(
      -1, 1, (count, IMAGE_SIZE, IMAGE_SIZE, 3)).astype(np.float32)


def write_checkpoint(path, v1=True, scope=MODEL, seed=0):
  """Save the reference net with random weights; its logits on
  ``test_images()``. ``v1`` writes one V1-format file at ``path`` (as TF-Slim
  released them, no state file); else a V2 prefix with a state file."""
  rng = np.random.RandomState(seed)
  with tf.Graph().as_default():
    images = tf.constant(test_images())
    logits = reference_logits_fn(images, scope=scope)
    with tf.Session() as session:
      session.run(tf.global_variables_initializer())
      for variable in tf.global_variables():
        if 'moving_variance' in variable.name or 'gamma' in variable.name:
          variable.load(rng.uniform(0.5, 1.5, variable.shape), session)
        elif 'BatchNorm' in variable.name or 'biases' in variable.name:
          variable.load(rng.uniform(-0.2, 0.2, variable.shape), session)
      saver = tf.train.Saver(write_version=tf.train.SaverDef.V1 if v1
                             else tf.train.SaverDef.V2)
      saver.save(session, path, write_meta_graph=False, write_state=not v1)
      return session.run(logits).reshape(-1, NUM_CLASSES)


def write_archive(folder, checkpoint):
  """A .tar.gz laid out like the release: the checkpoint and two graph
  files at the top; its path."""
  for name in ('eval.graph', 'train.graph'):
    with open(os.path.join(os.path.dirname(checkpoint), name), 'w') as f:
      f.write('graph')
  archive = os.path.join(folder, RELEASE.archive)
  with tarfile.open(archive, 'w:gz') as tar:
    tar.add(checkpoint, arcname=RELEASE.checkpoint)
    for name in ('eval.graph', 'train.graph'):
      tar.add(os.path.join(os.path.dirname(checkpoint), name), arcname=name)
  return archive
