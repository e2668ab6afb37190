"""From a `DatasetSpec` and a directory to a `Dataset`: the shared body of every `get_split`.

    from descriptors import loading, mnist
    dataset = loading.get_split(mnist.SPEC, 'train', '/data/mnist')
    dataset.num_samples, dataset.labels_to_names, dataset.manifest

With `<name>_manifest.json` beside the shards (slimdata's converters), split
sizes, shard list and label names come from it, and the files must agree with
it. Without one (research/slim's scripts), the spec's shard names and published
sizes are used. `labels.txt` supplies `labels_to_names` when the manifest has
none. All file access goes through `tf.io.gfile`, so `gs://` directories work.
"""
import fnmatch
import logging
import os
import re

from descriptors import dataset as dataset_lib
from descriptors import errors
from descriptors import manifest as manifest_lib
from descriptors import schema
from descriptors import tfexample_decoder as decoder_lib

_SHARD_NUMBERS = re.compile(r'(\d+)-of-(\d+)')


def get_split(spec, split_name, dataset_dir, file_pattern=None, reader=None, manifest=None,
              label_fixes=None):
  """The `Dataset` of split `split_name` of `spec`'s dataset stored in `dataset_dir`.

  Args:
    spec: the dataset's `schema.DatasetSpec`.
    split_name: e.g. 'train'.
    dataset_dir: the directory (local or `gs://`) holding the shards.
    file_pattern: a glob relative to `dataset_dir` (`%s` becomes the split name) choosing
      the files instead of the spec's names, as research/slim's `file_pattern`.
    reader: the record reader class; `tf.compat.v1.TFRecordReader` by default.
    manifest: an already-read `Manifest`; by default `<name>_manifest.json` is read if present.
    label_fixes: `{old name: new name}` for known typos in old `labels.txt` files.

  Raises:
    UnknownSplitError, MissingFilesError, ManifestError: naming the split, directory or file.
  """
  import tensorflow as tf  # pylint: disable=g-import-not-at-top
  if not isinstance(split_name, str) or not split_name:
    raise ValueError(f'split_name must be a non-empty string, got {split_name!r}')
  if not isinstance(dataset_dir, str) or not dataset_dir:
    raise ValueError(f'dataset_dir must be a non-empty string, got {dataset_dir!r}')
  if not tf.io.gfile.isdir(dataset_dir):
    raise errors.MissingFilesError(
        f'dataset directory {dataset_dir!r} for {spec.name} does not exist; convert the '
        f'dataset first (tools/convert.py --dataset {spec.name})')
  if manifest is None:
    manifest = read_manifest(dataset_dir, spec.name)
  if manifest is not None:
    files, num_samples = _manifest_files(spec, manifest, split_name, dataset_dir, file_pattern)
    image_format = manifest.image_format or spec.image_format
    image_shape = manifest.options.get('image_shape') or spec.image_shape
    if image_format.lower() == 'raw' and not image_shape:
      raise errors.ManifestError(
          f'{os.path.join(dataset_dir, spec.manifest_name())}: images are stored raw but '
          f'options.image_shape ([height, width, channels]) is not recorded; reconvert')
  else:
    files = _legacy_files(spec, split_name, dataset_dir, file_pattern)
    num_samples = spec.splits[split_name]
    image_format, image_shape = spec.image_format, spec.image_shape

  labels_to_names = read_labels(dataset_dir, manifest, label_fixes=label_fixes)
  num_classes = spec.num_classes
  if num_classes is None and labels_to_names:
    num_classes = max(labels_to_names) + 1
  return dataset_lib.Dataset(
      data_sources=files,
      reader=reader or tf.compat.v1.TFRecordReader,
      decoder=make_decoder(spec, image_format=image_format, image_shape=image_shape),
      num_samples=num_samples,
      items_to_descriptions=dict(spec.items_to_descriptions),
      num_classes=num_classes,
      labels_to_names=labels_to_names,
      manifest=manifest,
      spec=spec)


def read_manifest(dataset_dir, name):
  """The `Manifest` in `dataset_dir/<name>_manifest.json`, or None if there is none."""
  import tensorflow as tf  # pylint: disable=g-import-not-at-top
  path = os.path.join(dataset_dir, schema.manifest_name(name))
  if not tf.io.gfile.exists(path):
    return None
  with tf.io.gfile.GFile(path, 'r') as f:
    manifest = manifest_lib.Manifest.from_json(f.read(), filename=path)
  if manifest.name != name:
    raise errors.ManifestError(f'{path}: describes dataset {manifest.name!r}, not {name!r}')
  return manifest


def read_labels(dataset_dir, manifest=None, label_fixes=None):
  """`{label: name}` from the manifest, else from `labels.txt`, else None."""
  import tensorflow as tf  # pylint: disable=g-import-not-at-top
  path = os.path.join(dataset_dir, schema.LABELS_FILENAME)
  from_file = None
  if tf.io.gfile.exists(path):
    with tf.io.gfile.GFile(path, 'r') as f:
      from_file = schema.parse_labels(f.read(), filename=path)
    if label_fixes:
      from_file = {i: label_fixes.get(n, n) for i, n in from_file.items()}
  if manifest is not None and manifest.label_names:
    labels = manifest.labels_to_names
    if manifest.label_offset == 1 and 0 not in labels:
      labels[0] = 'background'   # as research/slim's ImageNet label names had it
    if from_file is not None and any(from_file.get(i, n) != n for i, n in labels.items()):
      logging.warning('%s disagrees with the manifest\'s label names; using the manifest\'s',
                      path)
    return labels
  return from_file


def make_decoder(spec, image_format=None, image_shape=None):
  """The `TFExampleDecoder` for `spec`'s items (those in its `items_to_descriptions`)."""
  import tensorflow as tf  # pylint: disable=g-import-not-at-top
  keys_to_features = spec.schema.keys_to_features()
  keys_to_features[schema.FORMAT] = tf.io.FixedLenFeature(
      (), tf.string, default_value=image_format or spec.image_format)
  shape = list(image_shape) if image_shape else None
  handlers = {
      'image': decoder_lib.Image(schema.ENCODED, schema.FORMAT, shape=shape,
                                 channels=shape[-1] if shape else 3),
      'label': decoder_lib.Tensor(schema.LABEL),
  }
  keys = set(spec.schema.keys)
  if schema.TEXT in keys:
    handlers['label_text'] = decoder_lib.Tensor(schema.TEXT)
  if {schema.BBOX_YMIN, schema.BBOX_XMIN, schema.BBOX_YMAX, schema.BBOX_XMAX} <= keys:
    handlers['object/bbox'] = decoder_lib.BoundingBox(
        [schema.BBOX_YMIN, schema.BBOX_XMIN, schema.BBOX_YMAX, schema.BBOX_XMAX])
  if schema.BBOX_LABEL in keys:
    # research/slim read box labels from a key its converter never wrote; read the
    # key that is written, and the old one for files that have it.
    keys_to_features[schema.LEGACY_BBOX_LABEL] = tf.io.VarLenFeature(tf.int64)
    handlers['object/label'] = decoder_lib.BackupHandler(
        decoder_lib.Tensor(schema.BBOX_LABEL), decoder_lib.Tensor(schema.LEGACY_BBOX_LABEL))
  wanted = set(spec.items_to_descriptions) | {'image', 'label'}
  return decoder_lib.TFExampleDecoder(
      keys_to_features, {k: h for k, h in handlers.items() if k in wanted})


def _split_patterns(spec, split_name):
  """Globs (relative to the directory) matching every file of `split_name` in `spec`'s names."""
  patterns = [spec.shard_glob(split_name)]
  if spec.single_template:
    patterns.append(spec.shard_name(split_name, 0, 1))
  return patterns


def _listdir(dataset_dir):
  import tensorflow as tf  # pylint: disable=g-import-not-at-top
  return {n.rstrip('/') for n in tf.io.gfile.listdir(dataset_dir)}


def _glob(dataset_dir, pattern):
  import tensorflow as tf  # pylint: disable=g-import-not-at-top
  return sorted(tf.io.gfile.glob(os.path.join(dataset_dir, pattern)))


def _pattern(file_pattern, split_name):
  return file_pattern % split_name if '%s' in file_pattern else file_pattern


def _manifest_files(spec, manifest, split_name, dataset_dir, file_pattern):
  """The shard paths and example count of a split, checked against the directory."""
  path = os.path.join(dataset_dir, spec.manifest_name())
  if split_name not in manifest.splits:
    raise errors.UnknownSplitError(
        f'unknown split {split_name!r} of {spec.name}: {path} lists '
        f'{", ".join(sorted(manifest.splits)) or "no splits"}')
  shards = manifest.splits[split_name].shards
  if not shards:
    raise errors.MissingFilesError(f'{path} lists no shards for split {split_name!r}')
  listed = {s.file: s.num_examples for s in shards}
  present = _listdir(dataset_dir)
  missing = [s.file for s in shards if s.file not in present and not
             ('/' in s.file and _exists(os.path.join(dataset_dir, s.file)))]
  if missing:
    raise errors.ManifestError(
        f'{path} lists {len(shards)} shards for split {split_name!r} but '
        f'{os.path.join(dataset_dir, missing[0])} is missing ({len(missing)} missing in all); '
        f'copy the missing shards or reconvert')
  if file_pattern:
    files = _glob(dataset_dir, _pattern(file_pattern, split_name))
    if not files:
      raise errors.MissingFilesError(
          f'no files match {_pattern(file_pattern, split_name)!r} in {dataset_dir} '
          f'(split {split_name!r} of {spec.name})')
    unlisted = [f for f in files if os.path.basename(f) not in listed]
    if unlisted:
      raise errors.ManifestError(
          f'{unlisted[0]} matches file_pattern but {path} does not list it for split '
          f'{split_name!r}; its example count is unknown')
    return files, sum(listed[os.path.basename(f)] for f in files)
  extra = sorted(n for n in present if n not in listed and any(
      fnmatch.fnmatchcase(n, p) for p in _split_patterns(spec, split_name)))
  if extra:
    raise errors.ManifestError(
        f'{path} lists {len(shards)} shards for split {split_name!r} but {dataset_dir} holds '
        f'{len(shards) + len(extra)} files of that split; not in the manifest: '
        f'{", ".join(extra[:3])}{" ..." if len(extra) > 3 else ""} (left from another '
        f'conversion? remove them or reconvert)')
  files = [os.path.join(dataset_dir, s.file) for s in shards]
  return files, manifest.splits[split_name].num_examples


def _exists(path):
  import tensorflow as tf  # pylint: disable=g-import-not-at-top
  return tf.io.gfile.exists(path)


def _legacy_files(spec, split_name, dataset_dir, file_pattern):
  """The files of a split written without a manifest (research/slim's layout)."""
  if split_name not in spec.splits:
    raise errors.UnknownSplitError(
        f'unknown split {split_name!r} of {spec.name} (no {spec.manifest_name()} in '
        f'{dataset_dir}); known: {", ".join(sorted(spec.splits))}')
  if file_pattern:
    pattern = _pattern(file_pattern, split_name)
    files = _glob(dataset_dir, pattern)
    if not files:
      raise errors.MissingFilesError(
          f'no files match {pattern!r} in {dataset_dir} (split {split_name!r} of {spec.name})')
    return files
  patterns = _split_patterns(spec, split_name)
  if spec.single_template and _exists(os.path.join(dataset_dir, patterns[1])):
    return [os.path.join(dataset_dir, patterns[1])]
  files = _glob(dataset_dir, patterns[0])
  if not files:
    raise errors.MissingFilesError(
        f'no files of split {split_name!r} of {spec.name} in {dataset_dir}: expected '
        f'{" or ".join(reversed(patterns))}; convert it with tools/convert.py --dataset '
        f'{spec.name}')
  _check_complete(files, split_name, spec, dataset_dir)
  return files


def _check_complete(files, split_name, spec, dataset_dir):
  """Shards named `i-of-n` must be all n of them: a missing shard would skew the size."""
  numbers = [_SHARD_NUMBERS.search(os.path.basename(f)) for f in files]
  totals = {int(m.group(2)) for m in numbers if m}
  if len(totals) > 1:
    raise errors.MissingFilesError(
        f'{dataset_dir} mixes shards of split {split_name!r} of {spec.name} cut '
        f'{" and ".join(str(t) for t in sorted(totals))} ways; remove one set')
  if totals:
    total = totals.pop()
    have = {int(m.group(1)) for m in numbers if m}
    lost = [i for i in range(total) if i not in have]
    if lost:
      first = spec.shard_name(split_name, lost[0], total)
      raise errors.MissingFilesError(
          f'split {split_name!r} of {spec.name} has {len(have)} of {total} shards in '
          f'{dataset_dir}: {first} is missing ({len(lost)} missing in all)')


def find_manifest(dataset_dir, dataset_name=None):
  """The `Manifest` of the folder dataset in `dataset_dir`: `name`'s, or the only one there."""
  import tensorflow as tf  # pylint: disable=g-import-not-at-top
  if not tf.io.gfile.isdir(dataset_dir):
    raise errors.MissingFilesError(f'dataset directory {dataset_dir!r} does not exist')
  if dataset_name is not None:
    manifest = read_manifest(dataset_dir, dataset_name)
    if manifest is None:
      raise errors.MissingFilesError(
          f'no {schema.manifest_name(dataset_name)} in {dataset_dir}; a folder dataset is '
          f'described by the manifest tools/convert.py --dataset folder writes')
    return manifest
  suffix = schema.manifest_name('')
  found = sorted(n for n in _listdir(dataset_dir) if n.endswith(suffix) and n != suffix)
  if not found:
    raise errors.MissingFilesError(
        f'no *{suffix} in {dataset_dir}; a folder dataset is described by the manifest '
        f'tools/convert.py --dataset folder writes')
  if len(found) > 1:
    raise errors.DescriptorError(
        f'{dataset_dir} holds several manifests ({", ".join(found)}); pass dataset_name= to '
        f'choose one')
  return read_manifest(dataset_dir, found[0][:-len(suffix)])


def get_folder_split(split_name, dataset_dir, file_pattern=None, reader=None, dataset_name=None):
  """The `Dataset` of a converted folder dataset, everything taken from its manifest."""
  from descriptors import folder  # pylint: disable=g-import-not-at-top
  manifest = find_manifest(dataset_dir, dataset_name=dataset_name)
  num_classes = None
  if manifest.label_names:
    num_classes = len(manifest.label_names) + manifest.label_offset
  spec = folder.make_spec(
      manifest.name,
      splits={s: split.num_examples for s, split in manifest.splits.items()},
      num_shards={s: len(split.shards) for s, split in manifest.splits.items()},
      image_format=manifest.image_format, num_classes=num_classes)
  return get_split(spec, split_name, dataset_dir, file_pattern=file_pattern, reader=reader,
                   manifest=manifest)
