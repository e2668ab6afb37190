"""Bad data: errors name the shard; with skip_corrupt the bad records are skipped and counted.

Three shards of 8 PNG records (labels 0..23). Faults, each in its own copy:
  crc:       record 3 of shard 1 has a flipped byte, so its CRC fails; TensorFlow cannot
             read past it, so shard 1's records 3..7 are lost (5 records).
  truncated: shard 2 ends in the middle of its last record (1 record lost).
  image:     records 2 and 5 of shard 0 hold bytes that are not an image / a cut PNG.
"""
import os

import pytest
import tensorflow as tf

from descriptors import manifest as manifest_lib
from providers import dataset_data_provider as ddp
from providers import errors
import providers_testlib as lib

PER_SHARD = 8
ALL = set(range(3 * PER_SHARD))


def _copy(files, directory):
  os.makedirs(directory, exist_ok=True)
  out = []
  for f in files:
    target = os.path.join(directory, os.path.basename(f))
    with open(f, 'rb') as src, open(target, 'wb') as dst:
      dst.write(src.read())
    out.append(target)
  return out


@pytest.fixture(scope='module')
def faults(tmp_path_factory):
  root = tmp_path_factory.mktemp('corrupt')
  files, _, records = lib.write_shards(str(root / 'good'), 3, PER_SHARD)
  shard1 = [records[PER_SHARD + i] for i in range(PER_SHARD)]
  shard2 = [records[2 * PER_SHARD + i] for i in range(PER_SHARD)]

  crc = _copy(files, str(root / 'crc'))
  data = bytearray(open(crc[1], 'rb').read())
  data[lib.record_offsets(shard1)[3] + 12 + 20] ^= 0xFF   # inside record 3's data
  open(crc[1], 'wb').write(bytes(data))

  truncated = _copy(files, str(root / 'truncated'))
  cut = lib.record_offsets(shard2)[-1] + 20
  data = open(truncated[2], 'rb').read()[:cut]
  open(truncated[2], 'wb').write(data)

  image = _copy(files, str(root / 'image'))
  shard0 = [records[i] for i in range(PER_SHARD)]
  shard0[2] = lib.example(b'this is not an image', 2)
  shard0[5] = lib.example(lib.png_bytes(_pixels())[:40], 5)
  lib.write_records(image[0], shard0)
  # fault: (files, bad shard, byte offsets of its bad records, labels lost)
  return {'crc': (crc, 1, [lib.record_offsets(shard1)[3]], set(range(11, 16))),
          'truncated': (truncated, 2, [lib.record_offsets(shard2)[-1]], {23}),
          'image': (image, 0, [lib.record_offsets(shard0)[i] for i in (2, 5)], {2, 5})}


def _pixels():
  import numpy as np
  return np.random.RandomState(1).randint(0, 256, (lib.HEIGHT, lib.WIDTH, 3), np.uint8)


def _with_manifest(files):
  """The files as a slimdata-converted split: its manifest knows each shard's count."""
  shards = tuple(manifest_lib.Shard(file=os.path.basename(f), num_examples=PER_SHARD,
                                    sha256='') for f in files)
  manifest = manifest_lib.Manifest(name='test', splits={'train': manifest_lib.Split(shards)})
  ds = lib.dataset(files)
  ds.manifest = manifest
  return ds


def _read_until_error(provider):
  labels = []
  with pytest.raises(errors.CorruptDataError) as info:
    while True:
      labels.append(int(provider.get(['label'])[0]))
  return labels, info.value


@pytest.mark.parametrize('fault', ['crc', 'truncated', 'image'])
def test_eager_error_names_the_record_after_the_good_records_before_it(faults, fault):
  """Images of any size are decoded one by one: the error names the very record."""
  files, shard, offsets, lost = faults[fault]
  provider = ddp.DatasetDataProvider(lib.dataset(files, fixed_shape=False), shuffle=False,
                                     num_epochs=1)
  labels, error = _read_until_error(provider)
  assert isinstance(error, tf.errors.DataLossError)
  assert error.file == files[shard]
  assert f'{files[shard]}:{offsets[0]}' in error.message
  assert labels == list(range(min(lost)))   # everything before the bad record, in order


@pytest.mark.parametrize('fault', ['crc', 'truncated', 'image'])
def test_eager_error_names_the_shard_when_decoding_blocks(faults, fault):
  """Fixed-shape images are decoded 32 at a time: the error names the shard (and the
  block), and comes before the block's first example."""
  files, shard, _, lost = faults[fault]
  provider = ddp.DatasetDataProvider(lib.dataset(files), shuffle=False, num_epochs=1)
  labels, error = _read_until_error(provider)
  assert error.file == files[shard]
  assert labels == list(range(len(labels))) and len(labels) <= min(lost)


@pytest.mark.parametrize('fault', ['crc', 'image'])
def test_graph_error_names_the_shard(faults, fault):
  files, shard, offsets, _ = faults[fault]
  with tf.Graph().as_default():
    provider = ddp.DatasetDataProvider(lib.dataset(files, fixed_shape=False), shuffle=True,
                                       num_epochs=1, num_readers=3)
    [label] = provider.get(['label'])
    with tf.compat.v1.Session() as sess:
      with pytest.raises(tf.errors.InvalidArgumentError) as info:
        lib.drain_session(sess, label)
  assert f'shard {files[shard]} is corrupt' in info.value.message
  assert any(f'{files[shard]}:{o}' in info.value.message for o in offsets)


def test_graph_decode_in_session_names_read_errors_and_decodes_only_what_is_fetched(faults):
  """Decoding in the session, as TF-Slim did: a bad CRC is still named (tf.data reads);
  an undecodable image raises TensorFlow's own error, and only if its image is fetched."""
  def drain(files, items):
    with tf.Graph().as_default():
      provider = ddp.DatasetDataProvider(lib.dataset(files, fixed_shape=False), shuffle=False,
                                         num_epochs=1, decode_in_session=True)
      with tf.compat.v1.Session() as sess:
        return lib.drain_session(sess, provider.get(items))
  crc_files, shard, offsets, _ = faults['crc']
  with pytest.raises(tf.errors.InvalidArgumentError) as info:
    drain(crc_files, ['label'])
  assert f'shard {crc_files[shard]} is corrupt' in info.value.message
  assert f'{crc_files[shard]}:{offsets[0]}' in info.value.message
  image_files, _, _, _ = faults['image']
  assert sorted(int(label) for [label] in drain(image_files, ['label'])) == sorted(ALL)
  with pytest.raises(tf.errors.InvalidArgumentError):
    drain(image_files, ['image', 'label'])


def test_batched_error_names_the_shard(faults):
  files, shard, _, _ = faults['image']
  provider = ddp.DatasetDataProvider(lib.dataset(files), shuffle=False, num_epochs=1)
  with pytest.raises(tf.errors.InvalidArgumentError) as info:
    list(provider.as_dataset(['image', 'label'], batch_size=4))
  assert files[shard] in info.value.message
  assert errors.CorruptDataError.from_op_error(info.value).file == files[shard]


@pytest.mark.parametrize('fault', ['crc', 'truncated', 'image'])
@pytest.mark.parametrize('static,blocks', [(False, True), (True, True), (True, False)])
def test_batches_of_examples_decoded_one_by_one_name_the_record(faults, fault, static,
                                                                blocks):
  """Examples of varying size made batchable by a preprocess_fn: the error names the very
  record, after the good batches. Where the items have a static shape, a batch is decoded
  in one call (unless decode_in_blocks=False), so an undecodable image names its shard and
  batch."""
  files, shard, offsets, lost = faults[fault]
  provider = ddp.DatasetDataProvider(lib.dataset(files, fixed_shape=False), shuffle=False,
                                     num_epochs=1)
  def shrink(e):
    size = [4, 4] if static else tf.shape(e['image'])[:2] // tf.shape(e['image'])[:2] * 4
    return {'label': e['label'], 'image': tf.image.resize(e['image'], size)}
  labels = []
  with pytest.raises(tf.errors.InvalidArgumentError) as info:
    for batch in provider.as_dataset(['image', 'label'], batch_size=4, preprocess_fn=shrink,
                                     decode_in_blocks=blocks):
      assert batch['image'].shape[1:] == [4, 4, 3]
      labels += [int(l) for l in batch['label']]
  if static and blocks and fault == 'image':
    assert f'shard(s) {files[shard]} are corrupt: a record of the batch starting at ' \
        f'{files[shard]}:' in info.value.message
  else:
    assert f'{files[shard]}:{offsets[0]}' in info.value.message
  assert errors.CorruptDataError.from_op_error(info.value).file == files[shard]
  assert labels == list(range(len(labels))) and len(labels) % 4 == 0
  assert min(lost) - 4 < len(labels) <= min(lost)   # every whole batch before the bad record


@pytest.mark.parametrize('fault', ['crc', 'truncated', 'image'])
def test_eager_skip_corrupt_skips_and_counts_exactly(faults, fault):
  files, _, _, lost = faults[fault]
  provider = ddp.DatasetDataProvider(_with_manifest(files), shuffle=True, num_epochs=1,
                                     num_readers=2, skip_corrupt=True)
  labels = [int(l) for [l] in lib.drain_eager(provider, ['label'])]
  assert sorted(labels) == sorted(ALL - lost)
  assert provider.num_skipped == len(lost)


def test_without_a_manifest_a_corrupt_record_counts_one(faults):
  files, _, _, lost = faults['crc']
  provider = ddp.DatasetDataProvider(lib.dataset(files), shuffle=False, num_epochs=1,
                                     skip_corrupt=True)
  labels = [int(l) for [l] in lib.drain_eager(provider, ['label'])]
  assert sorted(labels) == sorted(ALL - lost)
  assert provider.num_skipped == 1


def test_graph_skip_corrupt_count_travels_with_the_examples(faults):
  files, _, _, lost = faults['image']
  with tf.Graph().as_default():
    provider = ddp.DatasetDataProvider(lib.dataset(files), shuffle=False, num_epochs=1,
                                       skip_corrupt=True)
    [label] = provider.get(['label'])
    skipped = provider.num_skipped
    with tf.compat.v1.Session() as sess:
      got = lib.drain_session(sess, [label, skipped])
  assert [int(l) for l, _ in got] == sorted(ALL - lost)
  # Records 2 and 5 were skipped before examples 3 and 6.
  counts = {int(l): int(s) for l, s in got}
  assert (counts[1], counts[3], counts[4], counts[6], counts[23]) == (0, 1, 1, 2, 2)


def test_as_dataset_skip_corrupt_batches_and_counts(faults):
  files, _, _, lost = faults['crc']
  provider = ddp.DatasetDataProvider(_with_manifest(files), shuffle=False, num_epochs=1,
                                     skip_corrupt=True)
  batches = list(provider.as_dataset(['label', 'num_skipped'], batch_size=6))
  labels = [int(l) for b in batches for l in b['label']]
  assert labels == sorted(ALL - lost)
  assert int(batches[-1]['num_skipped'][-1]) == len(lost)
