"""Reading benchmark: TF-Slim's queue reader vs slimdata's providers vs the decode limit.

    python bench/read_bench.py                       # default run, about 3 minutes on 2 cores
    python bench/read_bench.py --datasets flowers --seconds 10
    python bench/read_bench.py --validate_records    # (b), (c) with validate_records=True

Side by side, each variant in its own subprocess (so peak RSS is its own):
  (a) queue:   TF-Slim's pipeline: string_input_producer, 4 TFRecordReaders into a
               RandomShuffleQueue (ParallelReader), decode, train.batch(32, 4 threads);
  (b) graph:   DatasetDataProvider(num_readers=4).get + tf.compat.v1.train.batch, graph mode;
  (c) eager:   DatasetDataProvider.as_dataset(batch_size=32), eager;
  (d) limit:   tf.data decoding the same image bytes held in memory, batch 32.
On three generated sets: flowers-like JPEGs (240-500 px, decoded and resized to
224x224), MNIST-sized PNG records (28x28) and the same images stored raw (uint8).
Prints images/s, ratios to (a) and (d), and peak RSS. Never asserts.
"""
import argparse
import io
import json
import os
import resource
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
if ROOT not in sys.path:
  sys.path.insert(0, ROOT)

VARIANTS = ('queue', 'graph', 'eager', 'limit')
DATASETS = ('flowers', 'mnist_png', 'mnist_raw')
BATCH = 32
READERS = 4
THREADS = 4
IMAGE_SIZE = 224
PROVIDER_KWARGS = {}   # --validate_records sets validate_records=True for (b) and (c)


# --- data --------------------------------------------------------------------

def _write_shards(directory, name, examples, num_shards):
  import tensorflow as tf
  from descriptors import schema
  files = [os.path.join(directory, f'{name}-{i:05d}-of-{num_shards:05d}.tfrecord')
           for i in range(num_shards)]
  writers = [tf.io.TFRecordWriter(f) for f in files]
  for i, values in enumerate(examples):
    writers[i % num_shards].write(schema.IMAGE.encode_example(values))
  for w in writers:
    w.close()
  return files


def make_data(workdir, num_flowers, num_mnist):
  """Generates the three sets once; returns {name: [files]}."""
  import numpy as np
  from PIL import Image
  from descriptors import schema
  done = os.path.join(workdir, f'done-{num_flowers}-{num_mnist}')
  sets = {'flowers': ('flowers', 5), 'mnist_png': ('mnist_png', 4), 'mnist_raw': ('mnist_raw', 4)}
  files = {k: [os.path.join(workdir, f'{n}-{i:05d}-of-{s:05d}.tfrecord') for i in range(s)]
           for k, (n, s) in sets.items()}
  if os.path.exists(done):
    return files
  rng = np.random.RandomState(0)

  def flowers():
    for i in range(num_flowers):
      w, h = rng.randint(240, 501, size=2)
      # Smooth content plus mild noise: JPEG sizes like photos (tens of KB), not like noise.
      small = Image.fromarray(rng.randint(0, 256, (12, 12, 3), np.uint8))
      pixels = np.asarray(small.resize((int(w), int(h)), Image.BICUBIC), np.int16)
      pixels = np.clip(pixels + rng.randint(-12, 13, pixels.shape), 0, 255).astype(np.uint8)
      buf = io.BytesIO()
      Image.fromarray(pixels).save(buf, 'JPEG', quality=90)
      yield {schema.ENCODED: buf.getvalue(), schema.FORMAT: 'jpg', schema.LABEL: i % 5,
             schema.HEIGHT: int(h), schema.WIDTH: int(w)}

  digits = [(rng.rand(28, 28) > 0.75).astype(np.uint8) * rng.randint(128, 256, (28, 28))
            for _ in range(num_mnist)]

  def mnist(raw):
    for i, d in enumerate(digits):
      d = d.astype(np.uint8)
      if raw:
        data, fmt = d.tobytes(), 'raw'
      else:
        buf = io.BytesIO()
        Image.fromarray(d).save(buf, 'PNG')
        data, fmt = buf.getvalue(), 'png'
      yield {schema.ENCODED: data, schema.FORMAT: fmt, schema.LABEL: i % 10,
             schema.HEIGHT: 28, schema.WIDTH: 28}

  _write_shards(workdir, 'flowers', flowers(), 5)
  _write_shards(workdir, 'mnist_png', mnist(False), 4)
  _write_shards(workdir, 'mnist_raw', mnist(True), 4)
  open(done, 'w').close()
  return files


# --- variants (run in a child process) ------------------------------------------

def _dataset(name, files):
  import tensorflow as tf
  from descriptors import dataset as dataset_lib
  from descriptors import schema
  from descriptors import tfexample_decoder as td
  if name == 'flowers':
    image = td.Image(channels=3)
  else:
    image = td.Image(shape=[28, 28, 1], channels=1)
  decoder = td.TFExampleDecoder(schema.IMAGE.keys_to_features(),
                                {'image': image, 'label': td.Tensor(schema.LABEL)})
  return dataset_lib.Dataset(data_sources=files, reader=tf.compat.v1.TFRecordReader,
                             decoder=decoder, num_samples=None, items_to_descriptions={})


def _preprocess(name):
  import tensorflow as tf
  if name == 'flowers':
    return lambda image: tf.image.resize(image, [IMAGE_SIZE, IMAGE_SIZE])
  return lambda image: image


def _time_steps(step, seconds, warmup=5, window=1.0):
  """Images/s of `step` (one batch): the best of 1-second windows, as other processes
  sharing the machine slow some windows down."""
  for _ in range(warmup):
    step()
  best, end = 0.0, time.perf_counter() + seconds
  while time.perf_counter() < end:
    steps, start = 0, time.perf_counter()
    while time.perf_counter() - start < window:
      step()
      steps += 1
    best = max(best, steps * BATCH / (time.perf_counter() - start))
  return best


def _rss_mib(field):
  """VmRSS (now) or VmHWM (peak) of this process, in MiB."""
  with open('/proc/self/status') as f:
    for line in f:
      if line.startswith(field + ':'):
        return int(line.split()[1]) / 1024
  return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _graph_variant(dataset, preprocess, seconds, use_provider):
  import tensorflow as tf
  from providers import dataset_data_provider
  from providers import parallel_reader
  with tf.Graph().as_default():
    if use_provider:
      provider = dataset_data_provider.DatasetDataProvider(dataset, num_readers=READERS,
                                                          **PROVIDER_KWARGS)
      image, label = provider.get(['image', 'label'])
    else:
      # TF-Slim's DatasetDataProvider, as it was: queues and reader ops.
      files = parallel_reader.get_data_files(dataset.data_sources)
      filename_queue = tf.compat.v1.train.string_input_producer(files, shuffle=True)
      common_queue = tf.queue.RandomShuffleQueue(capacity=256, min_after_dequeue=128,
                                                 dtypes=[tf.string, tf.string])
      _, value = parallel_reader.ParallelReader(
          tf.compat.v1.TFRecordReader, common_queue, num_readers=READERS).read(filename_queue)
      image, label = dataset.decoder.decode(value, ['image', 'label'])
    images, labels = tf.compat.v1.train.batch([preprocess(image), label], batch_size=BATCH,
                                              num_threads=THREADS, capacity=5 * BATCH)
    with tf.compat.v1.Session() as sess:
      coord = tf.compat.v1.train.Coordinator()
      threads = tf.compat.v1.train.start_queue_runners(sess, coord)
      rate = _time_steps(lambda: sess.run([images, labels]), seconds)
      coord.request_stop()
      coord.join(threads, stop_grace_period_secs=5, ignore_live_threads=True)
  return rate


def _eager_variant(dataset, name, seconds):
  from providers import dataset_data_provider
  provider = dataset_data_provider.DatasetDataProvider(dataset, num_readers=READERS,
                                                       **PROVIDER_KWARGS)
  resize = _preprocess(name)
  preprocess = None
  if name == 'flowers':
    preprocess = lambda e: {'image': resize(e['image']), 'label': e['label']}  # noqa: E731
  it = iter(provider.as_dataset(['image', 'label'], batch_size=BATCH, preprocess_fn=preprocess))
  return _time_steps(lambda: next(it), seconds)


def _limit_variant(dataset, name, seconds):
  """tf.data decoding the image bytes of the same records, held in memory."""
  import tensorflow as tf
  from descriptors import schema
  from providers import parallel_reader
  spec = {schema.ENCODED: tf.io.FixedLenFeature((), tf.string),
          schema.LABEL: tf.io.FixedLenFeature((), tf.int64)}
  records = tf.data.TFRecordDataset(parallel_reader.get_data_files(dataset.data_sources))
  parsed = next(iter(records.batch(1 << 20).map(lambda r: tf.io.parse_example(r, spec))))
  ds = tf.data.Dataset.from_tensor_slices((parsed[schema.ENCODED], parsed[schema.LABEL]))
  ds = ds.repeat().shuffle(256)
  if name == 'flowers':
    ds = ds.map(lambda b, l: (tf.image.resize(tf.io.decode_jpeg(b, channels=3),
                                              [IMAGE_SIZE, IMAGE_SIZE]), l),
                num_parallel_calls=tf.data.AUTOTUNE).batch(BATCH)
  elif name == 'mnist_png':
    ds = ds.map(lambda b, l: (tf.io.decode_png(b, channels=1), l),
                num_parallel_calls=tf.data.AUTOTUNE).batch(BATCH)
  else:
    ds = ds.batch(BATCH).map(
        lambda b, l: (tf.reshape(tf.io.decode_raw(b, tf.uint8), [-1, 28, 28, 1]), l),
        num_parallel_calls=tf.data.AUTOTUNE)
  it = iter(ds.prefetch(tf.data.AUTOTUNE))
  return _time_steps(lambda: next(it), seconds)


def run_child(variant, name, files, seconds):
  """Runs one variant and prints one JSON line: images/s and peak RSS."""
  os.environ.setdefault('TF_CPP_MIN_LOG_LEVEL', '2')
  import tensorflow as tf
  tf.get_logger().setLevel('ERROR')
  dataset = _dataset(name, files)
  base = _rss_mib('VmRSS')
  if variant in ('queue', 'graph'):
    rate = _graph_variant(dataset, _preprocess(name), seconds, use_provider=variant == 'graph')
  elif variant == 'eager':
    rate = _eager_variant(dataset, name, seconds)
  else:
    rate = _limit_variant(dataset, name, seconds)
  peak = _rss_mib('VmHWM')
  print(json.dumps({'rate': rate, 'rss_mib': peak, 'rss_delta_mib': peak - base}))


# --- parent ----------------------------------------------------------------------

def main(argv=None):
  parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
  parser.add_argument('--workdir', default=os.path.join(tempfile.gettempdir(),
                                                        'slimdata_read_bench'))
  parser.add_argument('--datasets', default=','.join(DATASETS))
  parser.add_argument('--variants', default=','.join(VARIANTS))
  parser.add_argument('--seconds', type=float, default=3.0, help='measured time per variant')
  parser.add_argument('--rounds', type=int, default=2,
                      help='runs of every variant, interleaved; the best counts')
  parser.add_argument('--flowers', type=int, default=1000, help='flowers-like images')
  parser.add_argument('--mnist', type=int, default=20000, help='MNIST-sized images')
  parser.add_argument('--validate_records', action='store_true',
                      help='(b) and (c) check each record before parsing it')
  parser.add_argument('--child', nargs=2, metavar=('VARIANT', 'DATASET'), help=argparse.SUPPRESS)
  args = parser.parse_args(argv)
  os.makedirs(args.workdir, exist_ok=True)
  os.environ.setdefault('TF_CPP_MIN_LOG_LEVEL', '2')
  files = make_data(args.workdir, args.flowers, args.mnist)
  if args.child:
    variant, name = args.child
    if args.validate_records:
      PROVIDER_KWARGS['validate_records'] = True
    run_child(variant, name, files[name], args.seconds)
    return 0

  print(f'read_bench: {os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.1f}, '
        f'batch {BATCH}, {READERS} readers, best of {args.rounds} runs of '
        f'{args.seconds:.0f} s per variant')
  labels = {'queue': '(a) TF-Slim queues', 'graph': '(b) provider.get + train.batch',
            'eager': '(c) as_dataset(batch_size=32)', 'limit': '(d) in-memory decode'}
  for name in args.datasets.split(','):
    results = {}
    for _ in range(args.rounds):
      for variant in args.variants.split(','):
        cmd = [sys.executable, os.path.abspath(__file__), '--workdir', args.workdir,
               '--seconds', str(args.seconds), '--flowers', str(args.flowers),
               '--mnist', str(args.mnist), '--child', variant, name]
        cmd += ['--validate_records'] if args.validate_records else []
        out = subprocess.run(cmd, capture_output=True, text=True, check=False)
        lines = [l for l in out.stdout.splitlines() if l.startswith('{')]
        if out.returncode or not lines:
          print(f'{name} {variant}: failed\n{out.stderr[-2000:]}')
          continue
        r = json.loads(lines[-1])
        if variant not in results or r['rate'] > results[variant]['rate']:
          results[variant] = r
    print(f'\n{name}:')
    print(f'  {"variant":34s} {"images/s":>9s} {"vs (a)":>7s} {"vs (d)":>7s} {"peak RSS":>9s} '
          f'{"(pipeline)":>11s}')
    for variant, r in results.items():
      vs_a = r['rate'] / results['queue']['rate'] if 'queue' in results else float('nan')
      vs_d = r['rate'] / results['limit']['rate'] if 'limit' in results else float('nan')
      print(f'  {labels[variant]:34s} {r["rate"]:9.0f} {vs_a:6.2f}x {vs_d:6.0%} '
            f'{r["rss_mib"]:5.0f} MiB {r["rss_delta_mib"]:+6.0f} MiB')
  return 0


if __name__ == '__main__':
  sys.exit(main())
