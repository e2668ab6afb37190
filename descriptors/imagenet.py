"""ImageNet (ILSVRC-2012) as converted by slimdata or research/slim's
build_imagenet_data.py.

    dataset = descriptors.imagenet.get_split('validation', '/data/imagenet')
    provider = DatasetDataProvider(dataset)
    image, label, bbox = provider.get(['image', 'label', 'object/bbox'])

Labels run 1..1000; 0 is the background class, so `num_classes` is 1001.
Boxes exist for training images only.
"""
from descriptors import schema

SPEC = schema.DatasetSpec(
    name='imagenet',
    schema=schema.IMAGENET,
    splits={'train': 1281167, 'validation': 50000},
    num_shards={'train': 1024, 'validation': 128},
    shard_template='{split}-{index:05d}-of-{num:05d}',
    image_format='jpeg',
    label_offset=1,
    num_classes=1001,
    items_to_descriptions={
        'image': 'A color image of varying height and width.',
        'label': 'The label id of the image, integer between 1 and 1000 (0 is background)',
        'label_text': 'The text of the label.',
        'object/bbox': 'A list of bounding boxes.',
        'object/label': 'A list of labels, one per each object.',
    },
)


def get_split(split_name, dataset_dir, file_pattern=None, reader=None):
  """A `Dataset` reading ImageNet's `split_name` ('train' or 'validation') from `dataset_dir`."""
  from descriptors import loading
  return loading.get_split(SPEC, split_name, dataset_dir, file_pattern=file_pattern,
                          reader=reader)
