"""A labelled image set stored as one subfolder of images per class.

This is the layout Keras' ``image_dataset_from_directory`` reads::

  data_dir/
    cat/ 001.jpg 002.png ...
    dog/ 001.jpg summer/003.webp ...

  folder, skipped = drop_unreadable(scan('photos'))
  print(describe_skipped(folder))          # what was left out, and why

Class names are the subfolder names in sorted order, so a class keeps its
label index however the files are listed. Images are found recursively
inside each class folder, through links, each folder once. Files that
cannot be used are skipped and reported by kind (``SKIP_KINDS``): hidden
and system files, other formats, names that are not UTF-8, empty files,
files TensorFlow cannot decode. What would change the class list is
refused instead: a class folder without a usable image or that is a
broken link, a folder reached from two classes. Everything here is
plain Python plus one decoding pass in TensorFlow, and every check runs
before a training or evaluation graph is built, so bad data fails fast
with a message that names the folder or file.

A training run's split into training and validation images is recorded
as lists of relative paths (``split_record``); applied again
(``apply_split``) it keeps every image on its side whatever was added to
or removed from the folder since, and ``split_changes`` says what was.
"""

import collections
import os
from typing import Dict, List, Optional, Sequence

import numpy as np

from resnet_v2.common import tables
from resnet_v2.data import images

IMAGE_EXTENSIONS = ('.bmp', '.gif', '.jpeg', '.jpg', '.jxl', '.png', '.webp')
SUBSETS = ('all', 'training', 'validation')
# Names operating systems and file managers leave in folders (compared in
# lower case); names starting with a dot are hidden as well.
SYSTEM_NAMES = ('__macosx', '@eadir', 'desktop.ini', 'icon\r', 'thumbs.db')
# How many names a message shows of each kind of skipped file.
SHOWN = 3

HIDDEN = 'hidden or system'
OUTSIDE = 'not in a class folder'
OTHER_FORMAT = 'not a %s file' % images.FORMATS
LINKED_AGAIN = 'a link to a folder read already'
BAD_NAME = 'named in bytes that are not UTF-8'
EMPTY = 'empty (0 bytes)'
UNREADABLE = 'not decodable'
# Every kind of skipped file, in the order reports list them.
SKIP_KINDS = (HIDDEN, OUTSIDE, OTHER_FORMAT, LINKED_AGAIN, BAD_NAME, EMPTY,
              UNREADABLE)
# Kinds of files that look like images but cannot be used: --strict
# refuses them instead of skipping them.
UNUSABLE_KINDS = (BAD_NAME, EMPTY, UNREADABLE)

Skipped = collections.namedtuple('Skipped', ['kind', 'path', 'detail'])
Skipped.__doc__ = """A file left out of an ``ImageFolder``: which kind of
skip (one of ``SKIP_KINDS``), its path, and a detail such as TensorFlow's
reason for not decoding it ('' when there is none)."""


class ImageFolder(
    collections.namedtuple('ImageFolder', ['class_names', 'paths', 'labels',
                                           'root', 'skipped'],
                           defaults=(None, ()))):
  """The files of an image set and their integer labels.

  Attributes:
    class_names: tuple of class names; label ``i`` means ``class_names[i]``.
    paths: tuple of image file paths.
    labels: tuple of ints, one per path.
    root: the folder scanned (None when the set was not scanned), so
      paths can be named relative to it.
    skipped: tuple of ``Skipped``: the files under ``root`` left out.
  """

  __slots__ = ()

  @property
  def num_classes(self):
    """How many classes the set has (including any without images here)."""
    return len(self.class_names)

  def subset(self, indices):
    """The ImageFolder holding only the examples at ``indices``, in order."""
    return self._replace(paths=tuple(self.paths[i] for i in indices),
                         labels=tuple(self.labels[i] for i in indices))

  def relative(self, path: str) -> str:
    """``path`` relative to ``root``, with '/' between folders."""
    if self.root is None:
      return path
    return os.path.relpath(path, self.root).replace(os.sep, '/')


def _is_hidden(name):
  """Whether ``name`` is a dotfile or a file the system leaves behind."""
  return name.startswith('.') or name.lower() in SYSTEM_NAMES


def _is_utf8(name):
  """Whether ``name`` was valid UTF-8 on disk (TensorFlow needs it so)."""
  try:
    name.encode('utf-8')
  except UnicodeEncodeError:
    return False
  return True


def _check_data_dir(data_dir):
  """Raise unless ``data_dir`` names an existing folder."""
  if not data_dir:
    raise ValueError('data_dir is empty: pass a folder with one subfolder of '
                     'images per class.')
  if not os.path.isdir(data_dir):
    raise ValueError('data_dir %r does not exist or is not a folder: pass a '
                     'folder with one subfolder of images per class.'
                     % (data_dir,))


def _check_class_entry(path):
  """Raise for an entry of data_dir that would silently drop a class: a
  broken link, or a folder whose name TensorFlow cannot take."""
  if os.path.islink(path) and not os.path.exists(path):
    raise ValueError(
        '%r is a link to %r, which does not exist, so its class would be '
        'missing: fix the link, or remove it from data_dir.'
        % (path, os.readlink(path)))
  if os.path.isdir(path) and not _is_utf8(os.path.basename(path)):
    raise ValueError(
        'class folder %r is named in bytes that are not UTF-8, which cannot '
        'be a class name: rename it (e.g. with convmv -f latin1 -t utf8).'
        % (path,))


def _class_dirs(data_dir):
  """``(class_names, skipped)``: the class subfolders of ``data_dir``, sorted,
  and the entries beside them that are not classes.

  Raises:
    ValueError: if there is no class folder, or one would silently drop out
      (a broken link, a name that is not UTF-8).
  """
  _check_data_dir(data_dir)
  names, skipped = [], []
  for name in sorted(os.listdir(data_dir)):
    path = os.path.join(data_dir, name)
    if _is_hidden(name):
      skipped.append(Skipped(HIDDEN, path, ''))
      continue
    _check_class_entry(path)
    if not os.path.isdir(path):
      skipped.append(Skipped(OUTSIDE, path, ''))
      continue
    names.append(name)
  if not names:
    raise ValueError('data_dir %r has no class subfolders: put the images of '
                     'each class in their own subfolder, e.g. %s/cat/1.jpg.'
                     % (data_dir, data_dir.rstrip('/')))
  return names, skipped


def _classify(path):
  """The kind of skip for the file at ``path`` and its detail, or None for
  an image worth decoding."""
  name = os.path.basename(path)
  if _is_hidden(name):
    return HIDDEN, ''
  if os.path.splitext(name)[1].lower() not in IMAGE_EXTENSIONS:
    return OTHER_FORMAT, ''
  if not _is_utf8(name):
    return BAD_NAME, ''
  try:
    size = os.path.getsize(path)
  except OSError as error:
    return UNREADABLE, error.strerror or str(error)
  return (EMPTY, '') if size == 0 else None


def _raise_listing_error(error):
  """``os.walk``'s error handler: a folder that cannot be listed is named."""
  raise ValueError('cannot list the folder %r (%s): make it readable, or move '
                   'it out of data_dir.' % (error.filename, error.strerror))


def _read_before(path, class_name, seen):
  """Whether the real folder of ``path`` was read for class ``class_name``
  already; ``seen`` (real folder -> class) notes it as read now if not.

  Raises:
    ValueError: if another class read it already (one of them reaches it
      through a link): its images would be in two classes.
  """
  real = os.path.realpath(path)
  owner = seen.get(real)
  if owner is None:
    seen[real] = class_name
    return False
  if owner != class_name:
    raise ValueError(
        'the folder %r of class %r is the folder %r, read already for class '
        '%r (one of them is a link), so its images would be in two classes: '
        'remove the link, or keep the images in one class folder.'
        % (path, class_name, real, owner))
  return True


def _class_files(class_dir, class_name, seen):
  """``(images, skipped)`` under ``class_dir``, in walk order.

  Subfolders are read top-down in sorted order, through links, each real
  folder once (a link loop ends there; ``seen`` maps the real folders read
  to their class); hidden folders are skipped whole.
  """
  found, skipped = [], []
  _read_before(class_dir, class_name, seen)
  for root, dirs, files in os.walk(class_dir, followlinks=True,
                                   onerror=_raise_listing_error):
    kept = []
    for name in sorted(dirs):
      path = os.path.join(root, name)
      if _is_hidden(name):
        skipped.append(Skipped(HIDDEN, path + os.sep, ''))
      elif _read_before(path, class_name, seen):
        skipped.append(Skipped(LINKED_AGAIN, path + os.sep, ''))
      else:
        kept.append(name)
    dirs[:] = kept
    for name in sorted(files):
      path = os.path.join(root, name)
      kind = _classify(path)
      if kind is None:
        found.append(path)
      else:
        skipped.append(Skipped(kind[0], path, kind[1]))
  return found, skipped


def shortlist(names: Sequence[str], limit: int = SHOWN) -> str:
  """The first ``limit`` of ``names`` joined, with how many more there are;
  bytes of a name that are not UTF-8 are shown as escapes (``\\xe9``), so
  that printing the list cannot fail."""
  names = [os.fsencode(name).decode('utf-8', 'backslashreplace')
           for name in names]
  shown = ', '.join(names[:limit])
  return shown + (' and %d more' % (len(names) - limit)
                  if len(names) > limit else '')


def _kind_lines(skipped, relative):
  """One line per kind of ``skipped`` file: count, kind, first names."""
  lines = []
  for kind in SKIP_KINDS:
    members = [entry for entry in skipped if entry.kind == kind]
    if members:
      names = [relative(entry.path) + (' (%s)' % entry.detail
                                       if entry.detail else '')
               for entry in members]
      lines.append('%d %s: %s' % (len(members), kind, shortlist(names)))
  return lines


def scan(data_dir: str) -> ImageFolder:
  """Find every image under ``data_dir`` and label it by its subfolder.

  Images are searched recursively inside each class folder; other files
  are skipped and listed in ``skipped`` by kind. A class folder without a
  single usable image is an error rather than a silently empty class,
  because its label would never be learned.

  Returns:
    An ``ImageFolder`` with paths in sorted order.

  Raises:
    ValueError: if ``data_dir`` is missing, has no class folders, or a class
      folder has no images (saying what it holds instead).
  """
  class_names, skipped = _class_dirs(data_dir)
  paths, labels, seen = [], [], {}
  for label, name in enumerate(class_names):
    class_dir = os.path.join(data_dir, name)
    found, left_out = _class_files(class_dir, name, seen)
    if not found:
      holds = _kind_lines(left_out, lambda path: os.path.relpath(path,
                                                                 data_dir))
      raise ValueError(
          'class folder %r has no images (%s)%s: add images to it, or move '
          'the folder out of %r.'
          % (class_dir, images.FORMATS,
             '; it holds ' + '; '.join(holds) if holds else '', data_dir))
    paths += found
    labels += [label] * len(found)
    skipped += left_out
  return ImageFolder(tuple(class_names), tuple(paths), tuple(labels),
                     data_dir, tuple(skipped))


def describe_skipped(folder: ImageFolder) -> str:
  """The files ``folder`` left out, one line per kind; '' if none were."""
  if not folder.skipped:
    return ''
  lines = ['skipped %d file(s) of %s:' % (len(folder.skipped), folder.root)]
  lines += ['  ' + line for line in _kind_lines(folder.skipped,
                                                folder.relative)]
  return '\n'.join(lines)


def _unusable(folder) -> List[str]:
  """The sorted paths of the image files ``folder`` could not use."""
  return sorted(entry.path for entry in folder.skipped
                if entry.kind in UNUSABLE_KINDS)


def _refuse_unusable(entry):
  """The ``--strict`` refusal of one unusable image file."""
  why = entry.detail or entry.kind
  return ValueError('cannot decode image %r (%s): fix or remove it, or drop '
                    '--strict to skip unreadable images.' % (entry.path, why))


def drop_unreadable(folder: ImageFolder, strict: bool = False,
                    part: str = 'training'):
  """``folder`` without its unreadable images, and the list of those images.

  Args:
    folder: an ``ImageFolder``.
    strict: raise on the first unusable image (empty, unreadable) instead
      of skipping it.
    part: what the images are for ('training', 'evaluation'), for the
      message when a whole class is unreadable.

  Returns:
    ``(readable_folder, skipped_paths)``: ``skipped_paths`` are the image
    files left out, empty and unreadable ones, including those the scan
    found; ``readable_folder.skipped`` says why each was.

  Raises:
    ValueError: with ``strict``, naming the first unusable file; or when
      no readable image is left, or none of some class.
  """
  bad = images.find_unreadable(folder.paths)
  reasons = images.unreadable_reasons(bad[:SHOWN])
  entries = [Skipped(UNREADABLE, path, reasons.get(path, '')) for path in bad]
  found = [entry for entry in folder.skipped if entry.kind in UNUSABLE_KINDS]
  if strict and (found or entries):
    raise _refuse_unusable((found or entries)[0])
  bad = set(bad)
  keep = [i for i, path in enumerate(folder.paths) if path not in bad]
  if not keep:
    raise ValueError('none of the %d images could be decoded (e.g. %r: %s): '
                     'check that the files are %s images.'
                     % (len(folder.paths), entries[0].path,
                        entries[0].detail or UNREADABLE, images.FORMATS))
  _check_no_class_lost(folder, bad, part)
  readable = folder.subset(keep)._replace(
      skipped=folder.skipped + tuple(entries))
  return readable, _unusable(readable)


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
          'unreadable (corrupt or not %s), e.g. %r: replace them with '
          'readable images%s.'
          % (name, part, len(members), images.FORMATS, members[0],
             ' (or remove the class folder)' if part == 'training' else ''))


def load(data_dir: str, strict: bool = False):
  """Scan ``data_dir`` and drop what cannot be decoded, in one pass.

  Returns:
    ``(folder, skipped_paths)``: the readable ``ImageFolder`` and the
    unusable image files left out of it.
  """
  return drop_unreadable(scan(data_dir), strict=strict)


def _held_out(validation_split, count):
  """How many of ``count`` images of a class ``split`` holds out."""
  held_out = int(round(validation_split * count))
  if validation_split > 0 and count > 1:
    held_out = max(held_out, 1)
  return held_out


def _largest_split(counts):
  """The largest validation split in steps of 0.01 that leaves every class
  of ``counts`` images at least one training image."""
  return next(hundredths / 100.0 for hundredths in range(99, 0, -1)
              if all(count - _held_out(hundredths / 100.0, count) >= 1
                     for count in counts))


def _check_fraction(validation_split):
  """Raise unless ``validation_split`` is in [0, 1)."""
  if not 0 <= validation_split < 1:
    raise ValueError('validation_split must be in [0, 1), e.g. 0.2 to hold '
                     'out a fifth of every class; got %r.'
                     % (validation_split,))


def check_split(folder: ImageFolder, validation_split: float) -> None:
  """Raise unless ``split`` leaves every class training and validation images.

  A class of one image cannot have both; a split so large that it holds
  out every image of a small class is refused naming the largest
  ``--validation_split`` that keeps one training image in every class.

  Raises:
    ValueError: naming the class, the flag and a value that works.
  """
  _check_fraction(validation_split)
  if not validation_split:
    return
  counts = class_counts(folder)
  for name, count in zip(folder.class_names, counts):
    if count < 2:
      raise ValueError(
          'class %r has %d image(s), too few to hold one out for validation '
          'and keep one for training: add images to it, or pass '
          '--validation_split=0 to train without a validation split.'
          % (name, count))
  for name, count in zip(folder.class_names, counts):
    if count - _held_out(validation_split, count) < 1:
      raise ValueError(
          '--validation_split=%g holds out all %d images of class %r, '
          'leaving it no training images: pass --validation_split=%g or less '
          '(the largest that keeps a training image in every class).'
          % (validation_split, count, name, _largest_split(counts)))


def split(folder: ImageFolder, validation_split: float, seed: int):
  """Split ``folder`` into (training, validation) ImageFolders, per class.

  Each class is shuffled with ``seed`` and its last ``validation_split``
  fraction (rounded, at least one image when the fraction is positive and
  the class has two or more) goes to validation. Splitting per class keeps
  the class balance of small sets, and the same seed always gives the same
  split of the same files; a run records the split it made
  (``split_record``), so that files added later cannot move into it.

  Raises:
    ValueError: if ``validation_split`` is not in [0, 1).
  """
  _check_fraction(validation_split)
  rng = np.random.RandomState(seed)
  labels = np.asarray(folder.labels)
  train, validation = [], []
  for label in range(folder.num_classes):
    members = np.flatnonzero(labels == label)
    rng.shuffle(members)
    held_out = _held_out(validation_split, len(members))
    train += sorted(members[:len(members) - held_out].tolist())
    validation += sorted(members[len(members) - held_out:].tolist())
  return folder.subset(sorted(train)), folder.subset(sorted(validation))


def split_record(training: ImageFolder,
                 validation: ImageFolder) -> Dict[str, List[str]]:
  """The split as JSON data: the relative paths of each part, sorted."""
  return {'training': sorted(map(training.relative, training.paths)),
          'validation': sorted(map(validation.relative, validation.paths))}


def apply_split(folder: ImageFolder, recorded: Dict[str, Sequence[str]]):
  """``folder`` split as ``recorded`` (a ``split_record``) says.

  An image is in the part the record names it in, or in neither when the
  record does not name it (added since), so no image changes sides.

  Returns:
    ``(training, validation)`` ImageFolders, in ``folder``'s order.
  """
  relative = [folder.relative(path) for path in folder.paths]
  parts = []
  for part in ('training', 'validation'):
    members = set(recorded[part])
    parts.append(folder.subset([i for i, name in enumerate(relative)
                                if name in members]))
  return tuple(parts)


class SplitChanges(collections.namedtuple('SplitChanges',
                                          ['added', 'removed'])):
  """How a folder differs from the recorded split of a run.

  Attributes:
    added: relative paths of readable images the record does not name.
    removed: relative paths the record names that are not readable images
      of the folder any more (removed, renamed or damaged).
  """

  __slots__ = ()

  def describe(self) -> str:
    """One line saying what changed, or '' when nothing did."""
    parts = []
    if self.added:
      parts.append('%d image(s) added (%s), in neither its training nor its '
                   'validation subset' % (len(self.added),
                                          shortlist(self.added)))
    if self.removed:
      parts.append('%d image(s) of it gone or unreadable (%s)'
                   % (len(self.removed), shortlist(self.removed)))
    if not parts:
      return ''
    return 'data_dir changed since the run recorded its split: %s.' % (
        '; '.join(parts))


def split_changes(folder: ImageFolder,
                  recorded: Dict[str, Sequence[str]]) -> SplitChanges:
  """What was added to and removed from ``folder`` since ``recorded``."""
  present = set(folder.relative(path) for path in folder.paths)
  named = set(recorded['training']) | set(recorded['validation'])
  return SplitChanges(sorted(present - named), sorted(named - present))


def class_counts(folder) -> List[int]:
  """How many images each class of ``folder`` has, in label order."""
  counts = [0] * folder.num_classes
  for label in folder.labels:
    counts[label] += 1
  return counts


def check_trainable(training: ImageFolder) -> None:
  """Raise unless ``training`` can train a classifier.

  There must be at least two classes, and every class must keep training
  images after decoding and splitting (``check_split`` makes sure the
  split does not take them all).

  Raises:
    ValueError: naming the class and what would fix it.
  """
  if training.num_classes < 2:
    raise ValueError(
        'data_dir has only one class (%s): a classifier needs at least two '
        'class subfolders, e.g. data_dir/cat/ and data_dir/dog/.'
        % ', '.join(training.class_names))
  for name, count in zip(training.class_names, class_counts(training)):
    if not count:
      raise ValueError(
          'class %r has no training images after decoding and splitting: '
          'add readable images to it (or remove its folder).' % (name,))


def check_recorded_training(training: ImageFolder, changes: SplitChanges,
                            train_dir: str) -> None:
  """Raise if a class lost every training image its recorded split names.

  Images added since the split was recorded are in neither part, so adding
  images does not help; the message says what does.
  """
  for name, count in zip(training.class_names, class_counts(training)):
    if not count:
      gone = [path for path in changes.removed
              if path.split('/', 1)[0] == name]
      raise ValueError(
          'class %r has none of the training images the run in %r recorded '
          'left (gone or unreadable: %s): restore them, or pass a new '
          '--train_dir to split the folder as it is now.'
          % (name, train_dir, shortlist(gone) or 'all of them'))


def count_table(training, validation=None) -> str:
  """Per-class image counts, training and validation, as a text table."""
  train_counts = class_counts(training)
  validation_counts = (class_counts(validation) if validation is not None
                       else [0] * training.num_classes)
  rows = [(name, train, held_out) for name, train, held_out in
          zip(training.class_names, train_counts, validation_counts)]
  rows.append(('total', sum(train_counts), sum(validation_counts)))
  return tables.format_table(('class', 'training', 'validation'), rows)


def select(folder: ImageFolder, subset: str, validation_split: float,
           seed: int,
           recorded: Optional[Dict[str, Sequence[str]]] = None
           ) -> ImageFolder:
  """The ``subset`` ('all', 'training' or 'validation') of ``folder``.

  With ``recorded`` (the run's ``split_record``) the parts are the ones
  it names; without (a run recorded before splits were), ``split`` with
  the run's ``validation_split`` and ``seed``.

  Raises:
    ValueError: for an unknown subset, or 'validation' with no split.
  """
  if subset not in SUBSETS:
    raise ValueError('subset must be one of %s; got %r.'
                     % (', '.join(SUBSETS), subset))
  if subset == 'all':
    return folder
  if recorded is not None:
    training, validation = apply_split(folder, recorded)
  elif subset == 'validation' and not validation_split:
    raise ValueError(
        "subset='validation' needs a run that held images out, but this one "
        'trained with validation_split=0: evaluate subset=all (or training), '
        'or train a new run with a validation split, e.g. 0.2.')
  else:
    training, validation = split(folder, validation_split, seed)
  return training if subset == 'training' else validation
