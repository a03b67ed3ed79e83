"""A labelled image set stored as one subfolder of images per class.

This is the layout Keras' ``image_dataset_from_directory`` reads::

  data_dir/
    cat/ 001.jpg 002.png ...
    dog/ 001.jpg ...

Class names are the subfolder names in sorted order, so a class keeps its
label index however the files are listed. Everything here is plain Python
plus one decoding pass in TensorFlow, and every check runs before a
training or evaluation graph is built, so bad data fails fast with a
message that names the folder or file.
"""

import collections
import os
from typing import List

import numpy as np

from resnet_v2.common import tables
from resnet_v2.data import images

IMAGE_EXTENSIONS = ('.bmp', '.gif', '.jpeg', '.jpg', '.png')
SUBSETS = ('all', 'training', 'validation')


class ImageFolder(
    collections.namedtuple('ImageFolder', ['class_names', 'paths', 'labels'])):
  """The files of an image set and their integer labels.

  Attributes:
    class_names: tuple of class names; label ``i`` means ``class_names[i]``.
    paths: tuple of image file paths.
    labels: tuple of ints, one per path.
  """

  __slots__ = ()

  @property
  def num_classes(self):
    """How many classes the set has (including any without images here)."""
    return len(self.class_names)

  def subset(self, indices):
    """The ImageFolder holding only the examples at ``indices``, in order."""
    return ImageFolder(self.class_names,
                       tuple(self.paths[i] for i in indices),
                       tuple(self.labels[i] for i in indices))


def _is_image(name):
  """Whether ``name`` is a visible file with a supported image extension."""
  return (not name.startswith('.') and
          os.path.splitext(name)[1].lower() in IMAGE_EXTENSIONS)


def _class_dirs(data_dir):
  """The sorted class subfolder names of ``data_dir``; raises if none."""
  if not data_dir:
    raise ValueError('data_dir is empty: pass a folder with one subfolder of '
                     'images per class.')
  if not os.path.isdir(data_dir):
    raise ValueError('data_dir %r does not exist or is not a folder: pass a '
                     'folder with one subfolder of images per class.'
                     % (data_dir,))
  names = sorted(name for name in os.listdir(data_dir)
                 if not name.startswith('.') and
                 os.path.isdir(os.path.join(data_dir, name)))
  if not names:
    raise ValueError('data_dir %r has no class subfolders: put the images of '
                     'each class in their own subfolder, e.g. %s/cat/1.jpg.'
                     % (data_dir, data_dir.rstrip('/')))
  return names


def scan(data_dir):
  """Find every image under ``data_dir`` and label it by its subfolder.

  Images are searched recursively inside each class folder; files with
  other extensions are ignored, as Keras does. A class folder without a
  single image is an error rather than a silently empty class, because its
  label would never be learned.

  Returns:
    An ``ImageFolder`` with paths in sorted order.

  Raises:
    ValueError: if ``data_dir`` is missing, has no class folders, or a class
      folder has no images.
  """
  class_names = _class_dirs(data_dir)
  paths, labels = [], []
  for label, name in enumerate(class_names):
    found = []
    for root, dirs, files in os.walk(os.path.join(data_dir, name)):
      dirs.sort()
      found += [os.path.join(root, f) for f in sorted(files) if _is_image(f)]
    if not found:
      raise ValueError(
          'class folder %r has no images (%s): add images to it, or move the '
          'folder out of %r.' % (os.path.join(data_dir, name),
                                 ', '.join(IMAGE_EXTENSIONS), data_dir))
    paths += found
    labels += [label] * len(found)
  return ImageFolder(tuple(class_names), tuple(paths), tuple(labels))


def drop_unreadable(folder, strict=False, part='training'):
  """``folder`` without its unreadable images, and the list of those images.

  Args:
    folder: an ``ImageFolder``.
    strict: raise on the first unreadable image instead of skipping it.
    part: what the images are for ('training', 'evaluation'), for the
      message when a whole class is unreadable.

  Returns:
    ``(readable_folder, skipped_paths)``.

  Raises:
    ValueError: with ``strict``, naming the first unreadable file; or when
      no readable image is left, or none of some class.
  """
  bad = set(images.find_unreadable(folder.paths))
  if bad and strict:
    raise ValueError('cannot decode image %r (corrupt or not a PNG/JPEG/BMP/'
                     'GIF): fix or remove it, or drop --strict to skip '
                     'unreadable images.' % (sorted(bad)[0],))
  keep = [i for i, path in enumerate(folder.paths) if path not in bad]
  if not keep:
    raise ValueError('none of the %d images could be decoded: check that the '
                     'files are PNG/JPEG/BMP/GIF images.' % len(folder.paths))
  _check_no_class_lost(folder, bad, part)
  return folder.subset(keep), sorted(bad)


def _check_no_class_lost(folder, bad, part):
  """Raise if every file of some class of ``folder`` is in ``bad``.

  A class whose files are all unreadable would silently drop out of
  training (or of the scores), so it is refused, naming the class.
  """
  for label, name in enumerate(folder.class_names):
    members = [path for path, member in zip(folder.paths, folder.labels)
               if member == label]
    if members and all(path in bad for path in members):
      raise ValueError(
          'class %r has no %s images after decoding: all %d of its files are '
          'unreadable (corrupt or not PNG/JPEG/BMP/GIF), e.g. %r: replace '
          'them with readable images%s.'
          % (name, part, len(members), members[0],
             ' (or remove the class folder)' if part == 'training' else ''))


def load(data_dir: str, strict: bool = False):
  """Scan ``data_dir`` and drop what cannot be decoded, in one pass.

  Returns:
    ``(folder, skipped_paths)``: the readable ``ImageFolder`` and the
    unreadable files left out of it.
  """
  return drop_unreadable(scan(data_dir), strict=strict)


def split(folder, validation_split, seed):
  """Split ``folder`` into (training, validation) ImageFolders, per class.

  Each class is shuffled with ``seed`` and its last ``validation_split``
  fraction (rounded, at least one image when the fraction is positive and
  the class has two or more) goes to validation. Splitting per class keeps
  the class balance of small sets, and the same seed always gives the same
  split, so evaluation can rebuild the split training held out.

  Raises:
    ValueError: if ``validation_split`` is not in [0, 1).
  """
  if not 0 <= validation_split < 1:
    raise ValueError('validation_split must be in [0, 1), e.g. 0.2 to hold '
                     'out a fifth of every class; got %r.'
                     % (validation_split,))
  rng = np.random.RandomState(seed)
  labels = np.asarray(folder.labels)
  train, validation = [], []
  for label in range(folder.num_classes):
    members = np.flatnonzero(labels == label)
    rng.shuffle(members)
    held_out = int(round(validation_split * len(members)))
    if validation_split > 0 and len(members) > 1:
      held_out = max(held_out, 1)
    train += sorted(members[:len(members) - held_out].tolist())
    validation += sorted(members[len(members) - held_out:].tolist())
  return folder.subset(sorted(train)), folder.subset(sorted(validation))


def class_counts(folder) -> List[int]:
  """How many images each class of ``folder`` has, in label order."""
  counts = [0] * folder.num_classes
  for label in folder.labels:
    counts[label] += 1
  return counts


def check_trainable(training, validation=None) -> None:
  """Raise unless the split can train a classifier and score it.

  There must be at least two classes, every class must keep training
  images after decoding and splitting (a class whose files are all
  unreadable has none), and with a validation split every class must have
  validation images too.

  Raises:
    ValueError: naming the class and what would fix it.
  """
  if training.num_classes < 2:
    raise ValueError(
        'data_dir has only one class (%s): a classifier needs at least two '
        'class subfolders, e.g. data_dir/cat/ and data_dir/dog/.'
        % ', '.join(training.class_names))
  parts = [('training', training, 'add readable images to it')]
  if validation is not None:
    parts.append(('validation', validation,
                  'add images to it or lower --validation_split'))
  for part, folder, fix in parts:
    for name, count in zip(folder.class_names, class_counts(folder)):
      if not count:
        raise ValueError(
            'class %r has no %s images after decoding and splitting: %s '
            '(or remove its folder).' % (name, part, fix))


def count_table(training, validation=None) -> str:
  """Per-class image counts, training and validation, as a text table."""
  train_counts = class_counts(training)
  validation_counts = (class_counts(validation) if validation is not None
                       else [0] * training.num_classes)
  rows = [(name, train, held_out) for name, train, held_out in
          zip(training.class_names, train_counts, validation_counts)]
  rows.append(('total', sum(train_counts), sum(validation_counts)))
  return tables.format_table(('class', 'training', 'validation'), rows)


def select(folder, subset, validation_split, seed):
  """The ``subset`` ('all', 'training' or 'validation') of ``folder``.

  Raises:
    ValueError: for an unknown subset, or 'validation' with no split.
  """
  if subset not in SUBSETS:
    raise ValueError('subset must be one of %s; got %r.'
                     % (', '.join(SUBSETS), subset))
  if subset == 'all':
    return folder
  if subset == 'validation' and not validation_split:
    raise ValueError(
        "subset='validation' needs a run that held images out, but this one "
        'trained with validation_split=0: evaluate subset=all (or training), '
        'or train a new run with a validation split, e.g. 0.2.')
  training, validation = split(folder, validation_split, seed)
  return training if subset == 'training' else validation
