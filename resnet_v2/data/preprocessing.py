"""Image preprocessing that matches the released TF-Slim ResNet v2 checkpoints.

  image = train_image(uint8_image, 224, seed=tf.constant([0, 7]))
  batch = eval_image(uint8_batch, 224, central_fraction=0.875)

TF-Slim trained its ResNet v2 checkpoints with its Inception preprocessing:
pixels scaled to [-1, 1] (``2 * x / 255 - 1``), no mean subtraction, random
area-and-aspect crops with flips for training and a central crop
(87.5% of the side) for evaluation. The functions below keep that contract so
a released checkpoint sees the inputs it was trained on; the crop strength
is a parameter because tiny images (8x8 digits) need gentler crops than
ImageNet photos.

Training randomness is stateless: every random choice is a function of an
explicit ``seed`` pair, so the same example at the same global position
gets the same augmentation, and a resumed run continues the exact stream.
"""

import tensorflow as tf

from resnet_v2.nets import inputs

DEFAULT_MIN_CROP_AREA = 0.08
DEFAULT_CENTRAL_FRACTION = inputs.SLIM_INPUTS.central_fraction
DEFAULT_VALUE_RANGE = inputs.SLIM_INPUTS.value_range
MULTI_CROP_VIEWS = 10


def to_unit_range(image):
  """``image`` as float32 in [0, 1]; uint8 images are divided by 255."""
  return tf.image.convert_image_dtype(image, tf.float32)


def to_model_range(image, value_range=DEFAULT_VALUE_RANGE):
  """Map [0, 1] pixels to ``value_range`` ([-1, 1] for the TF-Slim v2 nets).

  Each bound is a number or one per RGB channel, so the v1 releases'
  mean subtraction (``x * 255 - mean``) is the same linear map.
  """
  low, high = (tf.constant(bound, tf.float32) for bound in value_range)
  return image * (high - low) + low


def _resize(image, image_size):
  """Bilinear resize to a square ``image_size`` (one image or a batch)."""
  return tf.image.resize(image, [image_size, image_size],
                         method=tf.image.ResizeMethod.BILINEAR)


def _random_crop(image, seed, min_crop_area):
  """A stateless Inception-style crop: random area and 3:4..4:3 aspect."""
  begin, size, _ = tf.image.stateless_sample_distorted_bounding_box(
      tf.shape(image), bounding_boxes=tf.constant([[[0.0, 0.0, 1.0, 1.0]]]),
      seed=seed, min_object_covered=min_crop_area,
      aspect_ratio_range=(3.0 / 4.0, 4.0 / 3.0),
      area_range=(min_crop_area, 1.0), max_attempts=100,
      use_image_if_no_bounding_boxes=True)
  crop = tf.slice(image, begin, size)
  crop.set_shape([None, None, image.shape[-1]])
  return crop


def _color_jitter(image, seeds):
  """Random brightness, saturation, hue and contrast, clipped to [0, 1]."""
  image = tf.image.stateless_random_brightness(image, 32.0 / 255.0, seeds[0])
  image = tf.image.stateless_random_saturation(image, 0.5, 1.5, seeds[1])
  image = tf.image.stateless_random_hue(image, 0.2, seeds[2])
  image = tf.image.stateless_random_contrast(image, 0.5, 1.5, seeds[3])
  return tf.clip_by_value(image, 0.0, 1.0)


def train_image(image, image_size, seed, min_crop_area=DEFAULT_MIN_CROP_AREA,
                flip=True, color_jitter=False,
                value_range=DEFAULT_VALUE_RANGE):
  """One augmented training image, ``[image_size, image_size, 3]`` in [-1, 1].

  Args:
    image: a ``[height, width, 3]`` uint8 or [0, 1] float image.
    image_size: side of the square output.
    seed: int32/int64 tensor of shape [2]; all randomness derives from it.
    min_crop_area: smallest fraction of the image area a crop keeps;
      1.0 disables cropping.
    flip: randomly mirror left-right (leave off for text and digits).
    color_jitter: randomly perturb brightness, saturation, hue and contrast.
    value_range: ``(low, high)`` of the output pixels: the model's
      ``InputSettings.value_range``.

  Returns:
    A float32 tensor.
  """
  crop_seed, flip_seed, *jitter_seeds = tf.unstack(
      tf.random.experimental.stateless_split(seed, num=6))
  image = to_unit_range(image)
  if min_crop_area < 1.0:
    image = _random_crop(image, crop_seed, min_crop_area)
  image = _resize(image, image_size)
  if flip:
    image = tf.image.stateless_random_flip_left_right(image, flip_seed)
  if color_jitter:
    image = _color_jitter(image, jitter_seeds)
  return to_model_range(image, value_range)


def eval_image(image, image_size, central_fraction=DEFAULT_CENTRAL_FRACTION,
               value_range=DEFAULT_VALUE_RANGE):
  """The deterministic evaluation view: central crop, resize, scale to [-1, 1].

  Works on one ``[h, w, 3]`` image or a ``[batch, h, w, 3]`` batch, uint8 or
  [0, 1] float; ``central_fraction=1.0`` keeps the whole image.
  """
  image = to_unit_range(image)
  if central_fraction < 1.0:
    image = tf.image.central_crop(image, central_fraction)
  return to_model_range(_resize(image, image_size), value_range)


def _corner_crops(image, crop_height, crop_width):
  """The four corner crops of ``image``, top-left first, clockwise."""
  height, width = tf.shape(image)[0], tf.shape(image)[1]
  top, left = height - crop_height, width - crop_width
  offsets = [(0, 0), (0, left), (top, left), (top, 0)]
  return [tf.image.crop_to_bounding_box(image, y, x, crop_height, crop_width)
          for y, x in offsets]


def multi_crop(image, image_size, crop_fraction=DEFAULT_CENTRAL_FRACTION,
               value_range=DEFAULT_VALUE_RANGE):
  """Ten views of one image for test-time augmentation (Krizhevsky et al.).

  The central crop and the four corner crops, each ``crop_fraction`` of the
  height and width, plus their mirror images. Averaging the predictions of
  the views smooths over where the object sits; with ``crop_fraction=1.0``
  the five crops coincide and only the flip adds information.

  Returns:
    A ``[10, image_size, image_size, 3]`` float32 tensor in [-1, 1], the
    unflipped views first.
  """
  image = to_unit_range(image)
  shape = tf.cast(tf.shape(image)[:2], tf.float32)
  crop = tf.maximum(tf.cast(tf.round(shape * crop_fraction), tf.int32), 1)
  views = [tf.image.central_crop(image, crop_fraction)]
  views += _corner_crops(image, crop[0], crop[1])
  views = tf.stack([_resize(view, image_size) for view in views])
  views = tf.concat([views, tf.image.flip_left_right(views)], axis=0)
  return to_model_range(views, value_range)
