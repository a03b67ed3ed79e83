"""Image folder scanning, preprocessing and the tf.data pipelines."""

import collections
import os

import numpy as np
import pytest
import tensorflow.compat.v1 as tf

from resnet_v2.data import image_folder
from resnet_v2.data import pipeline
from resnet_v2.data import preprocessing
from resnet_v2.data import digits


def write_png(path, image):
  """Write a uint8 ``[h, w]`` grey image as PNG, creating its folder."""
  os.makedirs(os.path.dirname(path), exist_ok=True)
  with open(path, 'wb') as f:
    f.write(digits.encode_grey_png(np.asarray(image, np.uint8)))


def make_folder(root, counts, size=6):
  """A class-per-folder set; image j of class i is filled with 10*i + j."""
  for label, (name, count) in enumerate(sorted(counts.items())):
    for j in range(count):
      write_png(os.path.join(root, name, '%02d.png' % j),
                np.full((size, size), 10 * label + j))
  return root


def run(tensors):
  """Evaluate graph ``tensors`` in a fresh session."""
  with tf.Session() as session:
    return session.run(tensors)


def take(dataset, batches):
  """The first ``batches`` elements of ``dataset`` as numpy values."""
  next_element = tf.data.make_one_shot_iterator(dataset).get_next()
  with tf.Session() as session:
    return [session.run(next_element) for _ in range(batches)]


# Folder scanning.

def test_scan_labels_classes_by_sorted_folder_name(tmp_path):
  root = make_folder(str(tmp_path), {'zebra': 2, 'ant': 1})
  (tmp_path / 'ant' / 'notes.txt').write_text('not an image')
  folder = image_folder.scan(root)
  assert folder.class_names == ('ant', 'zebra')
  assert folder.labels == (0, 1, 1)
  assert [os.path.basename(p) for p in folder.paths] == [
      '00.png', '00.png', '01.png']


def test_scan_rejects_a_missing_data_dir(tmp_path):
  with pytest.raises(ValueError, match='does not exist.*one subfolder'):
    image_folder.scan(str(tmp_path / 'nowhere'))


def test_scan_rejects_a_data_dir_without_class_folders(tmp_path):
  with pytest.raises(ValueError, match='no class subfolders'):
    image_folder.scan(str(tmp_path))


def test_scan_names_a_class_folder_without_images(tmp_path):
  make_folder(str(tmp_path), {'cat': 1})
  (tmp_path / 'dog').mkdir()
  with pytest.raises(ValueError, match=r"class folder '.*dog' has no images"):
    image_folder.scan(str(tmp_path))


def test_unreadable_images_are_found_and_skipped_with_a_count(tmp_path):
  make_folder(str(tmp_path), {'a': 2, 'b': 2})
  (tmp_path / 'b' / 'truncated.png').write_bytes(
      (tmp_path / 'b' / '00.png').read_bytes()[:30])
  folder = image_folder.scan(str(tmp_path))
  readable, skipped = image_folder.drop_unreadable(folder)
  assert skipped == [str(tmp_path / 'b' / 'truncated.png')]
  assert len(readable.paths) == 4 and readable.labels == (0, 0, 1, 1)


def test_strict_mode_names_the_unreadable_file(tmp_path):
  make_folder(str(tmp_path), {'a': 1})
  (tmp_path / 'a' / 'broken.jpg').write_bytes(b'\xff\xd8\xff\xe0 not a jpeg')
  folder = image_folder.scan(str(tmp_path))
  with pytest.raises(ValueError, match=r"cannot decode image '.*broken\.jpg'"):
    image_folder.drop_unreadable(folder, strict=True)


def test_split_holds_out_the_same_fraction_of_every_class(tmp_path):
  folder = image_folder.scan(make_folder(str(tmp_path), {'a': 10, 'b': 5}))
  training, validation = image_folder.split(folder, 0.2, seed=3)
  assert collections.Counter(validation.labels) == {0: 2, 1: 1}
  assert collections.Counter(training.labels) == {0: 8, 1: 4}
  assert not set(training.paths) & set(validation.paths)
  assert image_folder.split(folder, 0.2, seed=3) == (training, validation)


def test_validation_subset_needs_a_split(tmp_path):
  folder = image_folder.scan(make_folder(str(tmp_path), {'a': 2}))
  with pytest.raises(ValueError, match='needs a run that held images out, '
                     'but this one trained with validation_split=0'):
    image_folder.select(folder, 'validation', 0.0, seed=0)
  with pytest.raises(ValueError, match=r'validation_split must be in \[0, 1\)'):
    image_folder.split(folder, 1.0, seed=0)


# Preprocessing.

def test_pixels_are_scaled_to_minus_one_one_like_inception(graph):
  image = tf.constant([[[0, 255, 51]]], tf.uint8)
  scaled = run(preprocessing.to_model_range(preprocessing.to_unit_range(image)))
  np.testing.assert_allclose(scaled, [[[-1.0, 1.0, 2 * 51 / 255 - 1]]],
                             rtol=1e-6)


def test_eval_image_of_a_flat_image_is_flat(graph):
  image = tf.fill([20, 30, 3], tf.constant(255, tf.uint8))
  out = run(preprocessing.eval_image(image, 8))
  assert out.shape == (8, 8, 3)
  np.testing.assert_allclose(out, 1.0)


def test_multi_crop_gives_centre_corners_and_their_mirrors(graph):
  pixels = np.arange(64, dtype=np.float32).reshape(8, 8) / 64.0
  image = tf.constant(np.stack([pixels] * 3, axis=-1))
  views = run(preprocessing.multi_crop(image, 4, crop_fraction=0.5))
  assert views.shape == (preprocessing.MULTI_CROP_VIEWS, 4, 4, 3)
  expected = [pixels[2:6, 2:6], pixels[:4, :4], pixels[:4, 4:],
              pixels[4:, 4:], pixels[4:, :4]]
  expected += [crop[:, ::-1] for crop in expected]
  for view, crop in zip(views, expected):
    np.testing.assert_allclose(view[:, :, 0], 2 * crop - 1, atol=1e-6)


def test_train_image_is_a_pure_function_of_its_seed(graph):
  image = tf.constant(np.random.RandomState(0).randint(
      0, 256, (12, 10, 3)).astype(np.uint8))
  def augmented(seed):
    return preprocessing.train_image(image, 8, tf.constant(seed, tf.int64),
                                     min_crop_area=0.3, color_jitter=True)
  first, again, other = run([augmented([1, 2]), augmented([1, 2]),
                             augmented([1, 3])])
  assert first.shape == (8, 8, 3)
  assert first.min() >= -1.0 and first.max() <= 1.0
  np.testing.assert_array_equal(first, again)
  assert not np.array_equal(first, other)


# Pipelines.

def test_every_epoch_visits_every_image_once(graph, tmp_path):
  folder = image_folder.scan(make_folder(str(tmp_path), {'a': 3, 'b': 3}))
  batches = take(pipeline.training_dataset(folder, 4, 3, seed=5), 4)
  labels = np.concatenate([labels for _, labels in batches])
  for epoch in (labels[:6], labels[6:]):
    assert sorted(epoch) == [0, 0, 0, 1, 1, 1]
  assert batches[0][0].shape == (3, 4, 4, 3)


def test_a_pipeline_started_at_step_k_continues_the_stream(tmp_path):
  folder = image_folder.scan(make_folder(str(tmp_path), {'a': 4, 'b': 3}))
  def batches(start_step, count):
    with tf.Graph().as_default():
      return take(pipeline.training_dataset(
          folder, 8, 3, seed=1, start_step=start_step, min_crop_area=0.5),
                  count)
  from_start, resumed = batches(0, 6), batches(3, 3)
  for (images, labels), (images_k, labels_k) in zip(from_start[3:], resumed):
    np.testing.assert_array_equal(labels, labels_k)
    np.testing.assert_array_equal(images, images_k)


def test_shards_split_every_global_batch_between_them(tmp_path):
  folder = image_folder.scan(make_folder(str(tmp_path), {'a': 4, 'b': 3}))
  def batches(**sharding):
    with tf.Graph().as_default():
      return take(pipeline.training_dataset(
          folder, 8, 4, seed=2, start_step=1, min_crop_area=0.5,
          **sharding), 6)
  whole = batches()[:3]
  first = batches(shard=0, num_shards=2)[:3]
  per_replica = batches(shard=1, num_shards=2, replica_batch_size=1)
  second = [(np.concatenate([a[0], b[0]]), np.concatenate([a[1], b[1]]))
            for a, b in zip(per_replica[0::2], per_replica[1::2])]
  for (images, labels), part, other in zip(whole, first, second):
    np.testing.assert_array_equal(
        labels, np.concatenate([part[1], other[1]]))
    np.testing.assert_array_equal(
        images, np.concatenate([part[0], other[0]]))


def test_evaluation_pipeline_keeps_file_order(graph, tmp_path):
  folder = image_folder.scan(make_folder(str(tmp_path), {'a': 2, 'b': 3}))
  batches = take(pipeline.evaluation_dataset(folder, 4, 2,
                                                   central_fraction=1.0), 3)
  assert [list(labels) for _, labels in batches] == [[0, 0], [1, 1], [1]]
  first_pixels = [images[:, 0, 0, 0] for images, _ in batches]
  expected = (np.array([0, 1, 10, 11, 12]) / 255.0) * 2 - 1
  np.testing.assert_allclose(np.concatenate(first_pixels), expected,
                             atol=1e-6)


def test_multi_crop_pipeline_yields_ten_views_per_image(graph, tmp_path):
  folder = image_folder.scan(make_folder(str(tmp_path), {'a': 2}))
  (images, labels), = take(pipeline.evaluation_dataset(
      folder, 4, 2, multi_crop=True), 1)
  assert images.shape == (2, preprocessing.MULTI_CROP_VIEWS, 4, 4, 3)
