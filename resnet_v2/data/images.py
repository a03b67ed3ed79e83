"""Reading image files, and finding the ones that cannot be decoded.

  image = read_image(path)                 # [height, width, 3] uint8 tensor
  bad = find_unreadable(paths)             # every file TensorFlow rejects

PNG, JPEG, BMP and GIF are recognised by their contents, so a misnamed
file still decodes, and a truncated one is found before training starts.
"""

from typing import List, Sequence

import numpy as np
import tensorflow as tf


def read_image(path) -> tf.Tensor:
  """Read and decode one image file to a ``[height, width, 3]`` uint8 tensor.

  PNG, JPEG, BMP and GIF (first frame) are recognised from the file's
  contents; grey-scale and RGBA images are converted to RGB so every model
  sees three channels.
  """
  image = tf.io.decode_image(tf.io.read_file(path), channels=3,
                             expand_animations=False)
  image.set_shape([None, None, 3])
  return image


def find_unreadable(paths: Sequence[str]) -> List[str]:
  """The paths among ``paths`` that TensorFlow cannot read and decode.

  Decoding every file once is the only reliable test (a truncated JPEG has
  a valid header); the files are decoded in parallel with the same decoder
  the input pipeline uses, in a graph of their own, and the ones whose
  decoding fails are dropped by ``ignore_errors`` and reported here.

  Returns:
    A list of paths, in the order given.
  """
  if not paths:
    return []
  with tf.Graph().as_default():
    indices = tf.data.Dataset.from_tensor_slices(
        (np.arange(len(paths), dtype=np.int64), list(paths)))
    decoded = indices.map(
        lambda index, path: (index, tf.shape(read_image(path))),
        num_parallel_calls=tf.data.AUTOTUNE).ignore_errors()
    next_indices = tf.compat.v1.data.make_one_shot_iterator(
        decoded.batch(256)).get_next()
    readable = set()
    with tf.compat.v1.Session() as sess:
      while True:
        try:
          readable.update(sess.run(next_indices[0]).tolist())
        except tf.errors.OutOfRangeError:
          break
  return [path for index, path in enumerate(paths) if index not in readable]


