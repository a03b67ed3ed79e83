"""A small real image set written as an image folder: scikit-learn's digits.

  train_dir, test_dir = write_digits('/tmp/digits')   # PNGs per class
  python -m resnet_v2.data.digits --out_dir=/tmp/digits

scikit-learn ships 1,797 scans of handwritten digits (8x8 pixels, 17 grey
levels, ten classes) inside its wheel, so this works offline. Writing them
as PNG files in the class-per-subfolder layout exercises the same path a
user's photos take: folder scan, decode, augmentation, training,
evaluation, export. scikit-learn is an optional extra
(``pip install resnet_v2[digits]``).
"""

import os
import struct
import sys
import zlib

import numpy as np

from resnet_v2.common import checks

_DIGIT_GREY_LEVELS = 16


def _load_digits():
  """scikit-learn's digits as (uint8 images [n, 8, 8], int labels [n])."""
  try:
    from sklearn import datasets  # pylint: disable=g-import-not-at-top
  except ImportError as error:
    raise ImportError('the digits need scikit-learn: pip install '
                      '"resnet_v2[digits]" (or scikit-learn).') from error
  digits = datasets.load_digits()
  images = np.round(digits.images * (255.0 / _DIGIT_GREY_LEVELS))
  return images.astype(np.uint8), digits.target


def _test_indices(labels, test_fraction, seed):
  """A per-class random ``test_fraction`` of the indices, sorted."""
  rng = np.random.RandomState(seed)
  chosen = []
  for label in np.unique(labels):
    members = rng.permutation(np.flatnonzero(labels == label))
    chosen += members[:int(round(test_fraction * len(members)))].tolist()
  return sorted(chosen)


def _png_chunk(kind, data):
  """One PNG chunk: length, type, data and CRC."""
  return (struct.pack('>I', len(data)) + kind + data +
          struct.pack('>I', zlib.crc32(kind + data) & 0xffffffff))


def encode_grey_png(image):
  """The bytes of an 8-bit grey-scale PNG of the uint8 ``[h, w]`` ``image``.

  Written out by hand (signature, IHDR, one zlib IDAT with filter byte 0 per
  row, IEND) so the digits can be written from any context, eager or
  graph, without an imaging library.
  """
  height, width = image.shape
  header = struct.pack('>IIBBBBB', width, height, 8, 0, 0, 0, 0)
  rows = b''.join(b'\x00' + row.tobytes() for row in image.astype(np.uint8))
  return (b'\x89PNG\r\n\x1a\n' + _png_chunk(b'IHDR', header) +
          _png_chunk(b'IDAT', zlib.compress(rows)) + _png_chunk(b'IEND', b''))


def write_digits(folder, test_fraction=0.2, seed=0):
  """Write the digits to ``folder/train/<digit>/`` and ``folder/test/<digit>/``.

  The test split holds ``test_fraction`` of every class, chosen with
  ``seed``, so the two folders never share an image.

  Returns:
    ``(train_folder, test_folder)`` paths.

  Raises:
    ValueError: if ``folder`` exists and is not empty, or test_fraction is
      not in (0, 1).
    ImportError: if scikit-learn is not installed.
  """
  checks.check_number('test_fraction', test_fraction, above=0.0, below=1.0)
  if os.path.exists(folder) and (not os.path.isdir(folder) or
                                 os.listdir(folder)):
    raise ValueError('%r already exists and is not an empty folder: pass a '
                     'new folder (nothing is overwritten).' % (folder,))
  images, labels = _load_digits()
  test = set(_test_indices(labels, test_fraction, seed))
  splits = {'train': os.path.join(folder, 'train'),
            'test': os.path.join(folder, 'test')}
  for index, (image, label) in enumerate(zip(images, labels)):
    class_dir = os.path.join(splits['test' if index in test else 'train'],
                             str(label))
    os.makedirs(class_dir, exist_ok=True)
    with open(os.path.join(class_dir, '%04d.png' % index), 'wb') as f:
      f.write(encode_grey_png(image))
  return splits['train'], splits['test']


def _main(argv):
  """``python -m resnet_v2.data.digits --out_dir=DIR``: write the folders."""
  from absl import flags  # pylint: disable=g-import-not-at-top
  from resnet_v2.common import cli  # pylint: disable=g-import-not-at-top
  flag_values = flags.FlagValues()
  flags.DEFINE_string('out_dir', None, 'New (or empty) folder to write '
                      'train/<digit>/ and test/<digit>/ PNG files to.',
                      flag_values=flag_values)
  flags.DEFINE_float('test_fraction', 0.2, 'Held-out fraction of each class.',
                     flag_values=flag_values)
  flags.DEFINE_integer('seed', 0, 'Fixes which images are held out.',
                       flag_values=flag_values)
  flags.mark_flag_as_required('out_dir', flag_values=flag_values)
  cli.parse(flag_values, argv, __doc__)
  with cli.errors_as_usage():
    try:
      train, test = write_digits(flag_values.out_dir,
                                 flag_values.test_fraction, flag_values.seed)
    except ImportError as error:
      raise ValueError(str(error)) from error
  print('wrote %s and %s' % (train, test))


if __name__ == '__main__':
  _main(sys.argv)
