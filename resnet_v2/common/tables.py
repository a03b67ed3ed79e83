"""Plain-text tables for terminal reports.

  print(format_table(['model', 'params'], [('resnet_v2_50', 25613800)]))
"""


def format_table(headers, rows):
  """``rows`` under ``headers`` as aligned text lines joined by newlines.

  Every cell is converted with ``str``; columns are as wide as their widest
  cell and separated by two spaces, so the table reads in a log file as
  well as in a terminal.
  """
  cells = [[str(cell) for cell in row] for row in [headers] + list(rows)]
  widths = [max(len(row[column]) for row in cells)
            for column in range(len(headers))]
  lines = ['  '.join(cell.ljust(width) for cell, width in zip(row, widths))
           .rstrip() for row in cells]
  lines.insert(1, '  '.join('-' * width for width in widths))
  return '\n'.join(lines)
