"""tools/verify.py: a clean dataset passes; every kind of damage fails, naming file and record."""
import dataclasses
import io
import os
import shutil

import numpy as np
import pytest
from PIL import Image

from descriptors import manifest as manifest_lib
from descriptors import schema
from converters import verification

LABEL_NAMES = ('red', 'green', 'blue')
TRAIN = 'toy_train_00000-of-00002.tfrecord'
TRAIN_1 = 'toy_train_00001-of-00002.tfrecord'
VALIDATION_0 = 'toy_validation_00000-of-00002.tfrecord'


def png(image):
  buffer = io.BytesIO()
  Image.fromarray(image).save(buffer, format='PNG')
  return buffer.getvalue()


def pixels(label, height=8, width=8, seed=0):
  """A small colour image, mostly the colour its label names."""
  rng = np.random.default_rng(seed)
  image = rng.integers(0, 60, size=(height, width, 3), dtype=np.uint8)
  image[..., label % 3] = 200
  return image


@pytest.fixture(scope='module')
def clean_dir(tmp_path_factory, write_dataset):
  """`toy`: train 12 examples in 2 shards, validation 4 in 2, PNG, labels 0..2."""
  path = tmp_path_factory.mktemp('clean')
  write_dataset(path, 'toy', {
      'train': [(pixels(i % 3, seed=i), i % 3) for i in range(12)],
      'validation': [(pixels(i % 3, seed=100 + i), i % 3) for i in range(4)],
  }, label_names=LABEL_NAMES, num_shards=2)
  return path


@pytest.fixture
def copy_of_clean(clean_dir, tmp_path):
  target = tmp_path / 'data'
  shutil.copytree(clean_dir, target)
  return target


def run_verify(load_tool, capsys, *args):
  code = load_tool('verify').main(list(args))
  captured = capsys.readouterr()
  return code, captured.out + captured.err


def read_records(path):
  """The records of a TFRecord file, read by TensorFlow itself."""
  import tensorflow as tf
  return [r.numpy() for r in tf.data.TFRecordDataset(str(path))]


def rewrite_manifest(dataset_dir, name='toy', **changes):
  path = dataset_dir / schema.manifest_name(name)
  manifest = manifest_lib.Manifest.from_json(path.read_text())
  manifest = dataclasses.replace(manifest, **changes)
  path.write_text(manifest.to_json())


def test_clean_dataset_passes_with_a_row_per_shard(load_tool, capsys, clean_dir):
  code, out = run_verify(load_tool, capsys, '--dataset_dir', str(clean_dir))
  assert code == 0, out
  rows = {line.split()[0]: line.split() for line in out.splitlines() if '.tfrecord' in line}
  assert rows[TRAIN] == [TRAIN, 'train', '6', '6', 'ok', 'ok', '0']
  assert rows[TRAIN_1] == [TRAIN_1, 'train', '6', '6', 'ok', 'ok', '0']
  assert rows[VALIDATION_0][1:4] == ['validation', '2', '2']
  assert '4 shards, 16 examples read' in out
  assert 'OK' in out


def test_flipped_byte_fails_naming_the_file_and_record(load_tool, capsys, copy_of_clean):
  path = copy_of_clean / TRAIN_1
  records = read_records(path)
  # Framing: 8-byte length + 4-byte CRC, data, 4-byte CRC; flip a byte inside record 2's data.
  offset = sum(len(r) + 16 for r in records[:2]) + 12 + len(records[2]) // 2
  data = bytearray(path.read_bytes())
  data[offset] ^= 0xFF
  path.write_bytes(bytes(data))

  code, out = run_verify(load_tool, capsys, '--dataset_dir', str(copy_of_clean))
  assert code != 0
  row = next(line.split() for line in out.splitlines() if line.startswith(TRAIN_1))
  assert row[3:6] == ['>=2', 'BAD', 'BAD']                 # records read, sha256, crc
  assert f'{TRAIN_1}:2: bad data checksum' in out
  assert f'{TRAIN_1}: sha256' in out
  assert not any(line.strip().startswith(TRAIN + ':') for line in out.splitlines())


def test_missing_shard_fails_naming_it(load_tool, capsys, copy_of_clean):
  os.remove(copy_of_clean / VALIDATION_0)
  code, out = run_verify(load_tool, capsys, '--dataset_dir', str(copy_of_clean))
  assert code != 0
  assert f'{VALIDATION_0}: listed in the manifest' in out
  assert 'missing' in next(line for line in out.splitlines() if line.startswith(VALIDATION_0))


def test_manifest_count_off_by_one_fails_naming_the_file(load_tool, capsys, copy_of_clean):
  manifest = manifest_lib.Manifest.from_json(
      (copy_of_clean / schema.manifest_name('toy')).read_text())
  train = manifest.splits['train']
  wrong = dataclasses.replace(train.shards[0], num_examples=train.shards[0].num_examples + 1)
  rewrite_manifest(copy_of_clean, splits=dict(
      manifest.splits, train=dataclasses.replace(train, shards=(wrong,) + train.shards[1:])))

  code, out = run_verify(load_tool, capsys, '--dataset_dir', str(copy_of_clean))
  assert code != 0
  assert f'{TRAIN}: holds 6 records, the manifest says 7' in out
  assert TRAIN_1 + ':' not in out


def test_bad_records_are_named_by_index(load_tool, capsys, tmp_path, write_dataset,
                                        make_example):
  good = make_example(pixels(0), 0)
  undecodable = schema.IMAGE.encode_example({
      schema.ENCODED: b'\x89PNG\r\n\x1a\n but then not a PNG at all', schema.FORMAT: b'png',
      schema.LABEL: 1, schema.HEIGHT: 8, schema.WIDTH: 8})
  out_of_range = make_example(pixels(1), 3)
  wrong_height = make_example(pixels(2), 2, **{schema.HEIGHT: 9})
  no_label = schema.IMAGE.encode_example({
      schema.ENCODED: png(pixels(0)),
      schema.FORMAT: b'png', schema.HEIGHT: 8, schema.WIDTH: 8})
  write_dataset(tmp_path, 'toy', {'train': [good, undecodable, out_of_range, wrong_height,
                                            no_label, good]},
                label_names=LABEL_NAMES)
  name = 'toy_train_00000-of-00001.tfrecord'

  code, out = run_verify(load_tool, capsys, '--dataset_dir', str(tmp_path))
  assert code != 0
  assert f'{name}:1: image does not decode' in out
  assert f'{name}:2: label 3 is outside 0..2' in out
  assert f'{name}:3: image/height is 9 but the image is 8 high' in out
  assert f'{name}:4: no label' in out
  assert f'{name}:0:' not in out and f'{name}:5:' not in out
  row = next(line.split() for line in out.splitlines() if line.startswith(name))
  assert row[2:] == ['6', '6', 'ok', 'ok', '4']

  # Framing and checksums alone find nothing: the file is what the manifest recorded.
  code, out = run_verify(load_tool, capsys, '--dataset_dir', str(tmp_path), '--counts_only')
  assert code == 0, out


def test_label_offset_shifts_the_valid_range(tmp_path, write_dataset, make_example):
  write_dataset(tmp_path, 'offset', {'train': [
      make_example(pixels(0), 1), make_example(pixels(1), 3), make_example(pixels(2), 0)]},
      label_names=LABEL_NAMES, label_offset=1)
  report = verification.verify_dataset(dataset_dir=str(tmp_path))
  assert [(p.record, p.message) for p in report.problems] == [(2, 'label 0 is outside 1..3')]
  assert report.shards[0].bad_records == 1 and report.shards[0].sha256_ok


def test_unlisted_shard_fails_and_hidden_temporaries_do_not(load_tool, capsys, copy_of_clean):
  shutil.copy(copy_of_clean / TRAIN, copy_of_clean / 'toy_train_00002-of-00003.tfrecord')
  os.makedirs(copy_of_clean / '.incomplete')
  shutil.copy(copy_of_clean / TRAIN, copy_of_clean / '.incomplete' / TRAIN)
  (copy_of_clean / 'notes.txt').write_text('not a shard')

  code, out = run_verify(load_tool, capsys, '--dataset_dir', str(copy_of_clean))
  assert code != 0
  assert 'toy_train_00002-of-00003.tfrecord: looks like a shard but no manifest' in out
  assert 'notes.txt' not in out and '.incomplete' not in out


def test_several_manifests_need_a_dataset_name(load_tool, capsys, copy_of_clean, write_dataset,
                                               make_example):
  write_dataset(copy_of_clean, 'other', {'test': [make_example(pixels(0), 0)]},
                label_names=LABEL_NAMES)
  code, out = run_verify(load_tool, capsys, '--dataset_dir', str(copy_of_clean))
  assert code == 2
  assert 'other_manifest.json, toy_manifest.json' in out
  # Each dataset's shards are listed by its own manifest, so neither is "unlisted".
  for name in ('toy', 'other'):
    code, out = run_verify(load_tool, capsys, '--dataset_dir', str(copy_of_clean),
                           '--dataset_name', name)
    assert code == 0, out
    assert out.startswith(f'{name}: ')


def test_folder_without_manifest_is_an_error_saying_what_to_do(load_tool, capsys, tmp_path):
  code, out = run_verify(load_tool, capsys, '--dataset_dir', str(tmp_path))
  assert code == 2
  assert 'no *_manifest.json' in out and 'tools/convert.py' in out
