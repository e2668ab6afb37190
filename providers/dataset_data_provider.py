"""Examples of a `Dataset`, read and decoded by `tf.data`: TF-Slim's `DatasetDataProvider`.

    provider = DatasetDataProvider(dataset, num_readers=4, shuffle=True)
    image, label = provider.get(['image', 'label'])               # graph mode, as in TF-Slim
    for batch in provider.as_dataset(['image', 'label'], batch_size=32): ...   # eager / Keras

The engine is `tf.data`: `parallel_reader.read_records` interleaves the shards
and shuffles the records, which are then decoded in parallel: a block of records at a
time by `decoder.decode_batch` when it can batch the items (fixed-shape images); with
`as_dataset(..., batch_size)` and items of a static shape after `preprocess_fn` (images
of varying size, resized), up to 32 records parsed together and decoded one by one in
one function call (unless `decode_in_blocks=False`); else one at a time. A block is a
batch, or several batches when they are smaller than 128 (parsing costs about the same
for 5 records as for 128; up to 512 records of small decoded items), or for single
examples 32; blocks are split again afterwards. No Python runs per example.

Graph mode. The provider builds a one-shot iterator at construction, so no
initializer has to run (`local_variables_initializer` may or may not be run; no
queue runner is needed, and `tf.compat.v1.train.batch` on top works under
`slim.queues.QueueRunners`). `get` hands out fields of that iterator's one
`get_next`, so fields asked for in separate `get` calls belong to the same
example, and each `session.run` advances to the next. With `num_epochs`, every
example is produced exactly `num_epochs` times, then `OutOfRangeError`. With
`decode_in_session=True`, tf.data only reads and `get`'s tensors decode the record in
the session, as TF-Slim did (faster under `train.batch`'s threads; see Bad data).

Eager mode. `get` returns the next example's tensors; `as_dataset` returns the
`tf.data.Dataset` of `{item: tensor}` dicts (also usable in graph mode).

Bad data. A corrupt record, a truncated shard or an undecodable image stops
reading with an error naming the shard and the record (eager `get` raises
`errors.CorruptDataError`; `session.run` and iterating `as_dataset` raise
`tf.errors.InvalidArgumentError` with the same message). With
`skip_corrupt=True` such records are skipped and counted: `provider.num_skipped`
is an int updated by eager `get`, and in graph mode an int64 tensor from the same
`get_next` as `get`'s tensors (fetch it in the same `session.run`) counting the
records skipped before that example; `as_dataset` gives it as item
`'num_skipped'`. TensorFlow cannot find the next record after a corrupt one, so
a corrupt record loses the rest of its shard: with a manifest (slimdata's
converters write one) the lost records are counted exactly, without one the
corrupt record counts as one. Checks need uncompressed TFRecord shards (their
sizes tell where each must end); for compressed shards and other readers,
errors are TensorFlow's own and, with `skip_corrupt`, unreadable records are
logged but not counted. With `decode_in_session=True`, an image that cannot be
decoded raises TensorFlow's own error in `session.run` (read errors are still named).
The checks cost a few small ops per example: elements are numbered before the
parallel decode, failed decodes are dropped by `ignore_errors`, and a gap in the
numbers after it names the record (checked a batch at a time where examples are
batched: `decode_batch`, or a `batch_size` with examples of a fixed shape). Where a block
is decoded in one call, an undecodable image fails its block: the error names the
shard(s) and the block's first record (`tools/verify.py` finds the very record).
"""
import logging
import os

import tensorflow as tf

from providers import data_provider
from providers import errors
from providers import parallel_reader
from providers import validation

_log = logging.getLogger(__name__)

NUM_SKIPPED = 'num_skipped'
# Inside the pipeline the decoded items are nested under _ITEMS, apart from the fields the
# pipeline adds (the record key, the checks' fields), so no item name can collide with them.
_ITEMS = 'items'
_SKIPPED = '_skipped'   # per element: records skipped just before it (or that it stands for)
_KEEP = '_keep'         # per element: False for read markers and sentinels
_DECODE_BLOCK = 32      # records decoded together (decode_batch; decode_in_blocks: at most)
_PARSE_BLOCK = 128      # at least this many for batches of a smaller batch_size,
_MAX_PARSE_BLOCK = 512  # and up to this many while a block's decoded items fit in
_BLOCK_BYTES = 2 << 20  # this many bytes (blocks of 512 MNIST digits: ~0.4 MiB)
_MAX_BLOCK_CALLS = 4    # decode_in_blocks: at most this many blocks decoded at once
# Elements ready ahead of the consumer: 2 batches; unbatched, 2 blocks of examples
# decoded together, or 2 rounds of parallel decodes of single examples (64 decoded
# flowers-sized images would hold ~25 MiB). A fixed buffer: AUTOTUNE grows it while the
# consumer waits, then fills it whenever the consumer pauses (evaluation, checkpoints):
# 733 -> 2,101 MiB over eight pauses on flowers-like data (docs/PERFORMANCE.md).
_PREFETCH_ROUNDS = 2
_HEARTBEAT = 256        # blocks between the sentinels that let the decode check run
_CHECK_FIELDS = ('_index', '_previous', '_marker', '_kind')   # what the checks read


class DatasetDataProvider(data_provider.DataProvider):
  """Provides the items of `dataset`'s examples, read with `tf.data`.

  Args:
    dataset: a `Dataset` (data_sources, reader, decoder, num_samples).
    num_readers: shards read at the same time.
    reader_kwargs: keyword arguments for the dataset's reader (e.g. `options`).
    shuffle: shuffle the shards every epoch and the records in a buffer.
    num_epochs: times each example is produced; None repeats forever.
    common_queue_capacity: the shuffle buffer, in records (TF-Slim's common queue).
    common_queue_min: accepted for compatibility; tf.data's buffer has no separate minimum.
    record_key: the item name of each example's `<file>:<byte offset>` key.
    seed: with `shuffle`, the same order on every run.
    scope: name scope of the graph-mode ops.
    num_shards, shard_index: this worker's part of the data: files `shard_index::num_shards`,
      or every `num_shards`-th record when there are fewer files than shards.
    skip_corrupt: skip and count records that cannot be read or decoded.
    data_service_address: e.g. 'grpc://dispatcher:5050': run reading and decoding on that
      tf.data service cluster, its workers sharing the files (dynamic sharding).
    num_parallel_calls: examples (or batches) decoded at once; twice the CPU count (at
      most 64) by default.
    validate_records: check each record's wire format before parsing it
      (`providers.validation`): TensorFlow 2.21's Example parser can crash the process on
      some malformed records; with this they are errors (or skipped) like other bad data.
      Costs ~30 us of CPU per record (docs/PERFORMANCE.md); for data of unknown origin.
    decode_in_session: graph mode only: `get`'s tensors decode their record in the
      `session.run` that fetches them (in `train.batch`'s threads), as TF-Slim did, and
      tf.data only reads. ~15% faster for images of varying size fed to `train.batch`
      (docs/PERFORMANCE.md), but an image that cannot be decoded raises TensorFlow's own
      error, which names no record, and `skip_corrupt` is not available. Read errors
      still name the shard; `as_dataset` is not affected.

  Raises:
    ValueError: for invalid arguments, `record_key` naming a dataset item, or no files.
  """

  def __init__(self, dataset, num_readers=1, reader_kwargs=None, shuffle=True, num_epochs=None,
               common_queue_capacity=256, common_queue_min=128, record_key='record_key',
               seed=None, scope=None, *, num_shards=1, shard_index=0, skip_corrupt=False,
               data_service_address=None, num_parallel_calls=None, validate_records=False,
               decode_in_session=False):
    del common_queue_min  # see Args
    for attr in ('data_sources', 'reader', 'decoder', 'num_samples'):
      if not hasattr(dataset, attr):
        raise ValueError(f'dataset must be a descriptors.dataset.Dataset; {dataset!r} has no '
                         f'{attr!r}')
    self._decoder = dataset.decoder
    self._decoder_items = list(self._decoder.list_items())
    if record_key in self._decoder_items:
      raise ValueError(f'record_key {record_key!r} is also an item of the dataset; pass '
                       f'another record_key')
    if skip_corrupt and NUM_SKIPPED in self._decoder_items:
      raise ValueError(f'skip_corrupt=True adds the item {NUM_SKIPPED!r}, which is also an '
                       f'item of the dataset; rename that item in the decoder')
    if num_parallel_calls is not None and num_parallel_calls != tf.data.AUTOTUNE and (
        not isinstance(num_parallel_calls, int) or num_parallel_calls < 1):
      raise ValueError(f'num_parallel_calls must be a positive int or tf.data.AUTOTUNE, '
                       f'got {num_parallel_calls!r}')
    if decode_in_session and tf.executing_eagerly():
      raise ValueError('decode_in_session=True is for graph mode, where get\'s tensors run in '
                       'a session; eagerly, get and as_dataset decode inside tf.data')
    if decode_in_session and skip_corrupt:
      raise ValueError('decode_in_session=True cannot skip_corrupt: an image that fails to '
                       'decode in session.run cannot be skipped; pass one or the other')
    if data_service_address is not None and not isinstance(data_service_address, str):
      raise ValueError(f'data_service_address must be a string like "grpc://host:port", '
                       f'got {data_service_address!r}')
    self._record_key = record_key
    self._skip_corrupt = bool(skip_corrupt)
    self._validate = bool(validate_records)
    self._service = data_service_address
    # Decoding is ordered (to name failures), so a slow image holds the others back; twice
    # as many decodes in flight as cores keeps the cores busy (AUTOTUNE chose ~half that).
    self._parallel = num_parallel_calls or min(64, 2 * (os.cpu_count() or 1))
    self._deterministic = seed is not None or not shuffle
    files = parallel_reader.get_data_files(dataset.data_sources)
    self._read_args = dict(
        data_sources=files, reader_class=dataset.reader, reader_kwargs=reader_kwargs,
        num_epochs=num_epochs, num_readers=num_readers, shuffle=shuffle,
        capacity=common_queue_capacity, seed=seed, num_shards=num_shards,
        shard_index=shard_index, records_per_file=_records_per_file(dataset))
    # Fail on bad arguments, unknown readers and missing files now, not at the first read.
    self._checked_reader = parallel_reader.record_dataset_fn(dataset.reader, reader_kwargs)[1]
    parallel_reader.check_read_args(**self._read_args)
    # More records skipped in a row than the dataset holds means none can be read (see
    # _skip_check); without num_samples, what its files can hold (None: no bound).
    self._max_skip_run = dataset.num_samples
    if skip_corrupt and not isinstance(self._max_skip_run, int):
      self._max_skip_run = parallel_reader.max_records(
          files, dataset.reader, reader_kwargs, self._read_args['records_per_file'])
    super().__init__(None, dataset.num_samples)
    self._items = self._decoder_items + [record_key]
    self._num_skipped = 0
    self._iterator = None
    self._graph = None
    self._tensors = None
    if not tf.executing_eagerly():
      with tf.compat.v1.name_scope(scope, 'dataset_data_provider'):
        if decode_in_session:
          self._tensors = self._decoded_in_session()
        else:
          items = self._items + ([NUM_SKIPPED] if self._skip_corrupt else [])
          element = tf.compat.v1.data.make_one_shot_iterator(
              self._build(items, select=False)).get_next()
          self._tensors = self._pick(element, items)
        self._graph = tf.compat.v1.get_default_graph()

  def list_items(self):
    return list(self._items)

  def get(self, items):
    """Tensors of one example, one per name in `items`.

    Graph mode: fields of the same `get_next` (see the module docstring). Eager: the next
    example; raises `errors.CorruptDataError` for bad data, OutOfRangeError at the end.
    """
    self._validate_items(items)
    if not tf.executing_eagerly():
      if self._tensors is None or tf.compat.v1.get_default_graph() is not self._graph:
        raise RuntimeError('DatasetDataProvider.get: the provider was built in another graph '
                           '(or eagerly); build it in the graph that uses its tensors')
      return [self._tensors[item] for item in items]
    example = self._next_example()
    return [example[item] for item in items]

  @property
  def num_skipped(self):
    """Records skipped so far (see the module docstring); 0 without `skip_corrupt`."""
    if self._tensors is not None and not tf.executing_eagerly():
      if self._skip_corrupt:
        return self._tensors[NUM_SKIPPED]
      return tf.constant(0, tf.int64)
    return self._num_skipped

  def as_dataset(self, items=None, batch_size=None, drop_remainder=False, preprocess_fn=None,
                 decode_in_blocks=True):
    """A `tf.data.Dataset` of `{item: tensor}` dicts, of examples or of batches.

    Args:
      items: the item names to decode (all, with the record key, by default);
        'num_skipped' too when `skip_corrupt`.
      batch_size: batch examples; with a decoder that has `decode_batch` and items that can
        be batched (fixed-shape images), records are batched first and decoded together.
      drop_remainder: drop the last, smaller batch.
      preprocess_fn: `fn({item: tensor}) -> {item: tensor}` applied to each decoded example
        in the same parallel stage as decoding, before batching (e.g. resizing images of
        varying size so they can be batched). Implies decode-then-batch.
      decode_in_blocks: with a `batch_size` and items of a static shape (after
        `preprocess_fn`), decode and preprocess blocks of up to 32 examples in one call
        each, not example by example (a tf.data function call costs tens of microseconds):
        ~5-10% faster on flowers-sized images (docs/PERFORMANCE.md), for ~100 MiB more
        memory (a block's images in flight per call); an undecodable image names its shard
        and block, not its record. False decodes example by example. Ignored where it
        does not apply.

    Each call builds a new pipeline that starts from the beginning.
    """
    if items is None:
      items = list(self._items)
    extra = [NUM_SKIPPED] if self._skip_corrupt else []
    if not isinstance(items, (list, tuple)):
      raise ValueError(f'items must be a list or tuple of item names, got {items!r}')
    unknown = [i for i in items if i not in self._items + extra]
    if unknown:
      raise ValueError(f'unknown items {unknown}; this provider has: '
                       f'{", ".join(self._items + extra)}')
    if batch_size is not None and (not isinstance(batch_size, int) or batch_size < 1):
      raise ValueError(f'batch_size must be None or a positive int, got {batch_size!r}')
    if preprocess_fn is not None and not callable(preprocess_fn):
      raise ValueError(f'preprocess_fn must be callable, got {preprocess_fn!r}')
    return self._build(list(items), batch_size=batch_size, drop_remainder=drop_remainder,
                       preprocess_fn=preprocess_fn, decode_in_blocks=decode_in_blocks)

  # --- pipeline ----------------------------------------------------------------

  def _next_example(self):
    """Eager `get`: the next example of an internal pipeline that keeps skip markers."""
    if self._iterator is None:
      self._iterator = iter(self._build(self._items, keep_markers=True, select=False))
    keep = self._items + ([_SKIPPED, _KEEP] if self._skip_corrupt else [])
    while True:
      try:
        example = self._pick(next(self._iterator), keep)
      except StopIteration:
        raise tf.errors.OutOfRangeError(None, None, 'DatasetDataProvider: end of the data '
                                        '(num_epochs reached)') from None
      except tf.errors.InvalidArgumentError as e:
        corrupt = errors.CorruptDataError.from_op_error(e)
        if corrupt is None:
          raise
        raise corrupt from e
      if not self._skip_corrupt:
        return example
      self._num_skipped += int(example[_SKIPPED])
      if bool(example[_KEEP]):
        return example

  def _decoded_in_session(self):
    """`{item: tensor}` decoded by graph ops from the record of a tf.data iterator."""
    records = parallel_reader.read_records(**self._read_args)
    records = self._distributed(records).prefetch(_PREFETCH_ROUNDS * self._parallel)
    element = tf.compat.v1.data.make_one_shot_iterator(records).get_next()
    decoded = self._decoder.decode(self._record(element), self._decoder_items)
    tensors = dict(zip(self._decoder_items, decoded))
    tensors[self._record_key] = element[parallel_reader.KEY]
    return tensors

  def _distributed(self, ds):
    """`ds`, run on the tf.data service when the provider has one."""
    if not self._service:
      return ds
    return ds.apply(tf.data.experimental.service.distribute(
        processing_mode=tf.data.experimental.service.ShardingPolicy.DYNAMIC,
        service=self._service))

  def _pick(self, element, items):
    """`{item: tensor}` from an element of the pipeline before its selection (or of
    `_build(..., select=False)`): `(survivors, element)` pairs or elements."""
    e = element[-1] if isinstance(element, tuple) else element
    nested = e[_ITEMS]
    return {i: nested[i] if i in nested else
            e[parallel_reader.KEY] if i == self._record_key else e[i] for i in items}

  def _build(self, items, batch_size=None, drop_remainder=False, keep_markers=False,
             preprocess_fn=None, select=True, decode_in_blocks=False):
    """The pipeline. Its elements are `{item: tensor}` dicts; with `select=False` (for
    `get`, which picks the items itself: a map stage costs a function call per example)
    they are elements for `_pick`, which may hold more fields."""
    decode_items = [i for i in items if i in self._decoder_items]
    checked = self._skip_corrupt or self._checked_reader
    records = parallel_reader.read_records(on_corrupt='mark' if checked else 'raise',
                                           **self._read_args)
    ds = None
    # Decoding a batch at a time is vectorised; without batch_size, blocks are decoded and
    # split again. Skipping needs a decode per example, so that one bad image costs one.
    batched = False
    if not self._skip_corrupt and preprocess_fn is None and hasattr(self._decoder,
                                                                    'decode_batch'):
      # Parsing costs ~0.2 ms per call whatever the batch: small batches are parsed and
      # decoded several at a time, then split again.
      decode_block = lambda r: dict(zip(decode_items,  # noqa: E731
                                        self._decoder.decode_batch(r, decode_items)))
      item_bytes = getattr(self._decoder, 'item_bytes', lambda items: None)
      block = (_DECODE_BLOCK if batch_size is None else
               _parse_block(item_bytes(decode_items), batch_size))
      ds, batched = self._try_blocks(records, decode_block, block, batch_size, drop_remainder,
                                     checked)
    if ds is None and decode_in_blocks and not self._skip_corrupt and batch_size is not None:
      # A block of examples decoded one by one in one function call (a tf.data stage costs
      # tens of microseconds per element), where every item has a static shape.
      block = min(batch_size, _DECODE_BLOCK)
      decode_block = self._stacked(decode_items, preprocess_fn)
      ds, batched = self._try_blocks(records, decode_block, block, batch_size, drop_remainder,
                                     checked, self._block_calls())
    rebatched = False
    if ds is None:
      decode = self._decode_one(decode_items, preprocess_fn)
      if (checked and batch_size is not None and not self._skip_corrupt and
          not self._service):
        # Batched right after decoding and checked a batch at a time, where that cannot
        # change what the user gets (see _checked_decode; None where it could).
        ds = self._checked_decode(records, decode, False, batch_size, drop_remainder)
        rebatched = ds is not None
      if ds is None:
        if select and not checked:
          # Nothing to check: the decode picks the items itself (a stage less per example).
          decode_record = decode
          decode = lambda e: self._pick(decode_record(e), items)  # noqa: E731
          select = False
        ds = self._decode_stage(records, decode, False, checked)
    ds = self._distributed(ds)
    if self._skip_corrupt:   # (strict checks drop sentinels themselves)
      ds = ds.scan(tf.constant(0, tf.int64), _plain(_count_skipped))
      if not keep_markers:
        ds = ds.filter(_plain(lambda e: e[_KEEP]))
    keep = items + ([_SKIPPED, _KEEP] if keep_markers and self._skip_corrupt else [])
    if select:
      ds = ds.map(_plain(lambda *e: self._pick(e, keep)))
    elif batched:  # blocks of examples: only the items can be split
      ds = ds.map(_plain(lambda *e: {_ITEMS: self._pick(e, keep)}))
    if batched and batch_size is None:
      ds = ds.unbatch()
    elif batched and block != batch_size:
      ds = ds.rebatch(batch_size, drop_remainder=drop_remainder)
    if batch_size is not None and not (batched or rebatched):
      ds = ds.batch(batch_size, drop_remainder=drop_remainder)
    if batch_size is not None and drop_remainder:
      ds = ds.map(_plain(lambda e: tf.nest.map_structure(
          lambda t: _with_batch_size(t, batch_size), e)))
    if batch_size:
      return ds.prefetch(_PREFETCH_ROUNDS)
    return ds.prefetch(_PREFETCH_ROUNDS * (_DECODE_BLOCK if batched else self._parallel))

  def _try_blocks(self, records, decode_block, block, batch_size, drop_remainder, checked,
                  parallel=None):
    """`(dataset, True)` decoding blocks of `block` records with `decode_block`, `parallel`
    blocks at a time, or `(None, False)` where it cannot decode these items together."""
    try:
      return self._decode_stage(
          records.batch(block, drop_remainder=drop_remainder and block == batch_size),
          self._decode_blocks(decode_block, block), True, checked, parallel), True
    except (ValueError, TypeError) as e:
      _log.info('decoding one example at a time: %s', e)
      return None, False

  def _block_calls(self):
    """Blocks decoded at once: half as many as single examples, as each call keeps the
    cores busy by itself, and at most 4 (each holds a block's images)."""
    if self._parallel == tf.data.AUTOTUNE:
      return tf.data.AUTOTUNE
    return min(_MAX_BLOCK_CALLS, max(1, self._parallel // 2))

  def _record_decoder(self, decode_items, preprocess):
    """`fn(record) -> {item: tensor}`: one record decoded, then `preprocess`."""
    return lambda record: preprocess(  # noqa: E731
        dict(zip(decode_items, self._decoder.decode(record, decode_items))))

  def _decode_one(self, decode_items, preprocess_fn=None):
    decode_record = self._record_decoder(decode_items, _preprocessor(preprocess_fn))
    return lambda e: {_ITEMS: decode_record(self._record(e)),  # noqa: E731
                      parallel_reader.KEY: e[parallel_reader.KEY]}

  def _stacked(self, decode_items, preprocess_fn):
    """`fn(records) -> {item: tensor}` decoding a block of records (of a static size) one
    by one, unrolled, and stacking their items; a ValueError where an item's shape is not
    static."""
    preprocess = _preprocessor(preprocess_fn)
    decode_record = self._record_decoder(decode_items, preprocess)

    def decode_rest(records):
      """The examples of `records`, after one parse where the decoder can (decode_each)."""
      decoded = None
      decode_each = getattr(self._decoder, 'decode_each', None)
      if decode_each is not None:
        try:
          decoded = decode_each(records, decode_items)
        except ValueError as e:
          _log.info('parsing the records of a block one by one: %s', e)
      if decoded is None:
        return [decode_record(records[i]) for i in range(records.shape[0])]
      return [preprocess(dict(zip(decode_items, items))) for items in decoded]

    def decode_block(records):
      first = decode_record(records[0])   # checked before the other copies are traced
      varying = [i for i, t in first.items() if not t.shape.is_fully_defined()]
      if varying:
        raise ValueError(f'items {varying} have no static shape')
      examples = [first] + decode_rest(records[1:])
      return {i: tf.stack([e[i] for e in examples]) for i in first}
    return decode_block

  def _decode_blocks(self, decode_block, block):
    """`decode(batch)` for blocks of records: `decode_block` of `block` records."""
    def decode(batch):
      records = self._record(batch)
      size = tf.size(records)
      # The last batch may be smaller: padded with copies of its first record, every batch
      # has the static shape that lets decoders use straight-line ops rather than a loop.
      padded = tf.concat([records, tf.repeat(records[:1], block - size)], 0)
      items = decode_block(tf.reshape(padded, [block]))
      return {_ITEMS: {item: tensor[:size] for item, tensor in items.items()},
              parallel_reader.KEY: batch[parallel_reader.KEY]}
    return decode

  def _record(self, e):
    record = e[parallel_reader.RECORD]
    return validation.checked_examples(record) if self._validate else record

  def _decode_stage(self, records, decode, batched, checked, parallel=None):
    if not checked:
      # Compressed shards or other readers: nothing to check, errors are TensorFlow's.
      return records.map(_plain(decode), num_parallel_calls=parallel or self._parallel,
                         deterministic=self._deterministic)
    return self._checked_decode(records, decode, batched, parallel=parallel)

  def _checked_decode(self, records, decode, batched, rebatch=None, drop_remainder=False,
                      parallel=None):
    """Decodes in parallel; a record that fails is named in an error, or skipped and counted.

    `ignore_errors` drops a failed decode; elements are numbered before decoding, so a gap
    in the numbers after it shows what was dropped, and each element carries the key(s) of
    the one before it, which name the record (or, for a batch, the shards) at fault.
    Read markers (unreadable rest of a shard) and sentinels bypass decoding: a sentinel
    after every `_HEARTBEAT` blocks and one at the end close any gap, so a dataset whose
    every decode fails raises even when it repeats forever. An element's kind is its
    `skipped` field: 0 for a record, the records lost for a read marker, -1 for a sentinel.

    Each tf.data stage costs tens of microseconds per element, so numbering runs on blocks
    of records, error messages are built only on failure, and without `skip_corrupt` the
    check is a stateless map. With `rebatch` (a batch size), examples are batched right
    after decoding and checked a batch at a time: blocks of `rebatch` records are numbered
    and a sentinel block is `rebatch` sentinels, so while every decode succeeds each batch
    holds only records or only sentinels, but the last (records, then sentinels); sentinel
    batches are dropped, and with `drop_remainder` a last batch short of records. Returns
    None when a decoded item has no fully known shape (a sentinel's stand-in could not be
    batched with it); the caller then builds the example-at-a-time check.
    """
    skipped = parallel_reader.SKIPPED
    blocks = records if batched else records.batch(rebatch or _DECODE_BLOCK)
    end = {k: tf.zeros([rebatch or 1], s.dtype) for k, s in records.element_spec.items()}
    end[skipped] = end[skipped] - 1
    sentinel = tf.data.Dataset.from_tensors(end)
    beat = tf.data.Dataset.from_tensor_slices(tf.constant([0] * _HEARTBEAT + [1], tf.int64))
    blocks = tf.data.Dataset.choose_from_datasets([blocks, sentinel.repeat()], beat.repeat(),
                                                  stop_on_empty_dataset=True)
    blocks = blocks.concatenate(sentinel)

    def number(state, b):
      index, previous = state
      b = dict(b)
      keys = b[parallel_reader.KEY]
      if batched:
        b['_index'], b['_previous'] = index, previous
        return (index + 1, keys), b
      b['_index'] = index + tf.range(tf.size(keys, out_type=tf.int64))
      b['_previous'] = tf.concat([[previous], keys[:-1]], 0)
      return (index + tf.size(keys, out_type=tf.int64), keys[-1]), b
    ds = blocks.scan((tf.constant(0, tf.int64), tf.constant([''] if batched else '')),
                     _plain(number))
    if not batched:
      ds = ds.unbatch()

    def guarded_decode(e):
      kind = tf.reduce_max(e[skipped]) if batched else e[skipped]
      decoded = {}

      def decode_record():
        decoded['out'] = decode(e)
        return decoded['out']

      def placeholder():  # traced second, so it can copy the decoded structure
        return tf.nest.map_structure(_placeholder_like, decoded['out'])
      out = tf.cond(tf.equal(kind, 0), decode_record, placeholder)
      out.update({parallel_reader.KEY: e[parallel_reader.KEY], '_kind': kind,
                  '_index': e['_index'], '_previous': e['_previous']})
      if batched:
        out['_marker'] = tf.gather(e[parallel_reader.KEY], tf.argmax(e[skipped]))
      else:
        out['_marker'] = e[parallel_reader.KEY]
      return out
    ds = ds.map(_plain(guarded_decode), num_parallel_calls=parallel or self._parallel,
                deterministic=True)
    if rebatch and not all(isinstance(spec, tf.TensorSpec) and spec.shape.is_fully_defined()
                           for spec in tf.nest.flatten(ds.element_spec)):
      return None
    ds = ds.ignore_errors(log_warning=True)
    if rebatch:
      return ds.batch(rebatch).enumerate().map(
          _plain(_strict_batch_check(rebatch, drop_remainder))).filter(
              _plain(lambda e: e[_KEEP]))
    if self._skip_corrupt:
      return ds.scan((tf.constant(0, tf.int64), tf.constant(0, tf.int64)),
                     _plain(self._skip_check()))
    # enumerate counts the elements that survived decoding, `_index` all of them. The
    # check is the filter's predicate (a tf.data function call costs ~30 us of CPU here,
    # per element: one call, not a check map, a filter and a select map).
    return ds.enumerate().filter(_plain(_strict_check(batched)))

  def _skip_check(self):
    """Counts what was skipped; more records in a row than the dataset holds (its
    num_samples, else what its files can hold) means nothing can be read, and with
    num_epochs=None reading would go on forever: raise instead."""
    limit = self._max_skip_run if isinstance(self._max_skip_run, int) else -1

    def check(state, e):
      expected, run = state
      gap = e['_index'] - expected
      e = _mark(e, gap)
      run = tf.where(e[_KEEP], tf.constant(0, tf.int64), run + e[_SKIPPED])
      if limit > 0:
        run = _checked(run <= limit, lambda: _nothing_readable_message(run), run)
      return (expected + gap + 1, run), e
    return check


def _strict_check(batched):
  """A filter predicate on `(survivors, element)`: raises, naming the record, at the first
  gap (a failed decode) or read marker; keeps records, drops sentinels."""
  def check(survivors, e):
    gap = e['_index'] - survivors
    kind = e['_kind']
    ok = tf.logical_and(tf.equal(gap, 0), kind <= 0)
    message = lambda: _failure_message(gap, e['_previous'], e['_marker'], batched)  # noqa: E731
    return _checked(ok, message, tf.equal(kind, 0))
  return check


def _strict_batch_check(batch_size, drop_remainder):
  """`_strict_check` for a batch of decoded examples (see `_checked_decode`'s `rebatch`):
  raises at the batch's first gap or read marker, then keeps its records."""
  def check(batch_number, e):
    gaps = e['_index'] - (batch_number * batch_size +
                          tf.range(tf.size(e['_index'], out_type=tf.int64)))
    bad = tf.logical_or(gaps > 0, e['_kind'] > 0)
    first = tf.argmax(tf.cast(bad, tf.int32))
    message = lambda: _failure_message(  # noqa: E731
        gaps[first], e['_previous'][first], e['_marker'][first], False)
    records = tf.reduce_sum(tf.cast(tf.equal(e['_kind'], 0), tf.int32))
    records = _checked(tf.logical_not(tf.reduce_any(bad)), message, records)
    # Past the check, records come first: sentinels only end a batch.
    out = tf.nest.map_structure(lambda v: v[:records],
                                {k: v for k, v in e.items() if k not in _CHECK_FIELDS})
    out[_KEEP] = tf.equal(records, batch_size) if drop_remainder else records > 0
    return out
  return check


def _failure_message(gap, previous, marker, batched):
  """The error for a check that failed: `gap` records before this element could not be
  decoded (the last of them keyed `previous`), or it is the read marker `marker`."""
  return tf.where(gap > 0, _decode_error_message(_describe(previous, batched), gap),
                  _read_error_message(marker))


def _mark(e, gap):
  """`e` without check fields, with its `_SKIPPED` count and whether to `_KEEP` it."""
  out = {k: v for k, v in e.items() if k not in _CHECK_FIELDS}
  out[_SKIPPED] = gap + tf.maximum(e['_kind'], 0)
  out[_KEEP] = tf.equal(e['_kind'], 0)
  return out


def _parse_block(record_bytes, batch_size):
  """Records parsed and decoded together for batches of `batch_size`: whole batches, at
  least 128 records (a parse costs about the same for 5 records as for 128), and up to 512
  while their decoded items (`record_bytes` each, None: unknown) fit in 2 MiB, as each
  block pays the pipeline's stages once (MNIST-sized images: 15-25% faster than in blocks
  of 128, for ~5 MiB)."""
  smallest = batch_size * max(1, _PARSE_BLOCK // batch_size)
  if not record_bytes or batch_size >= _MAX_PARSE_BLOCK:
    return smallest
  fitting = min(_MAX_PARSE_BLOCK, _BLOCK_BYTES // record_bytes) // batch_size
  return max(smallest, fitting * batch_size)


def _checked(ok, message, value):
  """`value`, after asserting `ok`; `message()` is built only on failure (string ops on
  every element would cost more than the check)."""
  check = tf.cond(ok, tf.no_op,
                  lambda: tf.debugging.Assert(False, [message()], summarize=1))
  with tf.control_dependencies([check]):
    return tf.identity(value)


def _records_per_file(dataset):
  """`{shard base name: records}` from the dataset's manifest, if it has one."""
  manifest = getattr(dataset, 'manifest', None)
  counts = {}
  for split in getattr(manifest, 'splits', {}).values():
    for shard in split.shards:
      counts[os.path.basename(shard.file)] = shard.num_examples
  return counts


def _describe(key, batched):
  """Names the record (or, for a batch, its shards) of key(s) `key` for an error about it."""
  if not batched:
    return tf.strings.join(['shard ', _shard_of(key), ' is corrupt: record ', key])
  shards = tf.unique(_shard_of(key)).y
  return tf.strings.join(['shard(s) ', tf.strings.reduce_join(shards, separator=', '),
                          ' are corrupt: a record of the batch starting at ', key[0]])


def _preprocessor(preprocess_fn):
  """`fn({item: tensor}) -> {item: tensor}`: `preprocess_fn`, or nothing to do. The user's
  function keeps AutoGraph (Python `if` on tensors), converted once and traced inline;
  ours are traced as written."""
  if preprocess_fn is None:
    return lambda items: items  # noqa: E731
  preprocess = tf.autograph.to_graph(preprocess_fn)
  return lambda items: dict(preprocess(items))  # noqa: E731


def _count_skipped(total, e):
  total += e[_SKIPPED]
  e = dict(e)
  e[NUM_SKIPPED] = total
  return total, e


def _with_batch_size(tensor, batch_size):
  if isinstance(tensor, tf.Tensor) and tensor.shape.rank:
    tensor.set_shape([batch_size] + tensor.shape.as_list()[1:])
  return tensor


def _plain(fn):
  """`fn` traced as written: AutoGraph's conversion would only slow tracing down here."""
  return tf.autograph.experimental.do_not_convert(fn)


def _placeholder_like(value):
  """A value of `value`'s type and static shape standing in for an example not decoded."""
  if isinstance(value, tf.SparseTensor):
    rank = value.dense_shape.shape[0]
    return tf.SparseTensor(tf.zeros([0, rank], tf.int64), tf.zeros([0], value.dtype),
                           tf.zeros([rank], tf.int64))
  shape = [0 if d is None else d for d in value.shape.as_list()]
  if value.dtype == tf.string:
    return tf.fill(shape, '')
  return tf.zeros(shape, value.dtype)


def _shard_of(key):
  return tf.strings.regex_replace(key, r':[0-9]+$', '')


def _decode_error_message(previous, gap):
  return tf.strings.join([
      errors.TAG, ': ', previous, ' could not be decoded (', tf.strings.as_string(gap),
      ' element(s) in a row failed; the reason is in the warning logged before this '
      'error). Re-convert the shard, check it with tools/verify.py, or pass '
      'skip_corrupt=True to skip such records.'])


def _nothing_readable_message(run):
  return tf.strings.join([
      errors.TAG, ': ', tf.strings.as_string(run), ' records in a row were skipped, more than '
      'the dataset holds: none of it can be read or decoded. Check the shards with '
      'tools/verify.py and the decoder against the data.'])


def _read_error_message(marker):
  return tf.strings.join([
      errors.TAG, ': shard ', _shard_of(marker), ' is corrupt or truncated: no valid '
      'record at byte ', tf.strings.regex_replace(marker, '^.*:', ''), ' (record ', marker,
      '; TensorFlow stops reading a shard there). Re-convert or re-copy it '
      '(tools/verify.py checks every shard), or pass skip_corrupt=True to skip what cannot '
      'be read.'])
