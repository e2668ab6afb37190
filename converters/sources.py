"""Sources: what a raw dataset holds, planned in the launcher and read in Beam workers.

    source = sources.get_source('mnist')(source_dir='/tmp/mnist_raw')
    result = pipeline.convert(source, dataset_dir='/data/mnist')   # result.manifest

A source parser is one module and one registry entry. It says which raw files
there are (`prepare`), which classes (`label_names`), which records go to which
split (`plan`) and how to read a record (`read`); the pipeline
(converters/pipeline.py) does everything else: cutting splits into shards,
Beam, temporary names and renames, reruns, progress, labels.txt and the
manifest. A new source looks like this::

    # converters/flowers.py
    from converters import sources
    from descriptors import flowers, schema

    class FlowersSource(sources.Source):
      name = 'flowers'
      spec = flowers.SPEC                          # a descriptors DatasetSpec
      default_base_url = 'https://download.tensorflow.org/example_images/'

      def __init__(self, *, validation_size=350, **common):
        super().__init__(**common)                 # source_dir, cache_dir, base_url, seed
        self.validation_size = validation_size

      @classmethod
      def add_flags(cls, parser):                  # source-specific command-line flags;
        parser.add_argument('--validation_size', type=int, default=350)  # dest = kwarg name

      def prepare(self):                           # LAUNCHER: download, verify, extract;
        ...                                        # may set attributes the workers need
        return {'files': {'flower_photos.tgz': sha256}, 'base_url': self.base_url}

      def label_names(self):                       # LAUNCHER, after prepare()
        return ('daisy', 'dandelion', ...)         # label = index + spec.label_offset

      def plan(self):                              # LAUNCHER, after prepare()
        refs = sorted(...)                         # sort, then shuffle with the seed
        self.rng().shuffle(refs)
        return {'train': refs[350:], 'validation': refs[:350]}

      def read(self, split, records):              # WORKER: one shard's refs, in order
        for ref in records:
          try:
            ...
          except OSError as e:                     # an image that cannot be read
            yield sources.Skipped(ref.path, str(e))  # the pipeline fails or skips it
            continue
          yield ref.path, {schema.ENCODED: data, schema.FORMAT: b'jpg', schema.LABEL: label,
                           schema.HEIGHT: h, schema.WIDTH: w}

    # and in SOURCES below: 'flowers': 'converters.flowers:FlowersSource'

Rules a source keeps:
- `plan()` is deterministic for a given input and seed: sort, then shuffle
  with `self.rng()`. It returns, per split, a sequence of record references in
  final order. References are small and picklable (paths, (archive, member)
  pairs, indices, dataclasses of these; a `range` for indexed files): never
  image bytes, because the shard plans built from them are Beam elements.
  Their `repr` must be stable (no object addresses): it fingerprints each
  shard, so that a rerun keeps exactly the shards whose plan is unchanged.
- `read()` runs in a worker, possibly on another machine: it may only use the
  source's attributes (plain, picklable values set in `__init__`/`prepare`)
  and file access through `apache_beam.io.filesystems.FileSystems`. It yields
  `(key, {feature key: value})` ready for `spec.schema.encode_example`, one per
  reference and in order, or `Skipped(key, reason)` for a bad image; the
  pipeline then fails naming it or, with `on_bad_image='skip'`, lists it in the
  manifest's `skipped`. Extra features (bounding boxes, file names) are more
  keys of the same dict; every key must be in `spec.schema`.
- Problems with the raw files as a whole (truncated, wrong magic, counts that
  disagree) raise `errors.SourceFormatError` naming the file, from `prepare()`
  or `plan()`, so they stop the run before any shard is written.
- Settings that change the output (a validation size) go in `options()`:
  they are recorded in the manifest and part of every shard's fingerprint.
- No TensorFlow import: workers must start fast. Open handles in `read()`,
  never in `__init__`, so the object stays picklable.
"""
import hashlib
import importlib
import os
import random

from converters import errors

# name -> 'module:Class'. Imported on first use, so listing names stays cheap.
SOURCES = {
    'mnist': 'converters.mnist:MnistSource',
    'cifar10': 'converters.cifar10:Cifar10Source',
    'flowers': 'converters.flowers:FlowersSource',
    'imagenet': 'converters.imagenet:ImagenetSource',
    'folder': 'converters.folder:FolderSource',
}


class Skipped:
  """Yielded by `Source.read` in place of an example that cannot be made."""

  __slots__ = ('key', 'reason')

  def __init__(self, key, reason):
    self.key = str(key)
    self.reason = str(reason)

  def __repr__(self):
    return f'Skipped({self.key!r}, {self.reason!r})'

  def to_json(self):
    return {'source': self.key, 'reason': self.reason}


class Source:
  """A raw dataset: which records exist, which split each belongs to, how to read them.

  Subclasses set `name` and `spec` and implement `prepare`, `label_names`,
  `plan` and `read` (see the module docstring). Constructor arguments are
  keywords; those below are common to every source.

  Args:
    source_dir: folder (or gs:// prefix) holding the raw files, or where
      downloads and extractions go when it is None or lacks them.
    cache_dir: local download cache; defaults to `source_dir`, then to
      `default_cache_dir(name)`.
    base_url: download mirror; defaults to the class's `default_base_url`.
    seed: seed of the split assignment and shuffles.
  """
  name = None
  spec = None
  default_base_url = None

  def __init__(self, *, source_dir=None, cache_dir=None, base_url=None, seed=0):
    if not isinstance(seed, int) or isinstance(seed, bool):
      raise ValueError(f'seed must be an int, got {seed!r}')
    self.source_dir = source_dir
    # Downloads need a local folder: a gs:// source_dir is no cache.
    local_source = source_dir if source_dir and '://' not in source_dir else None
    self.cache_dir = cache_dir or local_source
    self.base_url = base_url or self.default_base_url
    self.seed = seed

  @classmethod
  def add_flags(cls, parser):
    """Adds source-specific flags to an argparse parser; each `dest` is a constructor kwarg."""

  def rng(self, *salt):
    """A `random.Random` seeded from the seed (and `salt`), identical on every machine."""
    return random.Random('/'.join(str(s) for s in (self.name, self.seed) + salt))

  def prepare(self):
    """Launcher: makes the raw files available and checks them.

    Returns:
      The manifest's `source` entry: a JSON-able dict with at least `files`,
      `{file name: sha256}` of the raw inputs.
    """
    raise NotImplementedError

  def label_names(self):
    """Launcher: class names in label order (label = index + spec.label_offset)."""
    raise NotImplementedError

  def plan(self):
    """Launcher: `{split: sequence of record references}`, in final order, deterministic."""
    raise NotImplementedError

  def read(self, split, records):
    """Worker: yields `(key, {feature key: value})` or `Skipped` for each of `records`."""
    raise NotImplementedError

  def options(self):
    """Source-specific settings recorded in the manifest's `options` (JSON-able)."""
    return {}


def default_cache_dir(name):
  """`~/.cache/slimdata/<name>`: where downloads go when no folder was given."""
  return os.path.join(os.path.expanduser('~'), '.cache', 'slimdata', name)


def sha256_stream(fileobj, chunk_size=1 << 20):
  """Hex sha256 of an open binary file, read to its end (e.g. from `FileSystems.open`)."""
  digest = hashlib.sha256()
  for block in iter(lambda: fileobj.read(chunk_size), b''):
    digest.update(block)
  return digest.hexdigest()


def source_names():
  return tuple(sorted(SOURCES))


def get_source(name):
  """The Source class registered as `name`.

  Raises:
    UnknownSourceError: listing the known names.
  """
  if name not in SOURCES:
    raise errors.UnknownSourceError(
        f'unknown dataset {name!r}; known: {", ".join(source_names())}')
  module_name, _, class_name = SOURCES[name].partition(':')
  try:
    module = importlib.import_module(module_name)
  except ModuleNotFoundError as e:
    if e.name != module_name:
      raise
    raise errors.UnknownSourceError(
        f'dataset {name!r} is registered but its converter module {module_name} is missing; '
        'reinstall slimdata') from None
  return getattr(module, class_name)
