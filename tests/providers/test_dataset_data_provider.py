"""DatasetDataProvider: TF-Slim's semantics on tf.data, in graph and eager mode."""
import collections

import numpy as np
import pytest
import tensorflow as tf

from descriptors import dataset as dataset_lib
from descriptors import schema
from descriptors import tfexample_decoder as td
from providers import dataset_data_provider as ddp
from providers import errors
import providers_testlib as lib

NUM_SHARDS, PER_SHARD = 3, 8
TOTAL = NUM_SHARDS * PER_SHARD


@pytest.fixture(scope='module')
def shards(tmp_path_factory):
  return lib.write_shards(str(tmp_path_factory.mktemp('shards')), NUM_SHARDS, PER_SHARD)


@pytest.fixture(scope='module')
def dataset(shards):
  files, _, _ = shards
  return lib.dataset(files, num_samples=TOTAL)


def _labels(examples):
  return [int(e[0]) for e in examples]


# --- eager ---------------------------------------------------------------------

def test_eager_unshuffled_single_epoch_yields_each_example_once_in_order(dataset, shards):
  _, pixels, _ = shards
  provider = ddp.DatasetDataProvider(dataset, shuffle=False, num_epochs=1)
  got = lib.drain_eager(provider, ['label', 'image'])
  # One reader reads the shards one after another, in file order.
  assert _labels(got) == list(range(TOTAL))
  for label, image in got:
    np.testing.assert_array_equal(image, pixels[int(label)])   # PNG is lossless
  with pytest.raises(tf.errors.OutOfRangeError):
    provider.get(['label'])


def test_eager_shuffle_gives_the_same_set_in_another_order(dataset):
  provider = ddp.DatasetDataProvider(dataset, shuffle=True, num_epochs=2, num_readers=2)
  labels = _labels(lib.drain_eager(provider, ['label']))
  assert collections.Counter(labels) == collections.Counter(list(range(TOTAL)) * 2)
  assert labels[:TOTAL] != list(range(TOTAL))


def test_eager_seed_gives_the_same_order_every_time_and_another_seed_another(dataset):
  def order(seed):
    provider = ddp.DatasetDataProvider(dataset, shuffle=True, num_epochs=1, num_readers=2,
                                       seed=seed)
    return _labels(lib.drain_eager(provider, ['label']))
  first = order(7)
  assert order(7) == first
  assert sorted(first) == list(range(TOTAL))
  assert order(8) != first


def test_record_key_is_file_and_byte_offset_like_tfrecordreader(dataset, shards):
  files, _, records = shards
  provider = ddp.DatasetDataProvider(dataset, shuffle=False, num_epochs=1)
  got = lib.drain_eager(provider, ['label', 'record_key'])
  offsets = lib.record_offsets([records[i] for i in range(PER_SHARD)])
  assert got[1][1].decode() == f'{files[0]}:{offsets[1]}'
  # The same keys as TF-Slim's reader gave, read by a real TFRecordReader.
  with tf.Graph().as_default():
    queue = tf.compat.v1.train.string_input_producer(files[:1], num_epochs=1, shuffle=False)
    key, _ = tf.compat.v1.TFRecordReader().read(queue)
    with tf.compat.v1.Session() as sess:
      sess.run(tf.compat.v1.local_variables_initializer())
      coord = tf.compat.v1.train.Coordinator()
      threads = tf.compat.v1.train.start_queue_runners(sess, coord)
      reader_keys = [sess.run(key) for _ in range(PER_SHARD)]
      coord.request_stop()
      coord.join(threads)
  assert [k for _, k in got[:PER_SHARD]] == reader_keys


def test_record_key_cannot_name_a_dataset_item(dataset):
  with pytest.raises(ValueError, match='record_key'):
    ddp.DatasetDataProvider(dataset, record_key='label')


def test_custom_record_key_name(dataset):
  provider = ddp.DatasetDataProvider(dataset, shuffle=False, num_epochs=1, record_key='where')
  assert set(provider.list_items()) == {'image', 'label', 'where'}
  [key] = provider.get(['where'])
  assert key.numpy().decode().startswith(dataset.data_sources[0] + ':0')


def test_unknown_items_and_bad_arguments_fail_before_reading(dataset):
  provider = ddp.DatasetDataProvider(dataset, shuffle=False)
  with pytest.raises(ValueError, match="unknown item 'mask'"):
    provider.get(['mask'])
  with pytest.raises(ValueError, match='list or tuple'):
    provider.get('label')
  for kwargs, match in [({'num_readers': 0}, 'num_readers'), ({'num_epochs': 0}, 'num_epochs'),
                        ({'num_shards': 2, 'shard_index': 2}, 'shard_index'),
                        ({'common_queue_capacity': 0}, 'capacity'),
                        ({'num_parallel_calls': -3}, 'num_parallel_calls')]:
    with pytest.raises(ValueError, match=match):
      ddp.DatasetDataProvider(dataset, **kwargs)
  with pytest.raises(ValueError, match='No data files found'):
    ddp.DatasetDataProvider(lib.dataset(dataset.data_sources[0] + '.missing*'))
  with pytest.raises(FileNotFoundError, match='nothere.tfrecord'):
    ddp.DatasetDataProvider(lib.dataset(['/nonexistent/nothere.tfrecord']))


def test_num_samples_and_list_items(dataset):
  provider = ddp.DatasetDataProvider(dataset)
  assert provider.num_samples() == TOTAL
  assert provider.list_items() == ['image', 'label', 'record_key']


@pytest.mark.parametrize('reader', [tf.compat.v1.TFRecordReader, tf.data.TFRecordDataset])
def test_reader_may_be_the_queue_reader_class_or_a_tf_data_class(shards, reader, tmp_path):
  files, _, records = shards
  gz = lib.write_records(str(tmp_path / 'data.tfrecord.gz'),
                         [records[i] for i in range(PER_SHARD)],
                         tf.io.TFRecordOptions(compression_type='GZIP'))
  plain = ddp.DatasetDataProvider(lib.dataset(files[:1], reader=reader), shuffle=False,
                                  num_epochs=1)
  assert _labels(lib.drain_eager(plain, ['label'])) == list(range(PER_SHARD))
  # reader_kwargs reach the reader: the old reader's options, or the dataset's arguments.
  kwargs = ({'options': tf.io.TFRecordOptions(compression_type='GZIP')}
            if reader is tf.compat.v1.TFRecordReader else {'compression_type': 'GZIP'})
  zipped = ddp.DatasetDataProvider(lib.dataset([gz], reader=reader), reader_kwargs=kwargs,
                                   shuffle=False, num_epochs=1)
  assert _labels(lib.drain_eager(zipped, ['label'])) == list(range(PER_SHARD))


def test_queue_readers_without_a_tf_data_equivalent_are_refused(dataset):
  ds = lib.dataset(dataset.data_sources, reader=tf.compat.v1.WholeFileReader)
  with pytest.raises(errors.ReaderError, match='WholeFileReader'):
    ddp.DatasetDataProvider(ds)


@pytest.mark.parametrize('num_shards', [2, 5])
def test_num_shards_give_disjoint_parts_that_cover_the_data(dataset, num_shards):
  """2 shards split the 3 files; 5 (more than files) split each file's records."""
  parts = []
  for index in range(num_shards):
    provider = ddp.DatasetDataProvider(dataset, num_epochs=1, num_shards=num_shards,
                                       shard_index=index, num_readers=2)
    parts.append({int(e['label']) for e in provider.as_dataset(['label'])})
  assert all(parts)
  assert sum(len(p) for p in parts) == TOTAL
  assert set().union(*parts) == set(range(TOTAL))


def test_as_dataset_yields_dicts_and_batches_equal_the_examples(dataset):
  provider = ddp.DatasetDataProvider(dataset, shuffle=False, num_epochs=1)
  examples = list(provider.as_dataset(['image', 'label']))
  assert set(examples[0]) == {'image', 'label'}
  assert examples[0]['image'].shape == (lib.HEIGHT, lib.WIDTH, 3)
  batches = list(provider.as_dataset(['image', 'label', 'record_key'], batch_size=5))
  assert [len(b['label']) for b in batches] == [5, 5, 5, 5, 4]
  np.testing.assert_array_equal(np.concatenate([b['image'] for b in batches]),
                                np.stack([e['image'] for e in examples]))
  np.testing.assert_array_equal(np.concatenate([b['label'] for b in batches]),
                                [e['label'] for e in examples])
  dropped = list(provider.as_dataset(['label'], batch_size=5, drop_remainder=True))
  assert len(dropped) == 4
  assert provider.as_dataset(['label'], batch_size=5,
                             drop_remainder=True).element_spec['label'].shape == [5]


def _pipeline_graph(ds):
  """`ds`'s graph: its nodes in order, and by name."""
  graph = tf.compat.v1.GraphDef.FromString(ds._as_serialized_graph().numpy())
  return list(graph.node), {n.name: n for n in graph.node}


def _constant(by_name, node_input):
  """The value of the constant that feeds the input `node_input` of a node."""
  return tf.make_ndarray(by_name[node_input.split(':')[0]].attr['value'].tensor)


def _final_prefetch_buffer(ds):
  """The buffer_size of the PrefetchDataset that ends `ds`'s graph."""
  graph, nodes = _pipeline_graph(ds)
  last = nodes[next(n.input[0] for n in graph if n.op == '_Retval')]
  last = nodes[last.input[0]] if last.op == 'Identity' else last
  assert last.op == 'PrefetchDataset', last.op
  return _constant(nodes, last.input[1])


def test_as_dataset_prefetches_a_fixed_buffer_not_autotune(dataset, shards):
  """AUTOTUNE grows the buffer while the consumer waits and fills it when it pauses
  (bench/read_bench.py: +1.4 GiB over eight pauses on flowers-like data). Examples
  decoded one by one (large images, typically) are buffered by rounds of decodes."""
  provider = ddp.DatasetDataProvider(dataset, shuffle=False)
  assert _final_prefetch_buffer(provider.as_dataset(['image'], batch_size=5)) == 2
  assert _final_prefetch_buffer(provider.as_dataset(['image'])) == 2 * ddp._DECODE_BLOCK
  one_by_one = ddp.DatasetDataProvider(lib.dataset(shards[0], fixed_shape=False),
                                       num_parallel_calls=3)
  assert _final_prefetch_buffer(one_by_one.as_dataset(['image'])) == 6


def _stages_after_decode(ds):
  """The dataset ops from `ds`'s end back to its parallel decode map."""
  graph, nodes = _pipeline_graph(ds)
  node = nodes[next(n.input[0] for n in graph if n.op == '_Retval')]
  ops = []
  while not node.op.startswith('ParallelMapDataset'):
    ops.append(node.op)
    inputs = [nodes[i.split(':')[0]] for i in node.input if not i.startswith('^')]
    node = next(i for i in inputs if 'Dataset' in i.op and i.op != 'RangeDataset')
  return ops


def test_examples_decoded_one_by_one_pass_one_function_per_example_after_decoding(
    shards, tmp_path):
  """Each tf.data stage that calls a function costs ~30 us of CPU per example: after the
  decode, `get` has only the check (a filter), `as_dataset` the check and the selection,
  and where nothing can be checked (compressed shards) `as_dataset` has none."""
  files, _, records = shards
  provider = ddp.DatasetDataProvider(lib.dataset(files, fixed_shape=False), shuffle=False)
  calls = lambda ds: [op for op in _stages_after_decode(ds)  # noqa: E731
                      if op in ('MapDataset', 'FilterDataset', 'ScanDataset')]
  assert calls(provider._build(provider.list_items(), select=False)) == ['FilterDataset']
  assert calls(provider.as_dataset()) == ['MapDataset', 'FilterDataset']
  # Compressed shards cannot be checked: the decode itself picks the items.
  options = tf.io.TFRecordOptions(compression_type='GZIP')
  gz = lib.write_records(str(tmp_path / 'data.tfrecord.gz'),
                         [records[i] for i in range(PER_SHARD)], options)
  zipped = ddp.DatasetDataProvider(lib.dataset([gz], fixed_shape=False), shuffle=False,
                                   num_epochs=1, reader_kwargs={'options': options})
  items = ['image', 'label', 'record_key']
  assert calls(zipped.as_dataset(items)) == []
  got = [(e['image'].shape, int(e['label']), e['record_key'].numpy().decode())
         for e in zipped.as_dataset(items)]
  assert got == [((lib.HEIGHT, lib.WIDTH, 3), i, f'{gz}:{i}') for i in range(PER_SHARD)]
  graph = tf.Graph()
  with graph.as_default():
    provider = ddp.DatasetDataProvider(lib.dataset(files, fixed_shape=False), shuffle=False,
                                       num_epochs=1)
    image, label, key = provider.get(['image', 'label', 'record_key'])
    with tf.compat.v1.Session() as sess:
      first = sess.run([image, label, key])
  eager = ddp.DatasetDataProvider(lib.dataset(files, fixed_shape=False), shuffle=False)
  expected = eager.get(['image', 'label', 'record_key'])
  np.testing.assert_array_equal(first[0], expected[0])
  assert (first[1], first[2]) == (expected[1].numpy(), expected[2].numpy())


def _record_blocks(ds):
  """The batch sizes of `ds`'s batch stages: the blocks its records are decoded in."""
  graph, nodes = _pipeline_graph(ds)
  return [int(_constant(nodes, n.input[1])) for n in graph if n.op.startswith('BatchDataset')]


@pytest.mark.parametrize('side,batch_size,block', [
    (lib.HEIGHT, 32, 512), (lib.HEIGHT, 600, 600), (lib.HEIGHT, 100, 500),
    (256, 5, 125), (256, 32, 128), (256, 200, 200)])
def test_blocks_are_larger_for_small_records(shards, side, batch_size, block):
  """Records are decoded in whole batches of at least 128 records, and up to 512 while a
  block's decoded items fit in 2 MiB (each block pays the pipeline's stages once)."""
  files, _, _ = shards
  decoder = td.TFExampleDecoder(schema.IMAGE.keys_to_features(), {
      'image': td.Image(shape=[side, side, 3], channels=3), 'label': td.Tensor(schema.LABEL)})
  dataset = dataset_lib.Dataset(files, tf.compat.v1.TFRecordReader, decoder, TOTAL, {})
  provider = ddp.DatasetDataProvider(dataset, shuffle=False)
  assert _record_blocks(provider.as_dataset(['image', 'label'], batch_size=batch_size)) == [
      block]


def test_small_batches_are_decoded_several_at_a_time_and_split_again(dataset):
  """Batches of 5 tiny images are parsed in blocks of 510 (parsing costs the same for 5 or
  125 records); the split gives the batches batching the examples would give."""
  epochs = ddp._MAX_PARSE_BLOCK // TOTAL + 2
  provider = ddp.DatasetDataProvider(dataset, shuffle=False, num_epochs=epochs)
  assert _record_blocks(provider.as_dataset(['image', 'label'], batch_size=5)) == [510]
  labels = [int(e['label']) for e in provider.as_dataset(['label'])]
  assert len(labels) == epochs * TOTAL > ddp._MAX_PARSE_BLOCK
  batches = list(provider.as_dataset(['image', 'label'], batch_size=5))
  assert [len(b['label']) for b in batches] == [5] * (len(labels) // 5) + [len(labels) % 5]
  assert np.concatenate([b['label'] for b in batches]).tolist() == labels
  assert all(b['image'].shape[1:] == (lib.HEIGHT, lib.WIDTH, 3) for b in batches)
  dropped = provider.as_dataset(['label'], batch_size=5, drop_remainder=True)
  assert dropped.element_spec['label'].shape == [5]
  assert np.concatenate([b['label'] for b in dropped]).tolist() == labels[:len(labels) // 5 * 5]


def test_as_dataset_without_decode_batch_decodes_then_batches(dataset, shards):
  """Images without a fixed shape cannot be decoded as a batch; a preprocess_fn makes
  them batchable, as resizing does for flowers."""
  files, pixels, _ = shards
  provider = ddp.DatasetDataProvider(lib.dataset(files, fixed_shape=False), shuffle=False,
                                     num_epochs=1)

  def double(example):
    return {'image': tf.image.resize(example['image'], [12, 10], method='nearest'),
            'label': example['label']}
  batches = list(provider.as_dataset(['image', 'label'], batch_size=8, preprocess_fn=double))
  assert [b['image'].shape for b in batches] == [(8, 12, 10, 3)] * 3
  np.testing.assert_array_equal(batches[1]['image'][0][::2, ::2], pixels[8])


def _shrink(example):
  """A preprocess_fn: decoded examples of a fixed shape, so they can be batched."""
  return {'image': tf.image.resize(example['image'], [4, 5], method='nearest'),
          'label': example['label']}


def test_examples_decoded_one_by_one_are_batched_then_checked_as_batches(shards):
  """Examples decoded one at a time, with a batch_size, are checked a batch at a time:
  the batches are those of decoding then batching, the last shorter or dropped."""
  files, _, _ = shards
  provider = ddp.DatasetDataProvider(lib.dataset(files, fixed_shape=False), shuffle=False,
                                     num_epochs=1)
  batches = list(provider.as_dataset(['image', 'label', 'record_key'], batch_size=5,
                                     preprocess_fn=_shrink))
  assert [len(b['label']) for b in batches] == [5, 5, 5, 5, 4]
  assert [int(l) for b in batches for l in b['label']] == list(range(TOTAL))
  keys = [k.decode() for b in batches for k in b['record_key'].numpy()]
  assert len(set(keys)) == TOTAL and keys[0] == f'{files[0]}:0'
  dropped = provider.as_dataset(['image', 'label'], batch_size=5, drop_remainder=True,
                                preprocess_fn=_shrink)
  assert dropped.element_spec['label'].shape == [5]
  assert [int(l) for b in dropped for l in b['label']] == list(range(20))
  exact = list(provider.as_dataset(['image', 'label'], batch_size=8, drop_remainder=True,
                                   preprocess_fn=_shrink))
  assert [len(b['label']) for b in exact] == [8, 8, 8]


def _decoded_rank(ds):
  """The largest rank of what `ds`'s parallel decode map outputs: 4 where it decodes a
  batch of images per call, 3 where one image."""
  graph, _ = _pipeline_graph(ds)
  decode = next(n for n in graph if n.op.startswith('ParallelMapDataset'))
  return max(len(shape.dim) for shape in decode.attr['output_shapes'].list.shape)


@pytest.mark.parametrize('parallel,calls', [(1, 1), (4, 2), (16, 4), (tf.data.AUTOTUNE,
                                                                      tf.data.AUTOTUNE)])
def test_blocks_decoded_at_once_are_half_the_parallel_calls_and_at_most_four(
    shards, parallel, calls):
  """Each block call keeps the cores busy by itself and holds a block's images."""
  files, _, _ = shards
  provider = ddp.DatasetDataProvider(lib.dataset(files, fixed_shape=False), shuffle=False,
                                     num_parallel_calls=parallel)
  ds = provider.as_dataset(['image', 'label'], batch_size=5, preprocess_fn=_shrink)
  graph, nodes = _pipeline_graph(ds)
  decode = next(n for n in graph if n.op.startswith('ParallelMapDataset'))
  assert int(_constant(nodes, decode.input[-1])) == calls


def test_batches_of_static_shape_decode_a_block_per_call(shards, tmp_path):
  """Where preprocess_fn gives every item a static shape, a block of records is decoded
  and preprocessed in one function call (a tf.data stage costs ~30 us per element), on
  checked and on compressed shards, giving the same batches; batches larger than a block
  are merged. With decode_in_blocks=False, examples are decoded one by one."""
  files, _, records = shards
  provider = ddp.DatasetDataProvider(lib.dataset(files, fixed_shape=False), shuffle=False,
                                     num_epochs=3)
  blocks = provider.as_dataset
  assert _decoded_rank(blocks(['image', 'label'], batch_size=5, preprocess_fn=_shrink)) == 4
  assert _decoded_rank(provider.as_dataset(['image', 'label'], batch_size=5,
                                           preprocess_fn=_shrink, decode_in_blocks=False)) == 3
  assert _decoded_rank(blocks(['image', 'label'], preprocess_fn=_shrink)) == 3  # no batch_size

  def dynamic(example):   # the same size, known only when it runs
    size = tf.shape(example['image'])[:2] // tf.shape(example['image'])[:2] * [4, 5]
    return {'image': tf.image.resize(example['image'], size, method='nearest'),
            'label': example['label']}
  per_example = blocks(['image', 'label'], batch_size=5, preprocess_fn=dynamic)
  assert _decoded_rank(per_example) == 3
  stacked = blocks(['image', 'label'], batch_size=5, preprocess_fn=_shrink)
  for a, b in zip(per_example, stacked, strict=True):
    np.testing.assert_array_equal(a['image'], b['image'])
    np.testing.assert_array_equal(a['label'], b['label'])
  big = list(blocks(['image', 'label'], batch_size=40, preprocess_fn=_shrink))
  assert ddp._DECODE_BLOCK < 40
  assert [len(b['label']) for b in big] == [40, 3 * TOTAL - 40]
  assert [int(l) for b in big for l in b['label']] == list(range(TOTAL)) * 3
  np.testing.assert_array_equal(big[0]['image'][TOTAL + 8], big[0]['image'][8])
  options = tf.io.TFRecordOptions(compression_type='GZIP')
  gz = lib.write_records(str(tmp_path / 'data.tfrecord.gz'),
                         [records[i] for i in range(PER_SHARD)], options)
  zipped = ddp.DatasetDataProvider(lib.dataset([gz], fixed_shape=False), shuffle=False,
                                   num_epochs=1, reader_kwargs={'options': options})
  batches = zipped.as_dataset(['image', 'label'], batch_size=5, preprocess_fn=_shrink)
  assert _decoded_rank(batches) == 4
  assert [int(l) for b in batches for l in b['label']] == list(range(PER_SHARD))


def test_batches_of_examples_decoded_one_by_one_pass_the_sentinels(shards):
  """Batches of one cross the sentinel blocks the check inserts every 256 blocks (and
  the one at the end): each example comes exactly num_epochs times, nothing else."""
  files, _, _ = shards
  epochs = 12   # 288 records: one sentinel block on the way, one at the end
  provider = ddp.DatasetDataProvider(lib.dataset(files, fixed_shape=False), shuffle=True,
                                     seed=3, num_epochs=epochs, num_readers=2)
  batches = list(provider.as_dataset(['image', 'label'], batch_size=1, preprocess_fn=_shrink))
  assert all(len(b['label']) == 1 for b in batches)
  counts = collections.Counter(int(b['label'][0]) for b in batches)
  assert counts == {label: epochs for label in range(TOTAL)}


def test_examples_of_no_fixed_shape_are_checked_one_by_one_then_batched(shards):
  """Without a fixed shape a sentinel's stand-in could not join a batch: the examples
  are checked one at a time and then batched (same-sized images batch fine)."""
  files, pixels, _ = shards
  provider = ddp.DatasetDataProvider(lib.dataset(files, fixed_shape=False), shuffle=False,
                                     num_epochs=1)
  batches = list(provider.as_dataset(['image', 'label'], batch_size=10))
  assert [len(b['label']) for b in batches] == [10, 10, 4]
  np.testing.assert_array_equal(batches[2]['image'][0], pixels[20])


def test_eager_skip_count_is_zero_on_good_data(dataset):
  provider = ddp.DatasetDataProvider(dataset, shuffle=False, num_epochs=1, skip_corrupt=True)
  assert len(lib.drain_eager(provider, ['label'])) == TOTAL
  assert provider.num_skipped == 0


# --- graph mode ----------------------------------------------------------------

def test_graph_unshuffled_epoch_then_out_of_range_without_any_initializer(dataset):
  with tf.Graph().as_default():
    provider = ddp.DatasetDataProvider(dataset, shuffle=False, num_epochs=1)
    [label] = provider.get(['label'])
    with tf.compat.v1.Session() as sess:   # no initializer run at all
      assert lib.drain_session(sess, label).__len__() == TOTAL


def test_graph_separate_get_calls_give_fields_of_the_same_example(dataset, shards):
  _, pixels, _ = shards
  with tf.Graph().as_default():
    provider = ddp.DatasetDataProvider(dataset, shuffle=True, num_epochs=1, num_readers=3)
    [image] = provider.get(['image'])
    [label] = provider.get(['label'])
    [key] = provider.get(['record_key'])
    with tf.compat.v1.Session() as sess:
      sess.run([tf.compat.v1.global_variables_initializer(),
                tf.compat.v1.local_variables_initializer()])
      got = lib.drain_session(sess, [image, label, key])
  assert sorted(int(l) for _, l, _ in got) == list(range(TOTAL))
  for image_value, label_value, key_value in got:
    np.testing.assert_array_equal(image_value, pixels[int(label_value)])
    shard = int(label_value) // PER_SHARD
    assert key_value.decode().startswith(dataset.data_sources[shard] + ':')


def test_graph_num_epochs_gives_every_example_exactly_that_many_times(dataset):
  with tf.Graph().as_default():
    provider = ddp.DatasetDataProvider(dataset, shuffle=True, num_epochs=3, num_readers=2)
    [label] = provider.get(['label'])
    with tf.compat.v1.Session() as sess:
      labels = [int(v) for v in lib.drain_session(sess, label)]
  assert collections.Counter(labels) == {i: 3 for i in range(TOTAL)}


def test_graph_seed_gives_the_same_order_in_every_graph(dataset):
  def order():
    with tf.Graph().as_default():
      provider = ddp.DatasetDataProvider(dataset, shuffle=True, num_epochs=1, num_readers=2,
                                         seed=3)
      [label] = provider.get(['label'])
      with tf.compat.v1.Session() as sess:
        return [int(v) for v in lib.drain_session(sess, label)]
  first = order()
  assert order() == first and sorted(first) == list(range(TOTAL))


def test_graph_as_dataset_is_usable_with_a_v1_iterator(dataset):
  with tf.Graph().as_default():
    provider = ddp.DatasetDataProvider(dataset, shuffle=False, num_epochs=1)
    batch = tf.compat.v1.data.make_one_shot_iterator(
        provider.as_dataset(['label'], batch_size=10)).get_next()
    with tf.compat.v1.Session() as sess:
      sizes = [len(b['label']) for b in lib.drain_session(sess, batch)]
  assert sizes == [10, 10, 4]


def test_get_from_another_graph_is_refused(dataset):
  with tf.Graph().as_default():
    provider = ddp.DatasetDataProvider(dataset)
  with tf.Graph().as_default():
    with pytest.raises(RuntimeError, match='another graph'):
      provider.get(['label'])


def test_train_batch_under_queue_runners(dataset):
  from slimdata import queues
  with tf.Graph().as_default():
    provider = ddp.DatasetDataProvider(dataset, shuffle=True, num_epochs=1, num_readers=2,
                                       seed=1)
    image, label = provider.get(['image', 'label'])
    images, labels = tf.compat.v1.train.batch([image, label], batch_size=5, num_threads=2,
                                              allow_smaller_final_batch=True)
    with tf.compat.v1.Session() as sess:
      sess.run(tf.compat.v1.local_variables_initializer())   # train.batch's own epoch var
      with queues.QueueRunners(sess):
        got = lib.drain_session(sess, [images, labels])
  assert [len(l) for _, l in got][:4] == [5, 5, 5, 5]
  assert sorted(int(x) for _, l in got for x in l) == list(range(TOTAL))
  assert got[0][0].shape == (5, lib.HEIGHT, lib.WIDTH, 3)


def _drain_graph(dataset, fetch_items, num_epochs=1, **kwargs):
  with tf.Graph().as_default():
    provider = ddp.DatasetDataProvider(dataset, num_epochs=num_epochs, **kwargs)
    fetches = provider.get(fetch_items)
    with tf.compat.v1.Session() as sess:
      return lib.drain_session(sess, fetches), tf.compat.v1.get_default_graph()


@pytest.mark.parametrize('fixed_shape', [True, False])
def test_decode_in_session_gives_what_the_pipeline_gives(shards, fixed_shape):
  files, pixels, _ = shards
  data = lib.dataset(files, fixed_shape=fixed_shape)
  items = ['image', 'label', 'record_key']
  in_session, graph = _drain_graph(data, items, shuffle=False, decode_in_session=True)
  in_pipeline, _ = _drain_graph(data, items, shuffle=False)
  validated, _ = _drain_graph(data, ['label', 'record_key'], shuffle=False,
                              decode_in_session=True, validate_records=True)
  assert len(in_session) == TOTAL
  assert validated == [[label, key] for _, label, key in in_session]
  for (image, label, key), (image2, label2, key2) in zip(in_session, in_pipeline):
    assert (label, key) == (label2, key2)
    np.testing.assert_array_equal(image, image2)
    np.testing.assert_array_equal(image, pixels[int(label)])
  # The decode runs in the session's graph; the tf.data functions only read.
  assert any(op.type == 'ParseExampleV2' for op in graph.get_operations())
  functions = graph.as_graph_def().library.function
  assert not any(node.op == 'ParseExampleV2' for f in functions for node in f.node_def)


def test_decode_in_session_epochs_and_train_batch_threads(dataset):
  from slimdata import queues
  again, _ = _drain_graph(dataset, ['label'], num_epochs=2, shuffle=True, num_readers=2,
                          decode_in_session=True)
  assert collections.Counter(int(v) for [v] in again) == {i: 2 for i in range(TOTAL)}
  with tf.Graph().as_default():
    provider = ddp.DatasetDataProvider(dataset, shuffle=True, num_epochs=1, num_readers=2,
                                       decode_in_session=True)
    image, label = provider.get(['image', 'label'])
    images, labels = tf.compat.v1.train.batch(
        [tf.image.resize(image, [4, 4]), label], batch_size=5, num_threads=3,
        allow_smaller_final_batch=True)
    with tf.compat.v1.Session() as sess:
      sess.run(tf.compat.v1.local_variables_initializer())
      with queues.QueueRunners(sess):
        got = lib.drain_session(sess, [images, labels])
  assert sorted(int(x) for _, l in got for x in l) == list(range(TOTAL))
  assert got[0][0].shape == (5, 4, 4, 3)


def test_decode_in_session_is_for_graph_mode_without_skip_corrupt(dataset):
  with pytest.raises(ValueError, match='graph mode'):
    ddp.DatasetDataProvider(dataset, decode_in_session=True)
  with tf.Graph().as_default():
    with pytest.raises(ValueError, match='skip_corrupt'):
      ddp.DatasetDataProvider(dataset, decode_in_session=True, skip_corrupt=True)


@pytest.mark.parametrize('fixed_shape', [True, False])
def test_items_named_like_the_pipelines_own_fields_keep_their_values(shards, fixed_shape):
  """Decoded items live apart from the fields the pipeline adds (the record key `key`,
  the checks' `_index`, `_kind`, ...), so items of any name come out as decoded."""
  files, pixels, _ = shards
  shape = [lib.HEIGHT, lib.WIDTH, 3] if fixed_shape else None
  names = ['key', '_index', '_kind', '_previous', '_marker', '_keep', 'items']

  def dataset(items):
    decoder = td.TFExampleDecoder(schema.IMAGE.keys_to_features(), items)
    return dataset_lib.Dataset(data_sources=files, reader=tf.compat.v1.TFRecordReader,
                               decoder=decoder, num_samples=None, items_to_descriptions={})
  provider = ddp.DatasetDataProvider(dataset(dict(
      {'image': td.Image(shape=shape, channels=3)},
      **{name: td.Tensor(schema.LABEL) for name in names})), shuffle=False, num_epochs=1)
  examples = list(provider.as_dataset(names + ['image', 'record_key']))
  assert [int(e['key']) for e in examples] == sorted(pixels)
  for e in examples:
    assert [int(e[name]) for name in names] == [int(e['key'])] * len(names)
    np.testing.assert_array_equal(e['image'], pixels[int(e['key'])])
  assert examples[0]['record_key'].numpy().decode() == f'{files[0]}:0'
  first = provider.get(names + ['record_key'])
  assert [int(t) for t in first[:-1]] == [0] * len(names)
  assert first[-1].numpy().decode() == f'{files[0]}:0'
  with pytest.raises(ValueError, match="'num_skipped'"):
    ddp.DatasetDataProvider(dataset({'num_skipped': td.Tensor(schema.LABEL)}),
                            skip_corrupt=True)
