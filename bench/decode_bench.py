"""Decoder overhead: `TFExampleDecoder.decode` against the bare parse + decode op it wraps.

    python bench/decode_bench.py               # about a minute on 2 cores
    python bench/decode_bench.py --reps 12

Per record, in a `tf.data` map run one call at a time (so CPU time per image is the
figure, not parallelism), over the first records of `bench/read_bench.py`'s generated
sets (flowers-like JPEGs, MNIST-sized PNG and raw records), side by side in one process,
in alternating passes:
  bare:    `tf.io.parse_single_example` of the image bytes + the format's decode op;
  decoder: `TFExampleDecoder.decode(record, ['image', 'label'])` with `Image` (the format
           picked at run time, as for any record), as providers use it;
  case:    the bare decode ops picked by one `tf.switch_case` on the same tests, the
           formulation `Image` used before (kept here to show why it is not used).
Prints CPU microseconds per image (best pass, median pass) and each variant's excess over
bare. Never asserts.
"""
import argparse
import os
import statistics
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
for path in (ROOT, os.path.join(ROOT, 'bench')):
  if path not in sys.path:
    sys.path.insert(0, path)

VARIANTS = ('bare', 'decoder', 'case')


def _records(files, count):
  import tensorflow as tf
  return list(tf.data.TFRecordDataset(files).take(count).as_numpy_iterator())


def _variant(kind, name, records):
  """A dataset of decoded images of `records`, endlessly, one map call per record."""
  import tensorflow as tf
  from descriptors import schema
  from descriptors import tfexample_decoder as td
  channels = 3 if name == 'flowers' else 1
  shape = None if name == 'flowers' else [28, 28, 1]
  spec = {schema.ENCODED: tf.io.FixedLenFeature((), tf.string),
          schema.FORMAT: tf.io.FixedLenFeature((), tf.string)}

  def op(encoded):
    if name == 'flowers':
      return tf.io.decode_jpeg(encoded, channels=channels)
    if name == 'mnist_png':
      return tf.io.decode_png(encoded, channels=channels)
    return tf.reshape(tf.io.decode_raw(encoded, tf.uint8), shape)

  def bare(record):
    return op(tf.io.parse_single_example(record, spec)[schema.ENCODED])

  decoder = td.TFExampleDecoder(schema.IMAGE.keys_to_features(),
                                {'image': td.Image(shape=shape, channels=channels),
                                 'label': td.Tensor(schema.LABEL)})

  def ours(record):
    return decoder.decode(record, ['image', 'label'])[0]

  def case(record):
    parsed = tf.io.parse_single_example(record, spec)
    encoded, fmt = parsed[schema.ENCODED], parsed[schema.FORMAT]
    head = tf.strings.substr(encoded, 0, 4)
    tests = tf.stack([tf.equal(tf.strings.lower(fmt), 'raw'), tf.io.is_jpeg(encoded),
                      tf.equal(head, b'\x89PNG'), tf.constant(True)])
    index = tf.reduce_sum(tf.math.cumprod(tf.cast(tf.logical_not(tests), tf.int32)))
    if name == 'mnist_raw':
      branches = [lambda: op(encoded)] * 3
    else:
      branches = [lambda: tf.zeros([28, 28, channels], tf.uint8)] + [lambda: op(encoded)] * 2
    def failed():   # as Image's: an error naming the format
      check = tf.debugging.Assert(False, ['not an image; format:', tf.strings.unicode_transcode(
          fmt, 'UTF-8', 'UTF-8', errors='replace')])
      with tf.control_dependencies([check]):
        return tf.zeros([0, 0, channels], tf.uint8)
    return tf.switch_case(index, branches + [failed])

  fn = {'bare': bare, 'decoder': ours, 'case': case}[kind]
  return tf.data.Dataset.from_tensor_slices(records).repeat().map(fn).batch(1)


def _pass(iterator, images):
  """CPU microseconds per image over `images` images."""
  start = time.process_time()
  for _ in range(images):
    next(iterator)
  return 1e6 * (time.process_time() - start) / images


def main(argv=None):
  parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
  parser.add_argument('--workdir', default=os.path.join('/tmp', 'slimdata_read_bench'))
  parser.add_argument('--datasets', default='flowers,mnist_png,mnist_raw')
  parser.add_argument('--reps', type=int, default=6, help='alternating passes per variant')
  parser.add_argument('--records', type=int, default=64, help='distinct records per set')
  args = parser.parse_args(argv)
  os.environ.setdefault('TF_CPP_MIN_LOG_LEVEL', '2')
  import read_bench
  files = read_bench.make_data(args.workdir, 1000, 20000)
  print(f'decode_bench: {os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.1f}; CPU us '
        f'per image, one map call at a time, best (median) of {args.reps} alternating passes')
  for name in args.datasets.split(','):
    records = _records(files[name], args.records)
    images = 300 if name == 'flowers' else 3000
    iterators = {v: iter(_variant(v, name, records)) for v in VARIANTS}
    for it in iterators.values():
      _pass(it, 20)   # warm up: function instantiation, first allocations
    cpu = {v: [] for v in VARIANTS}
    for _ in range(args.reps):
      for v in VARIANTS:
        cpu[v].append(_pass(iterators[v], images))
    print(f'\n{name} ({images} images a pass)')
    base = min(cpu['bare'])
    for v in VARIANTS:
      best = min(cpu[v])
      print(f'  {v:8s} {best:8.1f} ({statistics.median(cpu[v]):8.1f})   '
            f'{best - base:+7.1f} us over bare')
  return 0


if __name__ == '__main__':
  sys.exit(main())
