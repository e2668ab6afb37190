"""Reading records from many files at once, TF-Slim's `parallel_reader` on `tf.data`.

    key, value = parallel_reader.parallel_read('/data/flowers/flowers_train_*',
                                               tf.compat.v1.TFRecordReader, num_readers=4)
    records = parallel_reader.read_records(files, reader_class=tf.data.TFRecordDataset)

`read_records` is the reading stage every provider shares: files interleaved
`num_readers` at a time (a block of records from each in turn), records shuffled
in a buffer of the old common queue's capacity, each record keyed
`<file>:<byte offset>` as `TFRecordReader` keyed it. For uncompressed TFRecord
shards it also checks that each shard was read to its last byte, so a bad CRC or
a truncated shard is reported with the shard's name (TensorFlow's own message
names neither file nor record), or skipped and counted. `ParallelReader` is
TF-Slim's queue-based reader, kept for code that builds one itself;
`parallel_read` returns the same `(key, value)` tensors as before but from a
`tf.data` iterator, with no queue runner to start.
"""
import concurrent.futures
import logging
import os

import tensorflow as tf

from providers import errors

_log = logging.getLogger(__name__)

# TFRecord framing: 8-byte length, 4-byte length CRC, data, 4-byte data CRC.
_TFRECORD_OVERHEAD = 16
_STAT_THREADS = 16
# Records are keyed and interleaved in blocks (a tf.data stage costs tens of microseconds
# per element): about _READ_BLOCK_BYTES of records when a manifest gives the shard's
# count, else _READ_BLOCK records. Each reader buffers a few blocks, so bytes bound memory.
_READ_BLOCK = 16
_READ_BLOCK_BYTES = 256 * 1024
_MAX_READ_BLOCK = 256

# Element fields of the record stream.
KEY = 'key'
RECORD = 'record'
SKIPPED = 'skipped'   # 1 for a marker standing for a record that could not be read, else 0


def get_data_files(data_sources):
  """The files of `data_sources`: a file, a glob (`*`, `?`, `[`) or a list of them.

  Each glob's matches are sorted, so every worker sees the same order (TF-Slim kept
  the file system's order, which differs between machines).

  Raises:
    ValueError: if a glob matches nothing or the list is empty.
  """
  if isinstance(data_sources, (list, tuple)):
    data_files = []
    for source in data_sources:
      data_files += get_data_files(source)
  elif isinstance(data_sources, (str, bytes)):
    if isinstance(data_sources, bytes):
      data_sources = data_sources.decode('utf-8')
    if any(c in data_sources for c in '*?['):
      data_files = sorted(tf.io.gfile.glob(data_sources))
    else:
      data_files = [data_sources]
  else:
    raise ValueError(f'data_sources must be a file name, a glob or a list of them, '
                     f'got {data_sources!r}')
  if not data_files:
    raise ValueError(f'No data files found in {data_sources!r}; check the path and that the '
                     f'dataset was converted')
  return data_files


def record_dataset_fn(reader_class, reader_kwargs=None):
  """Maps a dataset's `reader` to `(fn(filename) -> tf.data.Dataset of records, checked)`.

  `reader_class` is `tf.compat.v1.TFRecordReader` (or a subclass; its `options` become
  `compression_type`), a `tf.data` record dataset class such as `tf.data.TFRecordDataset`
  (called with `reader_kwargs`), or any callable `fn(filename, **reader_kwargs)` returning
  a dataset of scalar strings. `checked` is True for uncompressed TFRecord files, whose
  byte offsets and sizes let a provider detect corrupt and truncated shards.

  Raises:
    errors.ReaderError: for queue readers other than TFRecordReader and unknown kwargs.
  """
  kwargs = dict(reader_kwargs or {})
  if reader_class is None:
    reader_class = tf.data.TFRecordDataset
  if isinstance(reader_class, type) and issubclass(reader_class, tf.compat.v1.ReaderBase):
    if not issubclass(reader_class, tf.compat.v1.TFRecordReader):
      raise errors.ReaderError(
          f'reader {reader_class.__name__} has no tf.data equivalent here; pass a tf.data '
          f'record dataset class (e.g. tf.data.TextLineDataset) as the dataset\'s reader')
    unknown = set(kwargs) - {'options', 'name'}
    if unknown:
      raise errors.ReaderError(f'reader_kwargs {sorted(unknown)} are not TFRecordReader '
                               f'arguments; it takes options= and name=')
    options = kwargs.get('options')
    if isinstance(options, tf.io.TFRecordOptions):
      compression = options.compression_type or ''
    elif options is None or isinstance(options, str):
      compression = options or ''
    else:
      raise errors.ReaderError(f'reader_kwargs options must be a tf.io.TFRecordOptions or a '
                               f'compression type string, got {options!r}')
    kwargs = {'compression_type': compression}
    reader_class = tf.data.TFRecordDataset
  if not callable(reader_class):
    raise errors.ReaderError(f'reader must be tf.compat.v1.TFRecordReader or a tf.data record '
                             f'dataset class, got {reader_class!r}')
  checked = (reader_class is tf.data.TFRecordDataset and
             kwargs.get('compression_type') in (None, '', 'NONE'))

  def make(filename):
    return reader_class(filename, **kwargs)
  return make, checked


def max_records(data_sources, reader_class=None, reader_kwargs=None, records_per_file=None):
  """At most how many records `data_sources` hold, or None where that cannot be known.

  The exact total when `records_per_file` (e.g. a manifest's counts) covers every file;
  else, for uncompressed TFRecord files, their size over the 16 bytes of framing every
  record carries; else (compressed files, other readers) None.
  """
  files = get_data_files(data_sources)
  known = _record_counts(files, records_per_file)
  if all(c is not None for c in known):
    return sum(known)
  if not record_dataset_fn(reader_class, reader_kwargs)[1]:
    return None
  return sum(_file_sizes(files)) // _TFRECORD_OVERHEAD


def _record_counts(files, records_per_file):
  """Each file's record count from `{file name or base name: count}`, None where unknown."""
  counts = dict(records_per_file or {})
  return [counts.get(f, counts.get(os.path.basename(f))) for f in files]


def _file_sizes(files):
  """Each file's size in bytes, statted in parallel (remote file systems are slow per call)."""
  def size(f):
    try:
      return tf.io.gfile.stat(f).length
    except tf.errors.NotFoundError:
      raise FileNotFoundError(f'data file {f!r} does not exist; check data_sources') from None
  with concurrent.futures.ThreadPoolExecutor(min(_STAT_THREADS, len(files))) as pool:
    return list(pool.map(size, files))


def _check_args(num_readers, num_epochs, capacity, num_shards, shard_index):
  if not isinstance(num_readers, int) or num_readers < 1:
    raise ValueError(f'num_readers must be a positive int, got {num_readers!r}')
  if num_epochs is not None and (not isinstance(num_epochs, int) or num_epochs < 1):
    raise ValueError(f'num_epochs must be None or a positive int, got {num_epochs!r}')
  if not isinstance(capacity, int) or capacity < 1:
    raise ValueError(f'capacity (common_queue_capacity) must be a positive int, '
                     f'got {capacity!r}')
  if not isinstance(num_shards, int) or num_shards < 1:
    raise ValueError(f'num_shards must be a positive int, got {num_shards!r}')
  if not isinstance(shard_index, int) or not 0 <= shard_index < num_shards:
    raise ValueError(f'shard_index must be an int in [0, num_shards={num_shards}), '
                     f'got {shard_index!r}')


def read_records(data_sources, reader_class=None, *, reader_kwargs=None, num_epochs=None,
                 num_readers=1, shuffle=True, capacity=256, seed=None, num_shards=1,
                 shard_index=0, on_corrupt='raise', records_per_file=None):
  """A `tf.data.Dataset` of `{'key', 'record', 'skipped'}` dicts read from `data_sources`.

  Args:
    data_sources: a file, a glob, or a list of them.
    reader_class: see `record_dataset_fn`.
    reader_kwargs: keyword arguments for the reader.
    num_epochs: times each record is read; None repeats forever.
    num_readers: files read at the same time, taking turns a block of records at a time
      (about 256 KB of them with `records_per_file`, else 16).
    shuffle: shuffle the files every epoch and the records in a `capacity` buffer.
    capacity: the shuffle buffer, sized like TF-Slim's common queue.
    seed: with `shuffle`, the same order on every run.
    num_shards, shard_index: this worker reads files `shard_index::num_shards`, or, when
      there are fewer files than shards, every `num_shards`-th record of each file.
    on_corrupt: 'raise', or 'mark': replace the unreadable rest of a corrupt shard by one
      marker element (`key` = `<file>:<byte>`, `record` empty) and go on. Its `skipped`
      is the number of this worker's records lost, when `records_per_file` knows the
      shard's count, else 1.
    records_per_file: `{file name or base name: number of records}`, e.g. from a manifest.

  With 'raise', a corrupt or truncated uncompressed TFRecord shard raises
  InvalidArgumentError whose message names the shard and byte (tagged `errors.TAG`)
  when the bad record is reached. TensorFlow stops reading a shard at a bad record, so
  the rest of that shard is lost. Other readers and compressed shards cannot be
  checked: their read errors are TensorFlow's own, or with 'mark' are logged as
  warnings and not marked.
  """
  files, indices, sizes, make_reader, checked, record_sharding = _plan(
      data_sources, reader_class, reader_kwargs, num_epochs, num_readers, capacity, num_shards,
      shard_index, on_corrupt)
  skip_corrupt = on_corrupt == 'mark'
  counts = [-1 if c is None else c for c in _record_counts(files, records_per_file)]
  deterministic = seed is not None or not shuffle

  def per_file(filename, size, count, file_index):
    if checked:
      # ignore_errors (here and after decoding) would retry a failed open forever: the
      # reader does not move past a file it cannot open. A shard that vanished since it
      # was statted is read as no file, so the size check names it.
      records = make_reader(tf.io.matching_files(_glob_escape(filename)))
    else:
      records = make_reader(filename)
    if checked or skip_corrupt:
      records = records.ignore_errors(log_warning=True)
    return _keyed(records, filename, size, count, file_index, checked=checked,
                  skip_corrupt=skip_corrupt, num_shards=num_shards if record_sharding else 1,
                  shard_index=shard_index, block=_read_block(size, count))

  file_ds = tf.data.Dataset.from_tensor_slices(
      (tf.constant(files, tf.string), tf.constant(sizes, tf.int64),
       tf.constant(counts, tf.int64), tf.constant(indices, tf.int64)))
  if shuffle and len(files) > 1:
    file_ds = file_ds.shuffle(len(files), seed=seed, reshuffle_each_iteration=True)
  file_ds = file_ds.repeat(num_epochs)
  # A parallel interleave even for one reader: reading runs ahead in its own thread.
  # Files take turns a block of records at a time.
  ds = file_ds.interleave(_plain(per_file), cycle_length=min(num_readers, len(files)),
                          block_length=1, num_parallel_calls=min(num_readers, len(files)),
                          deterministic=deterministic).unbatch()
  if shuffle:
    ds = ds.shuffle(capacity, seed=None if seed is None else seed + 1,
                    reshuffle_each_iteration=True)
  return ds


def check_read_args(data_sources, reader_class=None, *, reader_kwargs=None, num_epochs=None,
                    num_readers=1, capacity=256, num_shards=1, shard_index=0,
                    on_corrupt='raise', **unused):
  """Raises what `read_records` would raise for these arguments, without building anything."""
  del unused
  _plan(data_sources, reader_class, reader_kwargs, num_epochs, num_readers, capacity,
        num_shards, shard_index, on_corrupt)


def _plan(data_sources, reader_class, reader_kwargs, num_epochs, num_readers, capacity,
          num_shards, shard_index, on_corrupt):
  """This worker's files, their indices and sizes, the reader, and whether records (not
  files) are sharded; checks every argument."""
  _check_args(num_readers, num_epochs, capacity, num_shards, shard_index)
  if on_corrupt not in ('raise', 'mark'):
    raise ValueError(f"on_corrupt must be 'raise' or 'mark', got {on_corrupt!r}")
  files = get_data_files(data_sources)
  make_reader, checked = record_dataset_fn(reader_class, reader_kwargs)
  indices = list(range(len(files)))
  record_sharding = num_shards > 1 and len(files) < num_shards
  if num_shards > 1 and not record_sharding:
    indices = indices[shard_index::num_shards]
    files = files[shard_index::num_shards]
  sizes = _file_sizes(files) if checked else [-1] * len(files)
  return files, indices, sizes, make_reader, checked, record_sharding


def _read_block(size, count):
  """Records per read block of a shard of `size` bytes and `count` records (-1: unknown)."""
  known = tf.logical_and(size > 0, count > 0)
  block = tf.where(known, _READ_BLOCK_BYTES * tf.maximum(count, 1) // tf.maximum(size, 1),
                   tf.constant(_READ_BLOCK, tf.int64))
  return tf.clip_by_value(block, 1, _MAX_READ_BLOCK)


def _keyed(records, filename, size, count, file_index, *, checked, skip_corrupt, num_shards,
           shard_index, block):
  """One file's records as blocks of stream elements, its end checked against its size.

  Keys and offsets are computed for blocks of records, not one by one: a function call
  per record would cost more than reading it.
  """
  # The end of the file is an empty block (batch never makes one).
  end = tf.data.Dataset.from_tensors(tf.zeros([0], tf.string))

  def step(state, record):
    offset, index = state
    is_end = tf.equal(tf.size(record), 0)
    lengths = tf.cast(tf.strings.length(record, unit='BYTE'), tf.int64) + _TFRECORD_OVERHEAD
    offsets = offset + tf.cumsum(lengths, exclusive=True)
    indices = index + tf.range(tf.size(record, out_type=tf.int64))
    key = tf.strings.join([filename, ':', tf.strings.as_string(offsets if checked else indices)])
    element = {KEY: key, RECORD: record, SKIPPED: tf.zeros_like(indices)}
    if num_shards > 1:
      mine = tf.equal((file_index + indices) % num_shards, shard_index)
      element = {k: tf.boolean_mask(v, mine) for k, v in element.items()}
    if checked:
      # Short of its size, or (cut at a record boundary, or empty) of the manifest's count.
      bad = tf.logical_and(is_end, tf.logical_or(tf.not_equal(offset, size), count > index))
      if not skip_corrupt:
        message = tf.strings.join([
            errors.TAG, ': shard ', filename, ' is corrupt or truncated: no valid record '
            'at byte ', tf.strings.as_string(offset), ' of ', tf.strings.as_string(size),
            ' (record ', filename, ':', tf.strings.as_string(offset), ', after ',
            tf.strings.as_string(index), ' good records',
            tf.where(count >= 0, tf.strings.join([' of ', tf.strings.as_string(count)]), ''),
            '). Re-convert or re-copy '
            'it (tools/verify.py checks every shard), or pass skip_corrupt=True to skip what '
            'cannot be read.'])
        check = tf.debugging.Assert(tf.logical_not(bad), [message], summarize=1)
        with tf.control_dependencies([check]):
          bad = tf.identity(bad)
      else:
        # The unreadable rest of the shard becomes one marker element.
        marker = tf.cast(bad, tf.int32)
        lost = tf.where(count > index, _mine(index, count, file_index, num_shards, shard_index),
                        tf.constant(1, tf.int64))
        element = {
            KEY: tf.concat([element[KEY], tf.fill([marker], tf.strings.join(
                [filename, ':', tf.strings.as_string(offset)]))], 0),
            RECORD: tf.concat([element[RECORD], tf.fill([marker], '')], 0),
            SKIPPED: tf.concat([element[SKIPPED], tf.fill([marker], lost)], 0)}
    state = (offset + tf.reduce_sum(lengths), index + tf.size(record, out_type=tf.int64))
    return state, element
  return records.batch(block).concatenate(end).scan(
      (tf.constant(0, tf.int64), tf.constant(0, tf.int64)), _plain(step))


def _glob_escape(filename):
  """`filename` as a glob pattern that matches only itself."""
  return tf.strings.regex_replace(filename, r'([*?\[\\])', r'\\\1')


def _mine(start, stop, file_index, num_shards, shard_index):
  """How many of records [start, stop) of a file belong to this worker's shard."""
  if num_shards == 1:
    return stop - start
  first = (shard_index - file_index) % num_shards   # the first index i with a match

  def upto(x):  # matches in [0, x)
    return tf.maximum((x - first + num_shards - 1) // num_shards, 0)
  return upto(stop) - upto(start)


def _plain(fn):
  """`fn` traced as written: AutoGraph's conversion would only slow tracing down here."""
  return tf.autograph.experimental.do_not_convert(fn)


def parallel_read(data_sources, reader_class, num_epochs=None, num_readers=4,
                  reader_kwargs=None, shuffle=True, dtypes=None, capacity=256,
                  min_after_dequeue=128, seed=None, scope=None):
  """Returns `(key, value)` string tensors; each `session.run` reads the next record.

  TF-Slim's arguments and results, built on `read_records` and a one-shot iterator, so
  no queue runner or initializer has to run; the end of `num_epochs` raises
  OutOfRangeError. `min_after_dequeue` is accepted for compatibility: the shuffle buffer
  holds `capacity` records. Graph mode only (eagerly, iterate `read_records`).
  """
  del min_after_dequeue  # tf.data's shuffle buffer has no separate minimum
  if tf.executing_eagerly():
    raise RuntimeError('parallel_read builds graph tensors; in eager mode iterate '
                       'parallel_reader.read_records(...) or a provider\'s as_dataset()')
  if dtypes is not None and [tf.as_dtype(d) for d in dtypes] != [tf.string, tf.string]:
    raise ValueError(f'dtypes must be [tf.string, tf.string] (key, value), got {dtypes!r}')
  with tf.compat.v1.name_scope(scope, 'parallel_read'):
    ds = read_records(data_sources, reader_class, reader_kwargs=reader_kwargs,
                      num_epochs=num_epochs, num_readers=num_readers, shuffle=shuffle,
                      capacity=capacity, seed=seed)
    ds = ds.map(_plain(lambda e: (e[KEY], e[RECORD])))
    return tf.compat.v1.data.make_one_shot_iterator(ds).get_next()


def single_pass_read(data_sources, reader_class, reader_kwargs=None, scope=None):
  """Reads `data_sources` once, in order, with one reader; returns `(key, value)` tensors."""
  with tf.compat.v1.name_scope(scope, 'single_pass_read'):
    return parallel_read(data_sources, reader_class, num_epochs=1, num_readers=1,
                         reader_kwargs=reader_kwargs, shuffle=False)


class ParallelReader(tf.compat.v1.ReaderBase):
  """TF-Slim's queue-based reader: `num_readers` readers filling one common queue.

  Kept unchanged for code that builds one (and as the baseline in bench/read_bench.py);
  new code gets the same records faster from `read_records`. `read(filename_queue)`
  adds a QueueRunner to the graph's QUEUE_RUNNERS collection, so it needs
  `slim.queues.QueueRunners` or `tf.compat.v1.train.start_queue_runners`.

  Usage:
    common_queue = tf.queue.RandomShuffleQueue(capacity=256, min_after_dequeue=128,
                                               dtypes=[tf.string, tf.string])
    key, value = ParallelReader(tf.compat.v1.TFRecordReader, common_queue).read(filename_queue)
  """

  def __init__(self, reader_class, common_queue, num_readers=4, reader_kwargs=None):
    # ReaderBase wraps one reader op; this class delegates to several, so it does not
    # call ReaderBase.__init__ (as in TF-Slim).
    # pylint: disable=super-init-not-called
    if len(common_queue.dtypes) != 2 or any(
        not tf.as_dtype(d).is_compatible_with(tf.string) for d in common_queue.dtypes):
      raise TypeError(f'common_queue.dtypes must be [tf.string, tf.string], '
                      f'got {common_queue.dtypes}')
    if not isinstance(num_readers, int) or num_readers < 1:
      raise ValueError(f'num_readers must be a positive int, got {num_readers!r}')
    reader_kwargs = reader_kwargs or {}
    self._readers = [reader_class(**reader_kwargs) for _ in range(num_readers)]
    self._common_queue = common_queue

  @property
  def num_readers(self):
    return len(self._readers)

  @property
  def common_queue(self):
    return self._common_queue

  def read(self, queue, name=None):
    """The next `(key, value)` from the common queue the readers fill from `queue`'s files."""
    self._configure_readers_by(queue)
    return self._common_queue.dequeue(name=name)

  def read_up_to(self, queue, num_records, name=None):
    """Up to `num_records` `(keys, values)`; needs a queue that supports dequeue_up_to."""
    self._configure_readers_by(queue)
    return self._common_queue.dequeue_up_to(num_records, name)

  def _configure_readers_by(self, queue):
    enqueue_ops = [self._common_queue.enqueue(reader.read(queue)) for reader in self._readers]
    tf.compat.v1.train.add_queue_runner(
        tf.compat.v1.train.QueueRunner(self._common_queue, enqueue_ops))

  def num_records_produced(self, name=None):
    return tf.add_n([r.num_records_produced() for r in self._readers], name=name)

  def num_work_units_completed(self, name=None):
    return tf.add_n([r.num_work_units_completed() for r in self._readers], name=name)

  @property
  def supports_serialize(self):
    return False
