"""What a converted dataset is, and a registry of the known ones.

    import descriptors
    dataset = descriptors.get_split('flowers', 'train', '/data/flowers')
    dataset = descriptors.get_split('folder', 'train', '/data/pets')   # or get_split('pets', ...)

Importing this package does not import TensorFlow; descriptor modules load on
first use.
"""
import importlib
import importlib.util

# Dataset name -> the module that describes it (a SPEC, for all but folder, and get_split).
_REGISTRY = {
    'cifar10': 'descriptors.cifar10',
    'flowers': 'descriptors.flowers',
    'folder': 'descriptors.folder',
    'imagenet': 'descriptors.imagenet',
    'mnist': 'descriptors.mnist',
}


def names():
  """The registered dataset names, sorted."""
  return sorted(_REGISTRY)


def _unknown(name, extra=''):
  from descriptors import errors  # pylint: disable=g-import-not-at-top
  return errors.UnknownDatasetError(
      f'unknown dataset {name!r}; known: {", ".join(names())}{extra}')


def get_module(name):
  """The descriptor module registered under `name`."""
  if name not in _REGISTRY:
    raise _unknown(name)
  return importlib.import_module(_REGISTRY[name])


def get_spec(name):
  """The `DatasetSpec` of a registered dataset (folder datasets: `folder.make_spec`)."""
  spec = getattr(get_module(name), 'SPEC', None)
  if spec is None:
    raise ValueError(f'dataset {name!r} has no fixed spec; use descriptors.folder.make_spec')
  return spec


def get_split(name, split_name, dataset_dir, file_pattern=None, reader=None, **kwargs):
  """The `Dataset` of split `split_name` of dataset `name` stored in `dataset_dir`.

  `name` is a registered name, or the name of a folder dataset whose
  `<name>_manifest.json` is in `dataset_dir`. Raises UnknownDatasetError listing
  the known names otherwise.
  """
  if name not in _REGISTRY:
    from descriptors import loading, schema  # pylint: disable=g-import-not-at-top
    import tensorflow as tf  # pylint: disable=g-import-not-at-top
    if (isinstance(name, str) and isinstance(dataset_dir, str) and
        tf.io.gfile.exists(f'{dataset_dir.rstrip("/")}/{schema.manifest_name(name)}')):
      return loading.get_folder_split(split_name, dataset_dir, file_pattern=file_pattern,
                                      reader=reader, dataset_name=name)
    raise _unknown(name, f' (and no {schema.manifest_name(name)} in {dataset_dir})')
  return get_module(name).get_split(split_name, dataset_dir, file_pattern=file_pattern,
                                    reader=reader, **kwargs)


def __getattr__(name):
  # Submodules as attributes (`descriptors.mnist.SPEC`), imported on first use.
  if not name.startswith('_') and importlib.util.find_spec(f'descriptors.{name}') is not None:
    return importlib.import_module(f'descriptors.{name}')
  raise AttributeError(f"module 'descriptors' has no attribute {name!r}")
