"""tf.data pipelines that turn an ImageFolder into batches for the nets.

  dataset = training_dataset(folder, 224, 32, seed=0, start_step=1000)
  images, labels = next(iter(evaluation_dataset(folder, 224, 32)))

The training stream is a pure function of (seed, global step): element
``k`` of the stream reads the file ``file_index(k)`` (each epoch a seeded
permutation of the files) and its augmentation is seeded with
``[seed, k]``. A run restored at step ``s`` therefore rebuilds the stream
from element ``s * batch_size`` and sees exactly the batches an
uninterrupted run would have seen, with parallel decoding and prefetching
left on; the workers of a distributed run each read their own slice of
every global batch (``shard``).
"""

import tensorflow as tf

from resnet_v2.data import images
from resnet_v2.data import preprocessing

_ENDLESS = 2 ** 62


def file_index(element, num_examples, seed):
  """The file that element ``element`` of the training stream reads.

  Element ``e`` is position ``e % n`` of epoch ``e // n``; each epoch
  visits the ``n`` files in its own seeded order (a bijection, so every
  file once per epoch), computed for one position at a time, so any
  element can be found without walking the stream up to it.
  """
  element = tf.cast(element, tf.int64)
  epoch, position = element // num_examples, element % num_examples
  key = tf.stack([tf.cast(seed, tf.int64), epoch])
  return tf.random.experimental.index_shuffle(
      position, seed=key, max_index=num_examples - 1)


def _shard_elements(batch_size, start_step, shard, num_shards):
  """The stream elements ``shard`` reads, from step ``start_step`` on.

  Step ``s`` of the global stream is elements ``s * batch_size`` to
  ``(s + 1) * batch_size - 1``; shard ``p`` of ``P`` takes the ``p``-th of
  their ``P`` equal consecutive slices, so the shards together read each
  global batch exactly once.
  """
  per_shard = batch_size // num_shards
  offsets = tf.data.Dataset.range(start_step * per_shard, _ENDLESS)
  return offsets.map(lambda i: (i // per_shard) * batch_size +
                     shard * per_shard + i % per_shard)


def training_dataset(folder, image_size, batch_size, seed, start_step=0,
                     min_crop_area=preprocessing.DEFAULT_MIN_CROP_AREA,
                     flip=True, color_jitter=False,
                     value_range=preprocessing.DEFAULT_VALUE_RANGE,
                     shard=0, num_shards=1, replica_batch_size=None):
  """An endless dataset of augmented ``(images, labels)`` training batches.

  Args:
    folder: the training ``ImageFolder``.
    image_size: side of the square images fed to the net.
    batch_size: images per step, over all shards (the global batch).
    seed: int fixing the file order and the augmentation.
    start_step: how many steps were already taken; the dataset starts
      with step ``start_step`` of the stream.
    min_crop_area, flip, color_jitter, value_range: see
      ``preprocessing.train_image``.
    shard, num_shards: this input pipeline reads the ``shard``-th of
      ``num_shards`` equal slices of every global batch (one per worker
      under ``tf.distribute``); ``batch_size`` must divide by
      ``num_shards``.
    replica_batch_size: images per yielded batch, dividing the shard's
      slice (one batch per replica fed by this pipeline); the whole slice
      when None.

  Returns:
    A ``tf.data.Dataset`` of float32 ``[batch, size, size, 3]`` images in
    ``value_range`` and int32 ``[batch]`` labels. Every batch is full.
  """
  paths = tf.constant(folder.paths)
  labels = tf.constant(folder.labels, dtype=tf.int32)
  num_examples = len(folder.paths)

  def load(element):
    index = file_index(element, num_examples, seed)
    element_seed = tf.stack([tf.cast(seed, tf.int64), element])
    image = preprocessing.train_image(
        images.read_image(paths[index]), image_size, element_seed,
        min_crop_area=min_crop_area, flip=flip, color_jitter=color_jitter,
        value_range=value_range)
    return image, labels[index]

  elements = _shard_elements(batch_size, start_step, shard, num_shards)
  batches = elements.map(load, num_parallel_calls=tf.data.AUTOTUNE)
  return batches.batch(replica_batch_size or batch_size // num_shards,
                       drop_remainder=True).prefetch(tf.data.AUTOTUNE)


def evaluation_dataset(folder, image_size, batch_size,
                       central_fraction=preprocessing.DEFAULT_CENTRAL_FRACTION,
                       multi_crop=False,
                       value_range=preprocessing.DEFAULT_VALUE_RANGE):
  """One ordered pass over ``folder`` as ``(images, labels)`` batches.

  With ``multi_crop`` every image becomes ``preprocessing.MULTI_CROP_VIEWS``
  views, so images are ``[batch, views, size, size, 3]``; otherwise they
  are the central crop, ``[batch, size, size, 3]``. The last batch may be
  smaller.
  """
  def load(path, label):
    image = images.read_image(path)
    views = preprocessing.multi_crop if multi_crop else preprocessing.eval_image
    return views(image, image_size, central_fraction, value_range), label

  files = tf.data.Dataset.from_tensor_slices(
      (list(folder.paths), tf.constant(folder.labels, dtype=tf.int32)))
  return files.map(load, num_parallel_calls=tf.data.AUTOTUNE).batch(
      batch_size).prefetch(tf.data.AUTOTUNE)
