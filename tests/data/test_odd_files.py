"""Image folders as people have them: every odd file decodes, is skipped and
counted, or is refused naming it (docs/image-folders.md lists the cases).

Each odd file is made here with Pillow; the oracle for a decoded file is
Pillow's own conversion to RGB (the high byte of each sample for 16 bits).
"""

import io
import os
import struct
import zlib

import numpy as np
from PIL import Image
import pytest
import tensorflow.compat.v1 as tf

from resnet_v2.data import image_folder
from resnet_v2.data import images
from resnet_v2.data import pipeline
from resnet_v2.data import preprocessing

RNG = np.random.RandomState(0)
PIXELS = RNG.randint(0, 256, (6, 7, 3)).astype(np.uint8)
RGB = Image.fromarray(PIXELS)
RGBA = Image.fromarray(
    np.dstack([PIXELS, RNG.randint(0, 256, (6, 7)).astype(np.uint8)]), 'RGBA')
# JPEG decoders may round differently by a few levels.
JPEG_TOLERANCE = 4


def encoded(image, **options):
  """The bytes of ``image`` saved by Pillow with ``options``."""
  buffer = io.BytesIO()
  image.save(buffer, **options)
  return buffer.getvalue()


def png_16bit_rgb(samples):
  """A 16-bit RGB PNG of the uint16 ``[h, w, 3]`` ``samples``, by hand
  (Pillow writes 16-bit PNGs in grey only)."""
  def chunk(kind, data):
    return (struct.pack('>I', len(data)) + kind + data +
            struct.pack('>I', zlib.crc32(kind + data) & 0xffffffff))
  height, width, _ = samples.shape
  rows = b''.join(b'\x00' + row.astype('>u2').tobytes() for row in samples)
  return (b'\x89PNG\r\n\x1a\n' +
          chunk(b'IHDR', struct.pack('>IIBBBBB', width, height, 16, 2, 0, 0,
                                     0)) +
          chunk(b'IDAT', zlib.compress(rows)) + chunk(b'IEND', b''))


SAMPLES_16 = RNG.randint(0, 65536, (6, 7, 3)).astype(np.uint16)

# name -> (file bytes, expected [h, w, 3] uint8, tolerance)
DECODED = {
    'grey.png': (encoded(RGB.convert('L'), format='PNG'),
                 np.asarray(RGB.convert('L').convert('RGB')), 0),
    'grey_alpha.png': (encoded(RGB.convert('LA'), format='PNG'),
                       np.asarray(RGB.convert('L').convert('RGB')), 0),
    'rgba.png': (encoded(RGBA, format='PNG'), PIXELS, 0),
    'palette.png': (encoded(RGB.convert('P'), format='PNG'),
                    np.asarray(RGB.convert('P').convert('RGB')), 0),
    'palette_transparent.png': (
        encoded(RGB.convert('P'), format='PNG', transparency=0),
        np.asarray(RGB.convert('P').convert('RGB')), 0),
    'one_bit.png': (encoded(RGB.convert('1'), format='PNG'),
                    np.asarray(RGB.convert('1').convert('RGB')), 0),
    'grey_16bit.png': (
        encoded(Image.fromarray(SAMPLES_16[:, :, 0]), format='PNG'),
        np.repeat((SAMPLES_16[:, :, :1] >> 8).astype(np.uint8), 3, axis=2), 0),
    'rgb_16bit.png': (png_16bit_rgb(SAMPLES_16),
                      (SAMPLES_16 >> 8).astype(np.uint8), 0),
    'baseline.jpg': (encoded(RGB, format='JPEG'), None, 0),
    'progressive.jpg': (encoded(RGB, format='JPEG', progressive=True), None,
                        0),
    'grey.jpg': (encoded(RGB.convert('L'), format='JPEG'), None, 0),
    'cmyk.jpg': (encoded(RGB.convert('CMYK'), format='JPEG'), None, 0),
    'still.gif': (encoded(RGB, format='GIF'), None, 0),
    'animated.gif': (encoded(RGB, format='GIF', save_all=True,
                             append_images=[RGB.rotate(90)]), None, 0),
    'rgb.bmp': (encoded(RGB, format='BMP'), PIXELS, 0),
    'rgba.bmp': (encoded(RGBA, format='BMP'), PIXELS, 0),
    'grey.bmp': (encoded(RGB.convert('L'), format='BMP'),
                 np.asarray(RGB.convert('L').convert('RGB')), 0),
    'palette.bmp': (encoded(RGB.convert('P'), format='BMP'),
                    np.asarray(RGB.convert('P').convert('RGB')), 0),
    'lossy.webp': (encoded(RGB, format='WEBP', quality=95), None, 0),
    'lossless.webp': (encoded(RGB, format='WEBP', lossless=True), PIXELS, 0),
    'alpha.webp': (encoded(RGBA, format='WEBP', lossless=True), None, 0),
    'animated_alpha.webp': (
        encoded(RGBA, format='WEBP', lossless=True, save_all=True,
                append_images=[RGBA.rotate(90)]), None, 0),
    'png_named.jpg': (encoded(RGB, format='PNG'), PIXELS, 0),
    'one_pixel.png': (encoded(Image.new('RGB', (1, 1), (10, 200, 30)),
                              format='PNG'),
                      np.array([[[10, 200, 30]]], np.uint8), 0),
    'one_pixel.jpg': (encoded(Image.new('RGB', (1, 1), (10, 200, 30)),
                              format='JPEG'), None, 0),
}


def expected_pixels(name):
  """The oracle for ``DECODED[name]``: given, or Pillow's RGB of the file
  (of its first frame for an animation)."""
  contents, expected, _ = DECODED[name]
  if expected is None:
    expected = np.asarray(Image.open(io.BytesIO(contents)).convert('RGB'))
  tolerance = JPEG_TOLERANCE if name.endswith('.jpg') else DECODED[name][2]
  return expected, tolerance


@pytest.mark.parametrize('name', sorted(DECODED))
def test_every_kind_of_image_decodes_to_three_channels_of_rgb(name):
  image = images.decode(tf.constant(DECODED[name][0])).numpy()
  expected, tolerance = expected_pixels(name)
  assert image.dtype == np.uint8 and image.shape == expected.shape
  assert np.abs(image.astype(int) - expected.astype(int)).max() <= tolerance


def write(path, contents):
  """Write ``contents`` (bytes or text) at ``path``, creating folders."""
  os.makedirs(os.path.dirname(path), exist_ok=True)
  with open(path, 'wb') as f:
    f.write(contents if isinstance(contents, bytes) else contents.encode())


def a_png(level=128, size=(8, 8)):
  """A small grey PNG's bytes."""
  return encoded(Image.new('L', size, level), format='PNG')


def first_batches(folder):
  """The first training batch and evaluation batch of all of ``folder``."""
  with tf.Graph().as_default():
    batches = pipeline.training_dataset(folder, 8, len(folder.paths), seed=0)
    views = pipeline.evaluation_dataset(folder, 8, len(folder.paths))
    with tf.Session() as session:
      return (session.run(tf.data.make_one_shot_iterator(batches).get_next()),
              session.run(tf.data.make_one_shot_iterator(views).get_next()))


def test_a_folder_of_every_format_decodes_up_front_and_trains(tmp_path):
  root = str(tmp_path)
  for index, name in enumerate(sorted(DECODED)):
    write(os.path.join(root, 'class_%d' % (index % 2), name),
          DECODED[name][0])
  folder, skipped = image_folder.load(root, strict=True)
  assert skipped == [] and len(folder.paths) == len(DECODED)
  (train_images, labels), (eval_images, _) = first_batches(folder)
  assert train_images.shape == eval_images.shape == (len(DECODED), 8, 8, 3)
  assert sorted(labels) == sorted(folder.labels)
  assert np.isfinite(train_images).all() and np.isfinite(eval_images).all()


def test_a_huge_image_and_one_pixel_images_train_and_evaluate(tmp_path):
  write(str(tmp_path / 'big' / 'huge.png'),
        encoded(Image.new('RGB', (4000, 4000), (255, 0, 0)), format='PNG'))
  write(str(tmp_path / 'small' / 'one.png'), DECODED['one_pixel.png'][0])
  write(str(tmp_path / 'small' / 'one.jpg'), DECODED['one_pixel.jpg'][0])
  folder, skipped = image_folder.load(str(tmp_path), strict=True)
  assert skipped == []
  (train_images, labels), (eval_images, _) = first_batches(folder)
  red, green = 1.0, 2 * 200 / 255 - 1
  np.testing.assert_allclose(train_images[labels == 0][..., 0], red)
  np.testing.assert_allclose(train_images[labels == 1][..., 1], green,
                             atol=0.05)
  np.testing.assert_allclose(eval_images[0, ..., 0], red)
  np.testing.assert_allclose(eval_images[1:, ..., 1], green, atol=0.05)
  views = preprocessing.multi_crop(
      images.read_image(str(tmp_path / 'small' / 'one.png')), 8)
  assert views.shape == (preprocessing.MULTI_CROP_VIEWS, 8, 8, 3)


def odd_folder(root):
  """Two classes with one usable image each and one odd file of every kind
  that is skipped."""
  for name in ('cat', 'dog'):
    write(os.path.join(root, name, 'good.png'), a_png())
  odd = {
      'cat/.DS_Store': b'\x00\x00\x00\x01Bud1',
      'cat/._good.png': b'\x00\x05\x16\x07 AppleDouble',
      'dog/Thumbs.db': b'\xd0\xcf\x11\xe0',
      'dog/desktop.ini': '[.ShellClassInfo]',
      'dog/.thumbnails/good.png': a_png(),
      '__MACOSX/cat/._good.png': b'\x00\x05\x16\x07',
      'labels.csv': 'cat,dog',
      'cat/notes.txt': 'not an image',
      'cat/scan.tiff': encoded(RGB, format='TIFF'),
      'cat/empty.jpg': b'',
      'dog/text.jpg': 'I am text, not a JPEG',
      'dog/truncated.png': a_png()[:40],
      'dog/one_bit.bmp': encoded(RGB.convert('1'), format='BMP'),
      'dog/animated_rgb.webp': encoded(RGB, format='WEBP', save_all=True,
                                       append_images=[RGB.rotate(90)]),
  }
  for relative, contents in odd.items():
    write(os.path.join(root, relative), contents)
  os.symlink(os.path.join(root, 'nowhere.png'),
             os.path.join(root, 'dog', 'broken_link.png'))
  write(os.fsencode(os.path.join(root, 'cat')) + b'/caf\xe9.png', a_png())
  return root


def test_odd_files_are_skipped_counted_and_named_by_kind(tmp_path):
  root = odd_folder(str(tmp_path))
  folder, skipped = image_folder.drop_unreadable(image_folder.scan(root))
  assert folder.class_names == ('cat', 'dog')
  assert [os.path.relpath(p, root) for p in folder.paths] == [
      'cat/good.png', 'dog/good.png']
  lines = image_folder.describe_skipped(folder).splitlines()
  assert lines[0] == 'skipped 16 file(s) of %s:' % root
  assert lines[1:6] == [
      '  6 hidden or system: __MACOSX, cat/.DS_Store, cat/._good.png '
      'and 3 more',
      '  1 not in a class folder: labels.csv',
      '  2 not a PNG, JPEG, GIF, BMP, WebP or JPEG XL file: cat/notes.txt, '
      'cat/scan.tiff',
      '  1 named in bytes that are not UTF-8: cat/caf\\xe9.png',
      '  1 empty (0 bytes): cat/empty.jpg']
  assert lines[6] == (
      '  5 not decodable: dog/broken_link.png (No such file or directory), '
      'dog/animated_rgb.webp (WebP Animation must be 4 channel RGBA), '
      'dog/one_bit.bmp (Number of channels inherent in the image must be 1, '
      '3 or 4, was 0) and 2 more')
  assert len(skipped) == 7 and os.path.join(root, 'dog', 'text.jpg') in skipped


@pytest.mark.parametrize('name, contents, why', [
    ('empty.jpg', b'', 'empty'),
    ('text.jpg', 'plain text', 'Unknown image file format'),
])
def test_strict_refuses_an_unusable_image_naming_it(tmp_path, name, contents,
                                                    why):
  write(str(tmp_path / 'cat' / 'good.png'), a_png())
  write(str(tmp_path / 'cat' / name), contents)
  with pytest.raises(ValueError, match=r"cannot decode image '.*%s' \(%s.*"
                     'drop --strict' % (name, why)):
    image_folder.load(str(tmp_path), strict=True)


def test_a_class_whose_files_are_all_skipped_is_refused_saying_what_it_holds(
    tmp_path):
  write(str(tmp_path / 'cat' / 'good.png'), a_png())
  write(str(tmp_path / 'dog' / '.DS_Store'), b'Bud1')
  write(str(tmp_path / 'dog' / 'photo.heic'), b'ftypheic')
  write(str(tmp_path / 'dog' / 'zero.jpg'), b'')
  with pytest.raises(ValueError, match=r"class folder '.*dog' has no images "
                     r'\(PNG, .*\); it holds 1 hidden or system: '
                     r'dog/.DS_Store; 1 not a .* file: dog/photo.heic; 1 empty '
                     r'\(0 bytes\): dog/zero.jpg: add images to it'):
    image_folder.scan(str(tmp_path))


def test_a_class_whose_images_all_fail_to_decode_is_refused(tmp_path):
  write(str(tmp_path / 'cat' / 'good.png'), a_png())
  write(str(tmp_path / 'dog' / 'a.jpg'), 'text')
  write(str(tmp_path / 'dog' / 'b.png'), a_png()[:30])
  with pytest.raises(ValueError, match="class 'dog' has no training images "
                     'after decoding: all 2 of its files are unreadable'):
    image_folder.load(str(tmp_path))


def test_nested_folders_count_and_linked_folders_are_followed_once(tmp_path):
  outside = tmp_path / 'elsewhere'
  write(str(outside / 'dog' / 'linked.png'), a_png())
  write(str(outside / 'more cats' / 'extra.png'), a_png())
  data = tmp_path / 'data'
  write(str(data / 'cat' / 'top.png'), a_png())
  write(str(data / 'cat' / '2019' / 'summer' / 'deep.png'), a_png())
  os.symlink(str(data / 'cat'), str(data / 'cat' / '2019' / 'loop'))
  os.symlink(str(outside / 'more cats'), str(data / 'cat' / 'more'))
  os.symlink(str(outside / 'dog'), str(data / 'dog'))
  folder = image_folder.scan(str(data))
  assert folder.class_names == ('cat', 'dog')
  assert [folder.relative(p) for p in folder.paths] == [
      'cat/top.png', 'cat/2019/summer/deep.png', 'cat/more/extra.png',
      'dog/linked.png']
  assert [(s.kind, folder.relative(s.path)) for s in folder.skipped] == [
      (image_folder.LINKED_AGAIN, 'cat/2019/loop')]


def test_a_class_folder_that_is_a_broken_link_is_refused(tmp_path):
  write(str(tmp_path / 'cat' / 'good.png'), a_png())
  write(str(tmp_path / 'dog' / 'good.png'), a_png())
  os.symlink(str(tmp_path / 'gone'), str(tmp_path / 'bird'))
  with pytest.raises(ValueError, match=r"'.*bird' is a link to '.*gone', "
                     'which does not exist, so its class would be missing'):
    image_folder.scan(str(tmp_path))


@pytest.mark.parametrize('link, target', [
    ('kitten', 'cat'),
    ('cat/dogs too', 'dog'),
])
def test_a_folder_linked_into_two_classes_is_refused(tmp_path, link, target):
  write(str(tmp_path / 'cat' / 'good.png'), a_png())
  write(str(tmp_path / 'dog' / 'good.png'), a_png())
  os.symlink(str(tmp_path / target), str(tmp_path / link))
  with pytest.raises(ValueError, match=r'the folder .* of class .* read '
                     'already for class .* its images would be in two '
                     'classes: remove the link'):
    image_folder.scan(str(tmp_path))


def test_a_class_folder_named_in_bytes_that_are_not_utf8_is_refused(tmp_path):
  write(str(tmp_path / 'cat' / 'good.png'), a_png())
  write(os.fsencode(str(tmp_path)) + b'/d\xf6g/good.png', a_png())
  with pytest.raises(ValueError, match='not UTF-8, which cannot be a class '
                     'name: rename it'):
    image_folder.scan(str(tmp_path))


def test_unicode_spaces_and_case_make_distinct_classes_that_train(tmp_path):
  names = ['Cat', 'cat', 'chien de garde', 'gâteau', '猫']
  for level, name in enumerate(names):
    write(str(tmp_path / name / 'sous dossier' / ('é %d.png' % level)),
          a_png(40 * level))
  folder, _ = image_folder.load(str(tmp_path))
  assert folder.class_names == tuple(sorted(names))
  with tf.Graph().as_default():
    dataset = pipeline.evaluation_dataset(folder, 8, len(names),
                                          central_fraction=1.0)
    with tf.Session() as session:
      pixels, labels = session.run(
          tf.data.make_one_shot_iterator(dataset).get_next())
  assert list(labels) == list(range(len(names)))
  np.testing.assert_allclose(pixels[:, 0, 0, 0],
                             [2 * 40 * level / 255 - 1 for level in
                              (0, 1, 2, 3, 4)], atol=1e-6)


def test_a_split_that_empties_a_class_names_the_flag_and_the_largest_value(
    tmp_path):
  for name, count in (('few', 3), ('many', 20)):
    for index in range(count):
      write(str(tmp_path / name / ('%d.png' % index)), a_png(index))
  folder = image_folder.scan(str(tmp_path))
  with pytest.raises(ValueError, match=r"--validation_split=0.9 holds out all "
                     r"3 images of class 'few'.*pass --validation_split=0.83 "
                     'or less') as refusal:
    image_folder.check_split(folder, 0.9)
  largest = float(str(refusal.value).split('--validation_split=')[2].split()[0])
  image_folder.check_split(folder, largest)
  training, _ = image_folder.split(folder, largest, seed=0)
  assert image_folder.class_counts(training) == [1, 3]
  with pytest.raises(ValueError):
    image_folder.check_split(folder, largest + 0.01)
