"""Argument checks shared by the builders and the analysis.

Each check raises one ValueError that names the argument and says what
would work, so a bad call fails the same way whichever entry point it used.
"""

import numbers


def is_int(value):
  """True for an integer that is not a bool (``True`` is not a count)."""
  return isinstance(value, numbers.Integral) and not isinstance(value, bool)


def check_num_classes(num_classes):
  """Raise unless num_classes is None, 0, or a positive integer."""
  if num_classes is None or (is_int(num_classes) and num_classes >= 0):
    return
  raise ValueError(
      'num_classes must be a positive int (the number of logits), or '
      'None/0 to return features without a logits layer; got %r.'
      % (num_classes,))
