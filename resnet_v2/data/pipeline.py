"""tf.data pipelines that turn an ImageFolder into batches for the nets.

  dataset = training_dataset(folder, 224, 32, seed=0, start_step=1000)
  images, labels = next(iter(evaluation_dataset(folder, 224, 32)))

The training stream is a pure function of (seed, global step): epoch ``e``
visits the files in the order ``stateless_shuffle(range(n), seed=[seed, e])``
and the augmentation of the k-th element of the stream is seeded with
``[seed, k]``. A run restored at step ``s`` therefore rebuilds the stream
from element ``s * batch_size`` and sees exactly the batches an
uninterrupted run would have seen, with parallel decoding and prefetching
left on.
"""

import tensorflow as tf

from resnet_v2.data import images
from resnet_v2.data import preprocessing

_ENDLESS = 2 ** 62


def epoch_order(num_examples, seed, epoch):
  """The file indices of epoch ``epoch`` in visiting order (a permutation)."""
  return tf.random.experimental.stateless_shuffle(
      tf.range(num_examples, dtype=tf.int64),
      seed=tf.stack([tf.cast(seed, tf.int64), epoch]))


def _file_indices(num_examples, seed, first_element):
  """The endless stream of file indices from element ``first_element`` on."""
  first_epoch, skip = divmod(first_element, num_examples)
  epochs = tf.data.Dataset.range(first_epoch, _ENDLESS)
  orders = epochs.map(lambda epoch: epoch_order(num_examples, seed, epoch))
  return orders.unbatch().skip(skip)


def training_dataset(folder, image_size, batch_size, seed, start_step=0,
                     min_crop_area=preprocessing.DEFAULT_MIN_CROP_AREA,
                     flip=True, color_jitter=False,
                     value_range=preprocessing.DEFAULT_VALUE_RANGE):
  """An endless dataset of augmented ``(images, labels)`` training batches.

  Args:
    folder: the training ``ImageFolder``.
    image_size: side of the square images fed to the net.
    batch_size: images per batch; every batch is full.
    seed: int fixing the file order and the augmentation.
    start_step: how many batches were already consumed; the dataset starts
      with batch number ``start_step`` of the stream.
    min_crop_area, flip, color_jitter, value_range: see
      ``preprocessing.train_image``.

  Returns:
    A ``tf.data.Dataset`` of float32 ``[batch, size, size, 3]`` images in
    ``value_range`` and int32 ``[batch]`` labels.
  """
  paths = tf.constant(folder.paths)
  labels = tf.constant(folder.labels, dtype=tf.int32)
  first_element = start_step * batch_size
  elements = tf.data.Dataset.zip((
      tf.data.Dataset.range(first_element, _ENDLESS),
      _file_indices(len(folder.paths), seed, first_element)))

  def load(element, index):
    element_seed = tf.stack([tf.cast(seed, tf.int64), element])
    image = preprocessing.train_image(
        images.read_image(paths[index]), image_size, element_seed,
        min_crop_area=min_crop_area, flip=flip, color_jitter=color_jitter,
        value_range=value_range)
    return image, labels[index]

  batches = elements.map(load, num_parallel_calls=tf.data.AUTOTUNE)
  return batches.batch(batch_size, drop_remainder=True).prefetch(
      tf.data.AUTOTUNE)


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
