"""The TensorFlow flowers photos as converted by slimdata or research/slim's
download_and_convert_flowers.py.

    dataset = descriptors.flowers.get_split('train', '/data/flowers')
    provider = DatasetDataProvider(dataset)
    image, label = provider.get(['image', 'label'])
"""
from descriptors import schema

# The class folders of flower_photos.tgz, sorted: label i is LABEL_NAMES[i].
LABEL_NAMES = ('daisy', 'dandelion', 'roses', 'sunflowers', 'tulips')

SPEC = schema.DatasetSpec(
    name='flowers',
    schema=schema.IMAGE,
    splits={'train': 3320, 'validation': 350},
    num_shards={'train': 5, 'validation': 5},
    shard_template='{name}_{split}_{index:05d}-of-{num:05d}.tfrecord',
    image_format='jpg',
    num_classes=5,
    items_to_descriptions={
        'image': 'A color image of varying size.',
        'label': 'A single integer between 0 and 4',
    },
)


def get_split(split_name, dataset_dir, file_pattern=None, reader=None):
  """A `Dataset` reading flowers' `split_name` ('train' or 'validation') from `dataset_dir`."""
  from descriptors import loading
  return loading.get_split(SPEC, split_name, dataset_dir, file_pattern=file_pattern,
                          reader=reader)
