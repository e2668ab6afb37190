"""parallel_reader: file lists, the tf.data record stream, TF-Slim's read functions and queue."""
import os

import pytest
import tensorflow as tf

from providers import parallel_reader
import providers_testlib as lib

NUM_SHARDS, PER_SHARD = 3, 4


@pytest.fixture(scope='module')
def shards(tmp_path_factory):
  return lib.write_shards(str(tmp_path_factory.mktemp('reader')), NUM_SHARDS, PER_SHARD)


def test_get_data_files_expands_globs_sorted_and_keeps_list_order(shards):
  files, _, _ = shards
  directory = os.path.dirname(files[0])
  assert parallel_reader.get_data_files(os.path.join(directory, 'data-*')) == files
  assert parallel_reader.get_data_files([files[2], files[0]]) == [files[2], files[0]]
  assert parallel_reader.get_data_files(files[1]) == [files[1]]
  with pytest.raises(ValueError, match='No data files found'):
    parallel_reader.get_data_files(os.path.join(directory, 'nothing-*'))


def test_read_records_keys_records_and_order(shards):
  files, _, records = shards
  stream = list(parallel_reader.read_records(files, shuffle=False, num_epochs=1))
  assert [e['record'].numpy() for e in stream] == [records[i] for i in range(12)]
  offsets = lib.record_offsets([records[i] for i in range(PER_SHARD)])
  assert [e['key'].numpy().decode() for e in stream[:PER_SHARD]] == [
      f'{files[0]}:{o}' for o in offsets]
  assert all(int(e['skipped']) == 0 for e in stream)


def test_read_records_interleaves_num_readers_files_a_block_at_a_time(shards, monkeypatch):
  files, _, records = shards
  monkeypatch.setattr(parallel_reader, '_READ_BLOCK', 2)
  stream = list(parallel_reader.read_records(files, shuffle=False, num_epochs=1,
                                             num_readers=2))
  got = [e['record'].numpy() for e in stream]
  # Files 0 and 1 take turns, two records at a time; then file 2 takes file 0's place.
  assert got[:8] == [records[i] for i in (0, 1, 4, 5, 2, 3, 6, 7)]
  assert sorted(got) == sorted(records.values())


def test_read_blocks_hold_about_256_kb_when_the_record_count_is_known():
  blocks = [int(parallel_reader._read_block(tf.constant(size, tf.int64),
                                            tf.constant(count, tf.int64)))
            for size, count in [(100 << 20, 1000), (1 << 20, 10000), (500, 1), (1000, -1),
                                (-1, 5)]]
  # 100 KB records: 2 per block; 100-byte records: at most 256; unknown count: 16.
  assert blocks == [2, 256, 256, 16, 16]


def test_parallel_read_in_graph_mode(shards):
  files, _, records = shards
  with tf.Graph().as_default():
    key, value = parallel_reader.parallel_read(files, tf.compat.v1.TFRecordReader,
                                               num_epochs=2, num_readers=2, shuffle=True,
                                               seed=5)
    with tf.compat.v1.Session() as sess:
      got = lib.drain_session(sess, [key, value])
  assert sorted(v for _, v in got) == sorted(list(records.values()) * 2)
  assert all(k.decode().split(':')[0] in files for k, _ in got)


def test_parallel_read_checks_dtypes_and_refuses_eager(shards):
  files, _, _ = shards
  with tf.Graph().as_default():
    with pytest.raises(ValueError, match='dtypes'):
      parallel_reader.parallel_read(files, tf.compat.v1.TFRecordReader,
                                    dtypes=[tf.string, tf.int64])
  with pytest.raises(RuntimeError, match='graph'):
    parallel_reader.parallel_read(files, tf.compat.v1.TFRecordReader)


def test_single_pass_read_reads_once_in_order(shards):
  files, _, records = shards
  with tf.Graph().as_default():
    _, value = parallel_reader.single_pass_read(files, tf.data.TFRecordDataset)
    with tf.compat.v1.Session() as sess:
      got = lib.drain_session(sess, value)
  assert got == [records[i] for i in range(12)]


def test_parallel_reader_queue_class_under_queue_runners(shards):
  """TF-Slim's queue-based ParallelReader, unchanged, with slim.queues.QueueRunners."""
  from slimdata import queues
  files, _, records = shards
  with tf.Graph().as_default():
    filenames = tf.compat.v1.train.string_input_producer(files, num_epochs=1, shuffle=False)
    common = tf.queue.FIFOQueue(capacity=8, dtypes=[tf.string, tf.string])
    reader = parallel_reader.ParallelReader(tf.compat.v1.TFRecordReader, common, num_readers=2)
    key, value = reader.read(filenames)
    produced = reader.num_records_produced()
    with tf.compat.v1.Session() as sess:
      sess.run(tf.compat.v1.local_variables_initializer())
      with queues.QueueRunners(sess):
        got = lib.drain_session(sess, [key, value])
      assert sess.run(produced) == 12
  assert sorted(v for _, v in got) == sorted(records.values())
  with pytest.raises(TypeError, match='dtypes'):
    parallel_reader.ParallelReader(tf.compat.v1.TFRecordReader,
                                   tf.queue.FIFOQueue(capacity=2, dtypes=[tf.string]))


def test_record_sharding_when_fewer_files_than_workers(shards):
  files, _, records = shards
  parts = [set(e['record'].numpy() for e in parallel_reader.read_records(
      files[:1], shuffle=False, num_epochs=1, num_shards=3, shard_index=i)) for i in range(3)]
  assert [len(p) for p in parts] == [2, 1, 1]
  assert set().union(*parts) == {records[i] for i in range(PER_SHARD)}


def test_reader_mapping():
  _, checked = parallel_reader.record_dataset_fn(tf.compat.v1.TFRecordReader)
  assert checked
  _, checked = parallel_reader.record_dataset_fn(
      tf.compat.v1.TFRecordReader,
      {'options': tf.io.TFRecordOptions(compression_type='ZLIB')})
  assert not checked   # compressed sizes say nothing about records
  _, checked = parallel_reader.record_dataset_fn(tf.data.TextLineDataset)
  assert not checked
  with pytest.raises(ValueError, match='not TFRecordReader arguments'):
    parallel_reader.record_dataset_fn(tf.compat.v1.TFRecordReader, {'buffer': 1})


def test_max_records_is_the_manifest_total_else_a_bound_from_file_sizes(shards):
  files, _, records = shards
  counts = {os.path.basename(f): PER_SHARD for f in files}
  assert parallel_reader.max_records(files, records_per_file=counts) == NUM_SHARDS * PER_SHARD
  # Without counts for every file: each record takes at least its 16 bytes of framing.
  bound = parallel_reader.max_records(files, tf.compat.v1.TFRecordReader,
                                      records_per_file={os.path.basename(files[0]): 4})
  framed = sum(len(r) + 16 for r in records.values())
  assert bound == framed // 16 and bound >= NUM_SHARDS * PER_SHARD
  # Compressed records can be smaller than their framing: no bound.
  assert parallel_reader.max_records(files, tf.data.TFRecordDataset,
                                     {'compression_type': 'GZIP'}) is None
