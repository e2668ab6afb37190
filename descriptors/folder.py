"""Any class-per-folder image dataset converted by slimdata (`tools/convert.py --dataset folder`).

    spec = descriptors.folder.make_spec('pets', splits={'train': 900, 'validation': 100})
    dataset = descriptors.folder.get_split('train', '/data/pets')   # reads pets_manifest.json
    dataset = descriptors.get_split('folder', 'train', '/data/pets')

Everything about a folder dataset (name, splits, sizes, shards, label names,
image format) comes from its manifest; `make_spec` gives converter and
descriptor the same file names.
"""
from descriptors import schema

SHARD_TEMPLATE = '{name}_{split}_{index:05d}-of-{num:05d}.tfrecord'


def make_spec(name, splits=None, num_shards=None, image_format='jpeg', num_classes=None):
  """The `DatasetSpec` of folder dataset `name`.

  Args:
    name: the dataset's name; it prefixes every file (`<name>_train_00000-of-00004.tfrecord`,
      `<name>_manifest.json`).
    splits: `{split: num_examples}`, e.g. `{'train': 900, 'validation': 100}`.
    num_shards: `{split: shards}`; defaults to one shard per split.
    image_format: the format the converter stores images in ('jpeg', 'png' or 'raw').
    num_classes: the number of classes, when known.
  """
  if not name or not isinstance(name, str) or '/' in name or '*' in name:
    raise ValueError(f'folder dataset name must be a non-empty plain string, got {name!r}')
  splits = dict(splits or {})
  num_shards = dict(num_shards or {})
  unknown = set(num_shards) - set(splits)
  if splits and unknown:
    raise ValueError(f'num_shards names splits {sorted(unknown)} not in splits '
                     f'{sorted(splits)}')
  return schema.DatasetSpec(
      name=name,
      schema=schema.IMAGE,
      splits=splits,
      num_shards={s: num_shards.get(s, 1) for s in splits},
      shard_template=SHARD_TEMPLATE,
      image_format=image_format,
      num_classes=num_classes,
      items_to_descriptions={
          'image': 'A color image of varying size.',
          'label': 'A single integer label, the index of its class folder in sorted order.',
      },
  )


def get_split(split_name, dataset_dir, file_pattern=None, reader=None, dataset_name=None):
  """A `Dataset` reading `split_name` of the folder dataset in `dataset_dir`.

  Args:
    split_name: a split the manifest lists.
    dataset_dir: the directory holding the shards and `<name>_manifest.json`.
    file_pattern: a glob (`%s` is replaced by the split name) overriding the shard list.
    reader: the record reader class; `tf.compat.v1.TFRecordReader` by default.
    dataset_name: the dataset's name; needed only when `dataset_dir` holds more than one manifest.
  """
  from descriptors import loading
  return loading.get_folder_split(split_name, dataset_dir, file_pattern=file_pattern,
                                  reader=reader, dataset_name=dataset_name)
