"""Bad and odd source inputs: each is converted correctly, skipped and reported, or rejected
with an error that names it, as docs/RELIABILITY.md's table says.

The image cases run end to end through `tools/convert.py` (in-process) over
one class-folder tree, as `--dataset flowers` (RGB JPEG target) and
`--dataset folder` (JPEG-or-PNG target). Each odd image has a size of its own,
so a record is matched to its source by height and width, and its pixels are
compared with PIL's decode of the source. The raw-file cases (MNIST idx, CIFAR
batches) must stop the run before any shard is written. Unit-level checks of
the same inputs live in tests/converters/ (test_images.py, test_mnist.py,
test_cifar10.py); these add the whole command.
"""
import gzip
import io
import json
import logging
import os
import struct

import numpy as np
import pytest
from PIL import Image

from converters import cifar10
from converters import folder
from converters import samples
from tests.converters import image_fixtures as fx
from tools import convert as convert_tool

CAFE = 'café au lait'
ODD_NAME = 'my photo é 1.jpg'


def _jpeg_claiming(width, height):
  """A valid small JPEG whose frame header (SOF0) claims `width` x `height`."""
  data = bytearray(fx.jpeg(5, 16, 16))
  sof = data.index(b'\xff\xc0')
  struct.pack_into('>HH', data, sof + 5, height, width)
  return bytes(data)


def _tree():
  """`{relative path: bytes}` and `{relative path: expected outcome}`."""
  jpeg, png = fx.jpeg(1), fx.png(2)
  files = {
      'daisy/ok_a.jpg': fx.jpeg(10, 48, 40),
      'daisy/ok_b.jpg': fx.jpeg(11, 50, 40),
      'daisy/ok_c.jpg': fx.jpeg(12, 52, 40),
      'daisy/empty.jpg': b'',
      'daisy/truncated.jpg': jpeg[:len(jpeg) // 2],
      'dandelion/truncated.png': png[:-20],
      'dandelion/random.jpg': np.random.default_rng(0).bytes(3000),
      'roses/png_named.JPEG': fx.png(13, 41, 37),
      'roses/cmyk.jpg': fx.jpeg(14, 43, 29, mode='CMYK'),
      'roses/gray.jpg': fx.jpeg(15, 45, 31, mode='L'),
      'sunflowers/bomb.jpg': _jpeg_claiming(20000, 20000),
      'sunflowers/tiny.jpg': fx.jpeg(16, 1, 1),
      f'{CAFE}/{ODD_NAME}': fx.jpeg(17, 47, 33),
      f'{CAFE}/bad ü.jpg': b'\x00garbage',
      'lilies/readme.txt': b'a class folder with no images',
  }
  skipped = {
      'daisy/empty.jpg': 'empty file',
      'daisy/truncated.jpg': 'truncated JPEG',
      'dandelion/truncated.png': 'truncated PNG',
      'dandelion/random.jpg': 'not a JPEG, PNG',
      'sunflowers/bomb.jpg': 'decompression-bomb limit',
      f'{CAFE}/bad ü.jpg': 'not a JPEG, PNG',
  }
  return files, skipped


# Converted images: (height, width) -> (source, class, {target: (stored format, kept as is)}).
CONVERTED = {
    (40, 48): ('daisy/ok_a.jpg', 'daisy', {'flowers': ('jpg', True), 'folder': ('jpeg', True)}),
    (40, 50): ('daisy/ok_b.jpg', 'daisy', {'flowers': ('jpg', True), 'folder': ('jpeg', True)}),
    (40, 52): ('daisy/ok_c.jpg', 'daisy', {'flowers': ('jpg', True), 'folder': ('jpeg', True)}),
    (37, 41): ('roses/png_named.JPEG', 'roses',
               {'flowers': ('jpg', False), 'folder': ('png', True)}),
    (29, 43): ('roses/cmyk.jpg', 'roses', {'flowers': ('jpg', False), 'folder': ('jpeg', False)}),
    (31, 45): ('roses/gray.jpg', 'roses', {'flowers': ('jpg', False), 'folder': ('jpeg', True)}),
    (1, 1): ('sunflowers/tiny.jpg', 'sunflowers',
             {'flowers': ('jpg', True), 'folder': ('jpeg', True)}),
    (33, 47): (f'{CAFE}/{ODD_NAME}', CAFE, {'flowers': ('jpg', True), 'folder': ('jpeg', True)}),
}
CLASSES = sorted([CAFE, 'daisy', 'dandelion', 'roses', 'sunflowers'])   # not lilies, no images


@pytest.fixture(scope='module')
def raw(tmp_path_factory):
  root = tmp_path_factory.mktemp('raw')
  files, _ = _tree()
  fx.write_files(root, files)
  return str(root)


def _flags(dataset, raw, out, *extra):
  return ['--dataset', dataset, '--source', raw, '--dataset_dir', out, '--validation_size', '2',
          '--num_shards', '2', *extra]


@pytest.fixture(scope='module', params=['flowers', 'folder'])
def skipped_run(request, raw, tmp_path_factory):
  out = str(tmp_path_factory.mktemp(request.param))
  assert convert_tool.main(_flags(request.param, raw, out, '--on_bad_image', 'skip')) == 0
  name = 'flowers' if request.param == 'flowers' else os.path.basename(raw)
  with open(os.path.join(out, f'{name}_manifest.json'), encoding='utf-8') as f:
    manifest = json.load(f)
  records = []
  for split in manifest['splits'].values():
    for shard in split['shards']:
      records += fx.read_examples(os.path.join(out, shard['file']),
                                  fx.research_slim_keys_to_features() | _size_features())
  return request.param, out, manifest, records


def _size_features():
  import tensorflow as tf  # pylint: disable=import-outside-toplevel
  return {k: tf.io.FixedLenFeature((), tf.int64) for k in ('image/height', 'image/width')}


def test_bad_images_are_skipped_and_listed_with_their_reason(skipped_run, raw):
  _, _, manifest, _ = skipped_run
  listed = {os.path.relpath(s['source'], raw): s['reason']
            for split in manifest['splits'].values() for s in split['skipped']}
  _, expected = _tree()
  assert sorted(listed) == sorted(expected)
  for rel, why in expected.items():
    assert why in listed[rel], (rel, listed[rel])


def test_odd_images_are_converted_to_what_the_dataset_promises(skipped_run, raw):
  dataset, out, manifest, records = skipped_run
  assert manifest['label_names'] == CLASSES
  with open(os.path.join(out, 'labels.txt'), encoding='utf-8') as f:
    assert f.read().splitlines() == [f'{i}:{c}' for i, c in enumerate(CLASSES)]
  by_size = {(int(r['image/height']), int(r['image/width'])): r for r in records}
  assert len(records) == len(by_size) == len(CONVERTED)
  files, _ = _tree()
  for size, (rel, cls, targets) in CONVERTED.items():
    record = by_size[size]
    stored_format, kept = targets[dataset]
    assert record['image/class/label'] == CLASSES.index(cls), rel
    assert record['image/format'] == stored_format.encode(), rel
    source = files[rel]
    if kept:
      assert record['image/encoded'] == source, f'{rel} should be stored byte for byte'
    else:
      stored = fx.tf_decode(record['image/encoded'])
      want = fx.pil_rgb(source).astype(int)
      assert stored.shape == want.shape, rel
      assert np.abs(stored.astype(int) - want).mean() < 2.5, rel   # a JPEG at quality 95


def test_bad_image_fails_the_run_by_default_naming_it(raw, tmp_path, capsys):
  out = str(tmp_path / 'out')
  assert convert_tool.main(_flags('flowers', raw, out)) == 1
  err = capsys.readouterr().err
  _, expected = _tree()
  named = [rel for rel in expected if os.path.join(raw, rel) in err]
  assert len(named) == 1 and '--on_bad_image=skip' in err, err
  assert not os.path.exists(os.path.join(out, 'flowers_manifest.json'))


def test_a_class_folder_without_images_is_no_class(skipped_run):
  assert 'lilies' not in skipped_run[2]['label_names']


def test_folders_without_images_are_named_in_a_warning(tmp_path, caplog):
  """They are no class, which moves the label index of every class after them."""
  fx.write_files(tmp_path, {'daisy/a.jpg': fx.jpeg(1), 'lilies/readme.txt': b'no images',
                            'roses/b.jpg': fx.jpeg(2), '.hidden/c.jpg': fx.jpeg(3)})
  (tmp_path / 'tulips').mkdir()                         # empty
  with caplog.at_level(logging.WARNING):
    classes, _, _ = folder.list_class_images(str(tmp_path))
  assert classes == ('daisy', 'roses')
  warnings = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
  assert len(warnings) == 1 and 'lilies, tulips hold no images' in warnings[0], warnings
  caplog.clear()
  folder.list_class_images(str(tmp_path), warn_empty=False)
  assert not caplog.records


# Raw-file inputs: the run stops before any shard, naming the file.

def _mnist(directory, damage):
  samples.write_mnist_sample(directory, num_train=20, num_test=10, seed=0)
  path = os.path.join(directory, 't10k-images-idx3-ubyte.gz')
  with gzip.open(path, 'rb') as f:
    data = f.read()
  samples.write_gzip(path, damage(data))
  return path


@pytest.mark.parametrize('damage, message', [
    (lambda d: struct.pack('>I', 2049) + d[4:], 'magic number 2049, expected 2051'),
    (lambda d: d[:4] + struct.pack('>I', 11) + d[8:], 'promises'),   # count 11, data for 10
    (lambda d: d[:4] + struct.pack('>I', 9) + d[8:], 'too long'),     # count 9, data for 10
], ids=['wrong magic', 'count above the data', 'count below the data'])
def test_bad_idx_file_stops_the_command_naming_it(tmp_path, capsys, damage, message):
  path = _mnist(str(tmp_path / 'raw'), damage)
  out = tmp_path / 'out'
  assert convert_tool.main(['--dataset', 'mnist', '--source', str(tmp_path / 'raw'),
                            '--dataset_dir', str(out)]) == 1
  err = capsys.readouterr().err
  assert path in err and message in err, err
  assert not out.exists() or not [f for f in os.listdir(out) if f.endswith('.tfrecord')]


def test_cifar_batch_of_partial_records_stops_the_command_naming_it(tmp_path, capsys):
  folder = tmp_path / cifar10.TOP
  folder.mkdir()
  for name in cifar10.BATCHES['train'] + cifar10.BATCHES['test']:
    (folder / name).write_bytes(bytes(2 * cifar10.RECORD_BYTES))
  (folder / 'data_batch_3.bin').write_bytes(bytes(2 * cifar10.RECORD_BYTES - 1))
  (folder / cifar10.META).write_text('\n'.join(f'class{i}' for i in range(10)))
  out = tmp_path / 'out'
  assert convert_tool.main(['--dataset', 'cifar10', '--source', str(tmp_path),
                            '--dataset_dir', str(out)]) == 1
  err = capsys.readouterr().err
  assert str(folder / 'data_batch_3.bin') in err and 'not a whole number of 3073' in err, err
  assert not out.exists() or not [f for f in os.listdir(out) if f.endswith('.tfrecord')]


def test_pil_agrees_the_odd_inputs_are_what_they_claim():
  # The test inputs themselves: the CMYK and gray JPEGs really are, the bomb really claims it.
  files, _ = _tree()
  assert Image.open(io.BytesIO(files['roses/cmyk.jpg'])).mode == 'CMYK'
  assert Image.open(io.BytesIO(files['roses/gray.jpg'])).mode == 'L'
  assert Image.open(io.BytesIO(files['roses/png_named.JPEG'])).format == 'PNG'
  with pytest.raises(Image.DecompressionBombError):
    Image.open(io.BytesIO(files['sunflowers/bomb.jpg']))
