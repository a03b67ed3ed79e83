"""The images ``Predictor.predict`` takes, and advice for those it does not.

  listed = image_list(batch)       # [h, w, 3] uint8 arrays, or a ValueError

``predict`` takes uint8 RGB: one ``[height, width, 3]`` array, a
``[batch, height, width, 3]`` array, or a list of ``[height, width, 3]``
arrays of any sizes. Anything else is one ValueError that says what was
given and gives an expression that makes it right, written for the
caller's variable ``images`` (``np`` is numpy):

* floats are refused, not guessed: float pixels in [0, 1], [0, 255] and
  [-1, 1] all occur, and an image that happens to be dark would be read in
  the wrong one. The advice names the range the values are in;
* other integer types in 0-255 (int64 from a Python list, PIL arithmetic)
  and 16-bit pixels get the cast that keeps their meaning;
* one channel, grey with alpha, RGBA and channels-first arrays get the
  reshaping that makes them RGB.
"""

import collections

import numpy as np

USAGE = ('predict takes uint8 RGB images: one [height, width, 3] array, a '
         '[batch, height, width, 3] array or a list of [height, width, 3] '
         'arrays')

# A problem with one image or batch, and its fix as a template of the
# caller's expression ``{x}`` (None when no expression would make it right).
Problem = collections.namedtuple('Problem', ['what', 'fix'])

_CHANNEL_FIXES = {1: 'np.repeat({x}, 3, axis=-1)',
                  2: 'np.repeat({x}[..., :1], 3, axis=-1)',
                  4: '{x}[..., :3]'}


def _shape_problem(shape):
  """What is wrong with the ``[..., height, width, channels]`` ``shape``."""
  height, width, channels = shape[-3:]
  if channels in _CHANNEL_FIXES:
    return Problem('%d channel%s' % (channels, 's' * (channels > 1)),
                   _CHANNEL_FIXES[channels])
  if channels != 3 and height in _CHANNEL_FIXES.keys() | {3}:
    moved = 'np.moveaxis({x}, -3, -1)'
    return Problem('channels first', moved if height == 3 else
                   _CHANNEL_FIXES[height].format(x=moved))
  if channels != 3:
    return Problem('%d channels' % channels, None)
  if not height or not width:
    return Problem('no pixels', None)
  return None


def _float_problem(pixels):
  """What is wrong with float pixels, and the cast to uint8 they need."""
  if not np.all(np.isfinite(pixels)):
    return Problem('%s pixels that are NaN or infinite' % pixels.dtype, None)
  low, high = float(pixels.min()), float(pixels.max())
  what = '%s pixels in [%g, %g]' % (pixels.dtype, low, high)
  if low >= 0 and high <= 1:
    return Problem(what, '({x} * 255).round().astype(np.uint8)')
  if low >= 0 and high <= 255:
    return Problem(what, '{x}.round().astype(np.uint8)')
  if low >= -1 and high <= 1:
    return Problem(what, '(({x} + 1) * 127.5).round().astype(np.uint8)')
  return Problem(what, None)


def _integer_problem(pixels):
  """What is wrong with integer pixels that are not uint8."""
  low, high = int(pixels.min()), int(pixels.max())
  what = '%s pixels in [%d, %d]' % (pixels.dtype, low, high)
  if low >= 0 and high <= 255:
    return Problem(what, '{x}.astype(np.uint8)')
  if pixels.dtype == np.uint16:
    return Problem(what, '({x} // 257).astype(np.uint8)')
  return Problem(what, None)


def _problem(pixels):
  """What is wrong with a rank-3 image or rank-4 batch, or None."""
  shape = _shape_problem(pixels.shape)
  if shape is not None or pixels.dtype == np.uint8:
    return shape
  if pixels.dtype.kind == 'f':
    return _float_problem(pixels)
  if pixels.dtype.kind in 'iu':
    return _integer_problem(pixels)
  return Problem('%s values' % pixels.dtype, None)


def _refuse(given, advice=None):
  """The ValueError for ``images`` being ``given``, with ``advice``."""
  return ValueError('images %s: %s%s.' % (given, USAGE,
                                          '; %s' % advice if advice else ''))


def _check_array(array, kind):
  """An array (not a list) of type name ``kind`` as a list of images."""
  if array.dtype.kind not in 'biuf':
    raise _refuse('is a %s, not an array of numbers' % kind)
  if array.ndim == 2:
    raise _refuse('is one %s array (a grey image?)' % (array.shape,),
                  'pass np.stack([images] * 3, axis=-1)')
  if array.ndim not in (3, 4):
    raise _refuse('has shape %s' % (array.shape,))
  if array.ndim == 4 and not len(array):
    raise _refuse('is an empty batch %s' % (array.shape,))
  problem = _problem(array)
  if problem is not None:
    raise _refuse('has shape %s with %s' % (array.shape, problem.what),
                  problem.fix and 'pass ' + problem.fix.format(x='images'))
  return [array] if array.ndim == 3 else list(array)


def _as_array(image, index):
  """Item ``index`` of a list of images as an array, or a ValueError."""
  try:
    array = np.asarray(image)
  except ValueError:
    array = np.asarray(image, dtype=object)
  if array.dtype.kind not in 'biuf' or array.ndim != 3:
    raise _refuse('is a list whose item %d is %s' % (
        index, 'not an array of numbers' if array.dtype.kind not in 'biuf'
        else 'of shape %s' % (array.shape,)))
  return array


def _check_list(images):
  """A list or tuple of images as a list of arrays, or a ValueError."""
  if not images:
    raise _refuse('is an empty list')
  listed = [_as_array(image, index) for index, image in enumerate(images)]
  problems = [_problem(image) for image in listed]
  bad = [index for index, problem in enumerate(problems) if problem]
  if not bad:
    return listed
  first = problems[bad[0]]
  if len(bad) == len(listed) and first.fix and all(
      problems[index].fix == first.fix for index in bad):
    raise _refuse('is a list of %d images with %s' % (len(listed), first.what),
                  'pass [%s for image in images]'
                  % first.fix.format(x='np.asarray(image)'))
  item = 'images[%d]' % bad[0]
  raise _refuse('is a list whose item %d has shape %s with %s' % (
      bad[0], listed[bad[0]].shape, first.what), first.fix and (
          'set %s = %s' % (item, first.fix.format(
              x='np.asarray(%s)' % item))))


def image_list(images):
  """``images`` as a list of ``[height, width, 3]`` uint8 arrays.

  Raises:
    ValueError: saying what ``images`` is and, where one exists, the
      expression that turns it into what ``predict`` takes.
  """
  if isinstance(images, (list, tuple)):
    return _check_list(images)
  return _check_array(np.asarray(images), type(images).__name__)
