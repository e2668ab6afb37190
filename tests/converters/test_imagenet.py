"""ImageNet: the ILSVRC-2012 archives to research/slim's shards with every ImageNet key."""
import io
import os
import pickle
import tarfile

import numpy as np
import pytest

from converters import errors
from converters import images
from converters import imagenet
from converters import pipeline
from descriptors import imagenet as imagenet_descriptor
from descriptors import schema
from tests.converters import image_fixtures as fx
from tools import convert as convert_tool

SYNSETS = ('n01440764', 'n01443537', 'n01484850')   # sorted: labels 1, 2, 3
TEXTS = {'n01440764': 'tench, Tinca tinca', 'n01443537': 'goldfish, Carassius auratus',
         'n01484850': 'great white shark', 'n09999999': 'not in this sample'}
# The odd files ImageNet really has, found by content: a PNG named .JPEG, CMYK, grayscale.
ODD = {'n01443537/n01443537_2.JPEG': 'png', 'n01484850/n01484850_1.JPEG': 'cmyk',
       'n01484850/n01484850_3.JPEG': 'gray', 'ILSVRC2012_val_00000004.JPEG': 'png'}
BOXES = {'n01440764_0.JPEG': [(0.1, 0.2, 0.5, 0.6), (0.0, 0.0, 1.0, 1.0)],
         'n01484850_1.JPEG': [(0.25, 0.25, 0.75, 0.5)]}
VAL_LABELS = ('n01484850', 'n01440764', 'n01443537', 'n01440764', 'n01484850')


def _image(key, seed):
  kind = ODD.get(key)
  if kind == 'png':
    return fx.png(seed, 40, 36)
  return fx.jpeg(seed, 40 + seed % 9, 36, mode={'cmyk': 'CMYK', 'gray': 'L'}.get(kind))


def _raw_files():
  """`{relative path: bytes}` of the images: train class folders and flat validation files."""
  files = {}
  for c, synset in enumerate(SYNSETS):
    for i in range(4):
      key = f'{synset}/{synset}_{i}.JPEG'
      files[key] = _image(key, 10 * c + i)
  for i in range(len(VAL_LABELS)):
    key = f'ILSVRC2012_val_{i + 1:08d}.JPEG'
    files[key] = _image(key, 100 + i)
  return files


def _tar_bytes(files):
  out = io.BytesIO()
  fx.write_tar(out, files, mode='w')
  return out.getvalue()


@pytest.fixture(scope='module')
def raw(tmp_path_factory):
  """A --source folder with the two archives (train: a tar of class tars) and the text files."""
  directory = tmp_path_factory.mktemp('ilsvrc')
  files = _raw_files()
  class_tars = {f'{s}.tar': _tar_bytes({k.split('/')[1]: v for k, v in files.items()
                                        if k.startswith(s + '/')}) for s in SYNSETS}
  fx.write_tar(directory / imagenet.TRAIN_ARCHIVE, class_tars, mode='w')
  fx.write_tar(directory / imagenet.VALIDATION_ARCHIVE,
               {k: v for k, v in files.items() if k.startswith('ILSVRC')}, mode='w')
  (directory / 'imagenet_2012_validation_synset_labels.txt').write_text('\n'.join(VAL_LABELS))
  (directory / 'imagenet_2012_bounding_boxes.csv').write_text(''.join(
      f'{name},{",".join(str(v) for v in box)}\n' for name, boxes in BOXES.items()
      for box in boxes))
  (directory / 'imagenet_metadata.txt').write_text(
      ''.join(f'{s}\t{t}\n' for s, t in sorted(TEXTS.items())))
  return str(directory), files


@pytest.fixture(scope='module')
def converted(raw, tmp_path_factory):
  out = str(tmp_path_factory.mktemp('imagenet'))
  result = pipeline.convert(imagenet.ImagenetSource(source_dir=raw[0]), dataset_dir=out,
                            num_shards={'train': 2, 'validation': 2})
  return out, result


def _examples(out, split):
  examples = []
  for i in range(2):
    examples += fx.read_examples(os.path.join(out, f'{split}-{i:05d}-of-00002'),
                                 schema.IMAGENET.keys_to_features())
  return examples


def test_research_slim_file_names_and_counts(converted):
  out, result = converted
  assert sorted(os.listdir(out)) == ['imagenet_manifest.json', 'labels.txt',
                                     'train-00000-of-00002', 'train-00001-of-00002',
                                     'validation-00000-of-00002', 'validation-00001-of-00002']
  assert imagenet_descriptor.SPEC.shard_name('train', 7, 1024) == 'train-00007-of-01024'
  assert imagenet_descriptor.SPEC.shard_name('validation', 0, 128) == 'validation-00000-of-00128'
  assert result.manifest.splits['train'].num_examples == 12
  assert result.manifest.splits['validation'].num_examples == len(VAL_LABELS)
  assert result.manifest.label_offset == 1
  assert open(os.path.join(out, 'labels.txt')).read().splitlines() == [
      '1:tench, Tinca tinca', '2:goldfish, Carassius auratus', '3:great white shark']


@pytest.mark.parametrize('split', ['train', 'validation'])
def test_every_record_has_the_imagenet_keys_and_its_source_pixels(converted, raw, split):
  out, _ = converted
  files = raw[1]
  examples = _examples(out, split)
  names = set()
  for ex in examples:
    name = ex[schema.FILENAME].decode()
    names.add(name)
    key = name if name.startswith('ILSVRC') else f'{name.split("_")[0]}/{name}'
    synset = (VAL_LABELS[int(name[15:23]) - 1] if split == 'validation' else name.split('_')[0])
    assert ex[schema.SYNSET].decode() == synset
    assert ex[schema.LABEL] == SYNSETS.index(synset) + 1
    assert ex[schema.TEXT].decode() == TEXTS[synset]
    assert ex[schema.FORMAT] == b'JPEG' and ex[schema.COLORSPACE] == b'RGB'
    assert ex[schema.CHANNELS] == 3
    encoded = ex[schema.ENCODED]
    assert images.read_header(encoded).channels == 3 and images.sniff(encoded) == 'jpeg'
    pixels = fx.tf_decode(encoded)
    assert (ex[schema.HEIGHT], ex[schema.WIDTH]) == pixels.shape[:2]
    want = fx.pil_rgb(files[key])
    diff = np.abs(pixels.astype(int) - want)
    if key in ODD:    # re-encoded as an RGB JPEG
      assert encoded != files[key] and diff.mean() < 4, key
    else:             # kept byte for byte
      assert encoded == files[key] and diff.mean() < 1.5, key
    boxes = BOXES.get(name, []) if split == 'train' else []
    got = list(zip(ex[schema.BBOX_XMIN], ex[schema.BBOX_YMIN], ex[schema.BBOX_XMAX],
                   ex[schema.BBOX_YMAX]))
    np.testing.assert_allclose(np.reshape(got, (-1, 4)), np.reshape(boxes, (-1, 4)), atol=1e-6)
    assert list(ex[schema.BBOX_LABEL]) == [ex[schema.LABEL]] * len(boxes)
  assert len(names) == len(examples)


def test_research_slim_imagenet_descriptor_keys_parse_every_record(converted):
  import tensorflow as tf  # pylint: disable=import-outside-toplevel
  # research/slim datasets/imagenet.py's keys_to_features, spelled as it spelled them.
  keys = {
      'image/encoded': tf.io.FixedLenFeature((), tf.string, default_value=''),
      'image/format': tf.io.FixedLenFeature((), tf.string, default_value='jpeg'),
      'image/class/label': tf.io.FixedLenFeature([], dtype=tf.int64, default_value=-1),
      'image/class/text': tf.io.FixedLenFeature([], dtype=tf.string, default_value=''),
      'image/object/bbox/xmin': tf.io.VarLenFeature(dtype=tf.float32),
      'image/object/bbox/ymin': tf.io.VarLenFeature(dtype=tf.float32),
      'image/object/bbox/xmax': tf.io.VarLenFeature(dtype=tf.float32),
      'image/object/bbox/ymax': tf.io.VarLenFeature(dtype=tf.float32),
      'image/object/class/label': tf.io.VarLenFeature(dtype=tf.int64),
  }
  out, _ = converted
  examples = _examples(out, 'train') + _examples(out, 'validation')
  legacy = []
  for split in ('train', 'validation'):
    for i in range(2):
      legacy += fx.read_examples(os.path.join(out, f'{split}-{i:05d}-of-00002'), keys)
  assert len(legacy) == len(examples) == 12 + len(VAL_LABELS)
  for ex in legacy:
    assert 1 <= ex['image/class/label'] <= 3 and ex['image/class/text']
    assert fx.research_slim_decode(ex['image/encoded'], ex['image/format']).shape[-1] == 3
    assert len(ex['image/object/bbox/xmin']) == len(ex['image/object/bbox/ymax'])


def test_the_split_is_shuffled_with_the_seed(raw):
  def order(seed):
    source = imagenet.ImagenetSource(source_dir=raw[0], seed=seed)
    source.prepare()
    return [rel for rel, _, _ in source.plan()['train']]
  assert order(0) == order(0)
  assert sorted(order(0)) == sorted(order(1)) and order(0) != order(1)


def test_workers_get_boxes_in_the_plan_not_the_whole_box_file(raw):
  source = imagenet.ImagenetSource(source_dir=raw[0])
  source.prepare()
  plan = source.plan()
  worker = pickle.loads(pickle.dumps(source))
  assert worker._boxes == {} and worker._files == {}
  with_boxes = [ref for ref in plan['train'] if ref[2]]
  assert sorted(os.path.basename(rel) for rel, _, _ in with_boxes) == sorted(BOXES)
  (_, values), = list(worker.read('train', with_boxes[:1]))
  assert len(values[schema.BBOX_XMIN]) == len(BOXES[values[schema.FILENAME]])


def test_without_sources_the_error_says_where_to_get_imagenet(tmp_path):
  with pytest.raises(ValueError, match='image-net.org'):
    imagenet.ImagenetSource()
  with pytest.raises(ValueError, match='image-net.org'):
    imagenet.ImagenetSource(source_dir=str(tmp_path))


def test_the_command_line_says_where_to_get_imagenet(tmp_path, capsys):
  assert convert_tool.main(['--dataset', 'imagenet', '--dataset_dir', str(tmp_path)]) == 1
  assert 'image-net.org' in capsys.readouterr().err
  assert os.listdir(tmp_path) == []


def test_validation_labels_must_match_the_images(raw, tmp_path):
  labels = tmp_path / 'labels.txt'
  labels.write_text('\n'.join(VAL_LABELS[:-1]))
  source = imagenet.ImagenetSource(
      validation_source=os.path.join(raw[0], imagenet.VALIDATION_ARCHIVE),
      validation_labels=str(labels), cache_dir=str(tmp_path / 'cache'))
  with pytest.raises(errors.SourceFormatError, match='4 labels for the 5'):
    source.prepare()


def test_a_bad_bounding_box_row_fails_naming_its_line(tmp_path):
  with pytest.raises(errors.SourceFormatError, match=r'boxes.csv:2'):
    imagenet.parse_boxes('a.JPEG,0.1,0.1,0.2,0.2\nb.JPEG,0.1,oops,0.2,0.2\n', path='boxes.csv')


def test_an_unsafe_member_in_a_class_tar_is_refused(tmp_path):
  inner = io.BytesIO()
  with tarfile.open(fileobj=inner, mode='w') as tar:
    tar.addfile(fx.symlink_member('n01440764_9.JPEG', '/etc/passwd'))
  fx.write_tar(tmp_path / imagenet.TRAIN_ARCHIVE, {'n01440764.tar': inner.getvalue()}, mode='w')
  source = imagenet.ImagenetSource(train_source=str(tmp_path / imagenet.TRAIN_ARCHIVE),
                                   cache_dir=str(tmp_path / 'cache'))
  with pytest.raises(errors.UnsafeArchiveError, match='n01440764_9.JPEG'):
    source.prepare()
