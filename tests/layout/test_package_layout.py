"""The package's architecture: imports run one way, each part says what it is.

The oracle is the source itself: import statements are read with ``ast``
(nothing is imported), so the test holds for code paths no other test runs.
"""

import ast
import importlib
import pathlib

import pytest

PACKAGE = pathlib.Path(__file__).resolve().parents[2] / 'resnet_v2'
SUBPACKAGES = ('nets', 'data', 'training', 'benchmark', 'common', 'deploy',
               'weights')
COMMANDS = ('train', 'evaluate', 'export', 'summary')
# Command modules inside a subpackage: thin, imported by nothing, so they
# may reach any part.
INNER_COMMANDS = ('resnet_v2.weights.__main__',)

# What each subpackage must never import.
FORBIDDEN = {
    'common': ('nets', 'data', 'keras', 'training', 'deploy', 'benchmark',
               'weights'),
    'nets': ('data', 'keras', 'training', 'deploy', 'benchmark', 'weights'),
    'data': ('keras', 'training', 'deploy', 'benchmark', 'weights'),
    'weights': ('data', 'keras', 'training', 'deploy', 'benchmark'),
    'training': ('deploy', 'benchmark'),
    'deploy': ('benchmark',),
}


def _modules():
  """Every module file of the package, as (dotted name, path)."""
  for path in sorted(PACKAGE.rglob('*.py')):
    parts = path.relative_to(PACKAGE.parent).with_suffix('').parts
    if parts[-1] == '__init__':
      parts = parts[:-1]
    yield '.'.join(parts), path


def _imported(path):
  """The dotted names of the resnet_v2 modules ``path`` imports."""
  names = set()
  for node in ast.walk(ast.parse(path.read_text())):
    if isinstance(node, ast.Import):
      names.update(alias.name for alias in node.names)
    elif isinstance(node, ast.ImportFrom) and node.module:
      names.add(node.module)
      names.update('%s.%s' % (node.module, alias.name)
                   for alias in node.names)
  return {name for name in names if name.startswith('resnet_v2')}


def _part(dotted):
  """'nets' for 'resnet_v2.nets.zoo', None for the package itself."""
  parts = dotted.split('.')
  return parts[1] if len(parts) > 1 else None


@pytest.mark.parametrize('name, path', list(_modules()),
                         ids=[name for name, _ in _modules()])
def test_imports_run_one_way(name, path):
  forbidden = () if name in INNER_COMMANDS else FORBIDDEN.get(_part(name), ())
  for imported in _imported(path):
    assert _part(imported) not in forbidden, (name, imported)
    assert _part(imported) not in COMMANDS, (name, imported)


def test_the_top_level_holds_the_subpackages_and_the_commands():
  entries = sorted(path.name for path in PACKAGE.iterdir()
                   if path.name != '__pycache__')
  assert len(entries) <= 14, entries
  for subpackage in SUBPACKAGES:
    assert (PACKAGE / subpackage / '__init__.py').is_file()
  for command in COMMANDS:
    assert (PACKAGE / (command + '.py')).is_file()


@pytest.mark.parametrize('name, path', list(_modules()),
                         ids=[name for name, _ in _modules()])
def test_every_module_opens_with_a_docstring_showing_its_use(name, path):
  docstring = ast.get_docstring(ast.parse(path.read_text()))
  assert docstring, name
  assert len(docstring.splitlines()) >= 3, name


@pytest.mark.parametrize('subpackage', SUBPACKAGES)
def test_each_subpackage_lists_public_names_that_exist(subpackage):
  module = importlib.import_module('resnet_v2.' + subpackage)
  assert module.__all__
  for name in module.__all__:
    assert not name.startswith('_')
    assert getattr(module, name) is not None
