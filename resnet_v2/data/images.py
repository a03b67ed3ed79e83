"""Reading image files, and finding the ones that cannot be decoded.

  image = read_image(path)                 # [height, width, 3] uint8 tensor
  bad = find_unreadable(paths)             # every file TensorFlow rejects
  why = unreadable_reasons(bad[:3])        # TensorFlow's error, by path

Every format TensorFlow decodes is read (``FORMATS``), recognised by its
contents, so a misnamed file still decodes and a truncated one is found
before training starts. Whatever the file holds (grey, grey and alpha,
RGB, RGBA, a palette, 16 bits per sample, CMYK) comes out as three
channels of 8-bit RGB: alpha is dropped, 16-bit samples keep their high
byte, animations give their first frame.
"""

import re
from typing import Dict, List, Sequence

import numpy as np
import tensorflow as tf

FORMATS = 'PNG, JPEG, GIF, BMP, WebP or JPEG XL'
# The header bytes the format checks below read; shorter files are padded.
_HEADER_BYTES = 64


def _header(contents):
  """The first ``_HEADER_BYTES`` bytes of ``contents`` as int32, 0-padded."""
  head = tf.io.decode_raw(tf.strings.substr(contents, 0, _HEADER_BYTES),
                          tf.uint8)
  head = tf.pad(head, [[0, _HEADER_BYTES - tf.size(head)]])
  return tf.cast(head, tf.int32)


def _little_endian(head, offset, size):
  """The unsigned little-endian integer of ``size`` bytes at ``offset``."""
  value = head[offset]
  for index in range(1, size):
    value += head[offset + index] * 256 ** index
  return value


def _bytes_equal(head, offset, text):
  """Whether ``head`` holds the ASCII ``text`` at ``offset``."""
  expected = tf.constant([ord(c) for c in text], tf.int32)
  return tf.reduce_all(tf.equal(head[offset:offset + len(text)], expected))


def _webp_has_alpha(head):
  """Whether the bytes are a WebP image with an alpha channel.

  TensorFlow's WebP decoder only decodes such files (and animations, which
  WebP stores as extended files with alpha) when asked for four channels,
  and files without alpha only when asked for three, so the channel count
  is read from the header: the alpha flag of an extended ('VP8X') file,
  the alpha bit of a lossless ('VP8L') one; a lossy ('VP8 ') file has none.
  """
  webp = tf.logical_and(_bytes_equal(head, 0, 'RIFF'),
                        _bytes_equal(head, 8, 'WEBP'))
  extended = tf.logical_and(_bytes_equal(head, 12, 'VP8X'),
                            tf.bitwise.bitwise_and(head[20], 0x10) > 0)
  lossless = tf.logical_and(_bytes_equal(head, 12, 'VP8L'),
                            tf.bitwise.bitwise_and(head[24], 0x10) > 0)
  return tf.logical_and(webp, tf.logical_or(extended, lossless))


def _is_palette_bmp(head):
  """Whether the bytes are an 8-bit BMP, whose pixels index a palette."""
  return tf.logical_and(_bytes_equal(head, 0, 'BM'),
                        tf.equal(_little_endian(head, 28, 2), 8))


def _decode_palette_bmp(contents, head):
  """An 8-bit BMP through its palette, ``[height, width, 3]`` uint8.

  TensorFlow's BMP decoder returns the palette indices of such a file as a
  grey image, which is right only for a grey palette; the palette (blue,
  green, red, unused per entry) sits between the headers and the pixels.
  """
  start = 14 + _little_endian(head, 14, 4)
  length = _little_endian(head, 10, 4) - start
  check = tf.debugging.assert_positive(
      length, message='8-bit BMP without a palette')
  with tf.control_dependencies([check]):
    entries = tf.io.decode_raw(tf.strings.substr(contents, start, length),
                               tf.uint8)
  entries = tf.pad(entries[:1024], [[0, 1024 - tf.minimum(tf.size(entries),
                                                          1024)]])
  palette = tf.reverse(tf.reshape(entries, [256, 4])[:, :3], axis=[1])
  indices = tf.io.decode_bmp(contents, channels=0)
  return tf.gather(palette, tf.cast(indices[:, :, 0], tf.int32))


def decode(contents) -> tf.Tensor:
  """Decode the bytes of an image file to ``[height, width, 3]`` uint8.

  ``tf.io.decode_image`` reads every format of ``FORMATS``; two kinds of
  file need another path, chosen from the header: WebP files with alpha
  (decoded with four channels, alpha then dropped) and 8-bit BMPs (looked
  up in their palette).
  """
  head = _header(contents)
  image = tf.case(
      [(_webp_has_alpha(head),
        lambda: tf.io.decode_image(contents, channels=4,
                                   expand_animations=False)[:, :, :3]),
       (_is_palette_bmp(head), lambda: _decode_palette_bmp(contents, head))],
      default=lambda: tf.io.decode_image(contents, channels=3,
                                         expand_animations=False))
  image.set_shape([None, None, 3])
  return image


def read_image(path) -> tf.Tensor:
  """Read and decode one image file to a ``[height, width, 3]`` uint8 tensor.

  See ``decode`` for what every kind of file becomes.
  """
  return decode(tf.io.read_file(path))


# TensorFlow's error texts carry the op's device and name around the cause.
_ERROR_NOISE = re.compile(r'\{\{[^}]*\}\}|\[Op:[^\]]*\]')


def _reason(error):
  """The cause in a TensorFlow decoding error: its last line of text, the
  lines naming the graph node and the op's decorations left out."""
  lines = [line.strip() for line in error.message.splitlines()]
  causes = [line for line in lines if line and not line.startswith('[[')]
  cause = _ERROR_NOISE.sub(' ', causes[-1] if causes else '')
  return ' '.join(cause.split()).rstrip('.') or 'unreadable'


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


def unreadable_reasons(paths: Sequence[str]) -> Dict[str, str]:
  """Why TensorFlow cannot decode each of ``paths``, by path.

  Each file is decoded alone, so that its error is its own; a path that
  decodes after all is left out. Meant for the few files a message names.
  """
  reasons = {}
  with tf.Graph().as_default():
    path = tf.compat.v1.placeholder(tf.string, [])
    shape = tf.shape(read_image(path))
    with tf.compat.v1.Session() as sess:
      for each in paths:
        try:
          sess.run(shape, {path: each})
        except tf.errors.OpError as error:
          reasons[each] = _reason(error)
  return reasons
