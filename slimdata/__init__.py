"""`import slimdata as slim`: TF-Slim's API on current TensorFlow.

    import slimdata as slim
    with slim.arg_scope([slim.conv2d], padding='SAME'):
      net = slim.conv2d(images, 32, [3, 3], scope='conv1')

Everything resolves lazily, so `import slimdata` does not import TensorFlow.
Top-level names come from the core modules, as in `tf.contrib.slim`; the data
API keeps its TF-Slim names (`slim.dataset_data_provider`, ...) and lives in the
`descriptors` and `providers` packages.
"""
import importlib

__version__ = '0.1.0'

# Submodules reachable as attributes: `slim.losses`, `slim.learning`, ...
_SUBMODULES = {
    'scopes': 'slimdata.scopes',
    'variables': 'slimdata.variables',
    'layers': 'slimdata.layers',
    'initializers': 'slimdata.initializers',
    'regularizers': 'slimdata.regularizers',
    'losses': 'slimdata.losses',
    'metrics': 'slimdata.metrics',
    'learning': 'slimdata.learning',
    'evaluation': 'slimdata.evaluation',
    'summaries': 'slimdata.summaries',
    'queues': 'slimdata.queues',
    'utils': 'slimdata.utils',
    # TF-Slim's data modules, under their old names.
    'dataset': 'descriptors.dataset',
    'data_decoder': 'descriptors.data_decoder',
    'tfexample_decoder': 'descriptors.tfexample_decoder',
    'data_provider': 'providers.data_provider',
    'dataset_data_provider': 'providers.dataset_data_provider',
    'parallel_reader': 'providers.parallel_reader',
    'prefetch_queue': 'providers.prefetch_queue',
}

# Modules whose public names are also top-level names (`slim.conv2d`).
_FLAT = ('slimdata.scopes', 'slimdata.variables', 'slimdata.layers', 'slimdata.initializers',
         'slimdata.regularizers', 'slimdata.summaries')


def _public(module):
  names = getattr(module, '__all__', None)
  if names is None:
    names = [n for n in vars(module) if not n.startswith('_')]
  return names


def __getattr__(name):
  if name in _SUBMODULES:
    module = importlib.import_module(_SUBMODULES[name])
    globals()[name] = module
    return module
  for module_name in _FLAT:
    module = importlib.import_module(module_name)
    if name in _public(module):
      value = getattr(module, name)
      globals()[name] = value
      return value
  raise AttributeError(f"module 'slimdata' has no attribute {name!r}")


def __dir__():
  names = set(globals()) | set(_SUBMODULES)
  for module_name in _FLAT:
    names.update(_public(importlib.import_module(module_name)))
  return sorted(names)
