"""Argument checks shared by the library and every command.

Each check raises one ValueError that names the argument and says what
would work, so a bad value fails the same way whichever entry point it
came through::

  checks.check_count('batch_size', 32, minimum=1)
  checks.check_number('learning_rate', 0.1, above=0.0)
  checks.is_int(True)        # False: a bool is not a count
"""

import math
import numbers
import os
from typing import Any, Optional


def is_int(value: Any) -> bool:
  """True for an integer that is not a bool (``True`` is not a count)."""
  return isinstance(value, numbers.Integral) and not isinstance(value, bool)


def check_count(name: str, value: Any, minimum: int = 1) -> None:
  """Raise unless ``value`` is an int >= ``minimum``."""
  if not (is_int(value) and value >= minimum):
    raise ValueError('%s must be an int >= %d; got %r.'
                     % (name, minimum, value))


def check_number(name: str, value: Any, above: Optional[float] = None,
                 at_least: Optional[float] = None,
                 below: Optional[float] = None,
                 at_most: Optional[float] = None, hint: str = '') -> None:
  """Raise unless ``value`` is a finite real number within the bounds.

  ``above``/``below`` are strict bounds, ``at_least``/``at_most`` inclusive;
  the message states the allowed range in interval notation, plus ``hint``.
  """
  ok = (isinstance(value, numbers.Real) and not isinstance(value, bool) and
        math.isfinite(value))
  if ok:
    ok = ((above is None or value > above) and
          (at_least is None or value >= at_least) and
          (below is None or value < below) and
          (at_most is None or value <= at_most))
  if not ok:
    raise ValueError('%s must be a finite number %s%s; got %r.'
                     % (name, _range_text(above, at_least, below, at_most),
                        hint, value))


def _range_text(above, at_least, below, at_most):
  """The allowed range in words, e.g. 'in (0, 1]' or '> 0'."""
  low = above if above is not None else at_least
  high = below if below is not None else at_most
  if low is not None and high is not None:
    return 'in %s%g, %g%s' % ('(' if above is not None else '[', low, high,
                              ')' if below is not None else ']')
  if low is not None:
    return '%s %g' % ('>' if above is not None else '>=', low)
  if high is not None:
    return '%s %g' % ('<' if below is not None else '<=', high)
  return ''


def check_writable(name: str, path: str) -> None:
  """Raise unless ``path`` exists as something writable or can be created.

  A new ``path`` must lie in a folder that exists and is writable: a
  mistyped parent would otherwise become a new tree of folders that the
  user never meant to make.
  """
  existing = path
  if not os.path.exists(path):
    existing = os.path.dirname(os.path.normpath(path)) or os.curdir
    if not os.path.isdir(existing):
      raise ValueError(
          '%s %r cannot be made: its parent folder %r does not exist. Create '
          'it first (mkdir -p %s) or pass a path in a folder that exists.'
          % (name, path, existing, existing))
  if not os.access(existing, os.W_OK | os.X_OK):
    raise ValueError('%s %r cannot be written (%r is not writable): pass a '
                     'folder you can write to.' % (name, path, existing))
