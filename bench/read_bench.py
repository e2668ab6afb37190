"""Reading benchmark: TF-Slim's queue reader vs slimdata's providers vs the decode limit.

    python bench/read_bench.py                       # default run, about 8 minutes on 2 cores
    python bench/read_bench.py --datasets flowers --cycles 12
    python bench/read_bench.py --validate_records    # the providers with validate_records=True

Side by side in one process, in interleaved turns (so a slow spell of a shared machine
slows every variant alike; ratios are taken turn by turn; a turn starts once the others
have refilled their buffers), then each variant alone in its own process for its peak RSS:
  (a) queue:   TF-Slim's pipeline: string_input_producer, 4 TFRecordReaders into a
               RandomShuffleQueue (ParallelReader), decode, train.batch(32, 4 threads);
  (b) graph:   DatasetDataProvider(num_readers=4).get + tf.compat.v1.train.batch, graph mode;
  (c) eager:   DatasetDataProvider.as_dataset(batch_size=32), eager (flowers-like images
               are decoded and resized 32 per function call, MNIST-sized ones decoded
               a block at a time);
  (d) limit:   tf.data decoding the same image bytes held in memory, batch 32;
  (b') session: (b) with decode_in_session=True: tf.data reads, get's tensors decode in
               train.batch's threads, as TF-Slim did (bad images are not named);
  (e) files:   tf.data reading the same files without the provider (TFRecordDataset
               interleave, shuffle, parse, decode, batch): what any tf.data reader pays;
  (c') examples: (c) with decode_in_blocks=False: flowers-like images decoded one per
               function call (on the MNIST-sized sets, the same as (c)).
On three generated sets: flowers-like JPEGs (240-500 px, decoded and resized to
224x224), MNIST-sized PNG records (28x28) and the same images stored raw (uint8).
Prints images/s, ratios to (a) and (d), CPU per image and peak RSS. Never asserts.
"""
import argparse
import io
import json
import math
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
if ROOT not in sys.path:
  sys.path.insert(0, ROOT)

VARIANTS = ('queue', 'graph', 'eager', 'limit', 'session', 'files', 'examples')
DATASETS = ('flowers', 'mnist_png', 'mnist_raw')
BATCH = 32
READERS = 4
THREADS = 4
IMAGE_SIZE = 224
PROVIDER_KWARGS = {}   # --validate_records sets validate_records=True for (b), (b') and (c)
WARMUP_BATCHES = 20    # more than any variant buffers (5 batches + 256 records)
WARMUP_S = 0.3
IDLE_CPU_S = 0.01      # this process is idle when it uses less CPU than this per 0.1 s


# --- data --------------------------------------------------------------------

def _write_shards(directory, name, examples, num_shards):
  """Shards and a manifest, as a converter writes them."""
  import tensorflow as tf
  from descriptors import manifest
  from descriptors import schema
  files = [os.path.join(directory, f'{name}-{i:05d}-of-{num_shards:05d}.tfrecord')
           for i in range(num_shards)]
  writers = [tf.io.TFRecordWriter(f) for f in files]
  counts = [0] * num_shards
  for i, values in enumerate(examples):
    writers[i % num_shards].write(schema.IMAGE.encode_example(values))
    counts[i % num_shards] += 1
  for w in writers:
    w.close()
  shards = tuple(manifest.Shard(file=os.path.basename(f), num_examples=n, sha256='',
                                bytes=os.path.getsize(f)) for f, n in zip(files, counts))
  with open(_manifest_path(directory, name), 'w') as f:
    f.write(manifest.Manifest(name=name, splits={'train': manifest.Split(shards)}).to_json())
  return files


def _manifest_path(directory, name):
  return os.path.join(directory, f'{name}_manifest.json')


def make_data(workdir, num_flowers, num_mnist):
  """Generates the three sets once; returns {name: [files]}."""
  import numpy as np
  from PIL import Image
  from descriptors import schema
  done = os.path.join(workdir, f'done-v2-{num_flowers}-{num_mnist}')
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
  """The set as `descriptors.get_split` gives a converted one: with its manifest."""
  import tensorflow as tf
  from descriptors import dataset as dataset_lib
  from descriptors import manifest as manifest_lib
  from descriptors import schema
  from descriptors import tfexample_decoder as td
  if name == 'flowers':
    image = td.Image(channels=3)
  else:
    image = td.Image(shape=[28, 28, 1], channels=1)
  decoder = td.TFExampleDecoder(schema.IMAGE.keys_to_features(),
                                {'image': image, 'label': td.Tensor(schema.LABEL)})
  set_name = os.path.basename(files[0]).split('-')[0]   # e.g. flowers-00000-of-00005...
  with open(_manifest_path(os.path.dirname(files[0]), set_name)) as f:
    manifest = manifest_lib.Manifest.from_json(f.read())
  return dataset_lib.Dataset(data_sources=files, reader=tf.compat.v1.TFRecordReader,
                             decoder=decoder, num_samples=manifest.splits['train'].num_examples,
                             items_to_descriptions={}, manifest=manifest)


def _preprocess(name):
  import tensorflow as tf
  if name == 'flowers':
    return lambda image: tf.image.resize(image, [IMAGE_SIZE, IMAGE_SIZE])
  return lambda image: image


def _rss_mib(field):
  """VmRSS (now) or VmHWM (peak) of this process, in MiB."""
  with open('/proc/self/status') as f:
    for line in f:
      if line.startswith(field + ':'):
        return int(line.split()[1]) / 1024
  return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _graph_variant(dataset, preprocess, use_provider, **provider_kwargs):
  """`(step, close)` of (a), (b) or (b'): a session and its queue threads, running."""
  import tensorflow as tf
  from providers import dataset_data_provider
  from providers import parallel_reader
  graph = tf.Graph()
  with graph.as_default():
    if use_provider:
      provider = dataset_data_provider.DatasetDataProvider(
          dataset, num_readers=READERS, **PROVIDER_KWARGS, **provider_kwargs)
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
    sess = tf.compat.v1.Session()
    coord = tf.compat.v1.train.Coordinator()
    threads = tf.compat.v1.train.start_queue_runners(sess, coord)

  def close():
    coord.request_stop()
    sess.close()   # cancels the queue threads' blocked enqueues
    coord.join(threads, stop_grace_period_secs=5, ignore_live_threads=True)
  return (lambda: sess.run([images, labels])), close


def _eager_variant(dataset, name, **kwargs):
  from providers import dataset_data_provider
  provider = dataset_data_provider.DatasetDataProvider(dataset, num_readers=READERS,
                                                       **PROVIDER_KWARGS)
  resize = _preprocess(name)
  preprocess = None
  if name == 'flowers':
    preprocess = lambda e: {'image': resize(e['image']), 'label': e['label']}  # noqa: E731
  it = iter(provider.as_dataset(['image', 'label'], batch_size=BATCH, preprocess_fn=preprocess,
                                **kwargs))
  return (lambda: next(it)), (lambda: None)


def _limit_variant(dataset, name):
  """tf.data decoding the image bytes of the same records, held in memory."""
  import tensorflow as tf
  from descriptors import schema
  from providers import parallel_reader
  records = tf.data.TFRecordDataset(parallel_reader.get_data_files(dataset.data_sources))
  parsed = next(iter(records.batch(1 << 20).map(
      lambda r: tf.io.parse_example(r, _image_and_label(tf, schema)))))
  ds = tf.data.Dataset.from_tensor_slices((parsed[schema.ENCODED], parsed[schema.LABEL]))
  ds = ds.repeat().shuffle(256)
  decode = lambda b, l: (_bare_decode(tf, name, b), l)  # noqa: E731
  if name == 'mnist_raw':   # one decode_raw per batch
    ds = ds.batch(BATCH).map(decode, num_parallel_calls=tf.data.AUTOTUNE)
  else:
    ds = ds.map(decode, num_parallel_calls=tf.data.AUTOTUNE).batch(BATCH)
  # A fixed buffer like the provider's: AUTOTUNE would grow it whenever the turn waits,
  # then fill it between turns, and the next turn would read from it.
  it = iter(ds.prefetch(2))
  return (lambda: next(it)), (lambda: None)


def _files_variant(dataset, name):
  """tf.data reading the same files, without the provider: no keys, no checks."""
  import tensorflow as tf
  from descriptors import schema
  from providers import parallel_reader
  files = tf.data.Dataset.from_tensor_slices(
      parallel_reader.get_data_files(dataset.data_sources)).shuffle(16).repeat()
  ds = files.interleave(tf.data.TFRecordDataset, cycle_length=READERS,
                        num_parallel_calls=READERS).shuffle(256)
  parse = tf.io.parse_single_example
  if name == 'mnist_raw':   # parsed and decoded a batch at a time
    ds, parse = ds.batch(BATCH), tf.io.parse_example

  def parse_and_decode(records):
    example = parse(records, _image_and_label(tf, schema))
    return _bare_decode(tf, name, example[schema.ENCODED]), example[schema.LABEL]
  ds = ds.map(parse_and_decode, num_parallel_calls=tf.data.AUTOTUNE)
  if name != 'mnist_raw':
    ds = ds.batch(BATCH)
  it = iter(ds.prefetch(2))
  return (lambda: next(it)), (lambda: None)


def _image_and_label(tf, schema):
  """The features (d) and (e) parse."""
  return {schema.ENCODED: tf.io.FixedLenFeature((), tf.string),
          schema.LABEL: tf.io.FixedLenFeature((), tf.int64)}


def _bare_decode(tf, name, encoded):
  """(d) and (e)'s decode, straight TensorFlow ops: a flowers-like JPEG decoded and
  resized, an MNIST-sized PNG decoded, or a batch of raw MNIST-sized images."""
  if name == 'flowers':
    return tf.image.resize(tf.io.decode_jpeg(encoded, channels=3), [IMAGE_SIZE, IMAGE_SIZE])
  if name == 'mnist_png':
    return tf.io.decode_png(encoded, channels=1)
  return tf.reshape(tf.io.decode_raw(encoded, tf.uint8), [-1, 28, 28, 1])


def _start(variant, dataset, name):
  """`(step, close)`: `step()` pulls one batch of `variant`."""
  if variant in ('queue', 'graph', 'session'):
    kwargs = {'decode_in_session': True} if variant == 'session' else {}
    return _graph_variant(dataset, _preprocess(name), use_provider=variant != 'queue',
                          **kwargs)
  if variant in ('eager', 'examples'):
    kwargs = {'decode_in_blocks': False} if variant == 'examples' else {}
    return _eager_variant(dataset, name, **kwargs)
  if variant == 'files':
    return _files_variant(dataset, name)
  return _limit_variant(dataset, name)


def _settle(limit_s=10.0):
  """Waits until this process is idle: after its turn a variant refills its queues and
  buffers (0.3-0.5 CPU s for flowers), which would otherwise take from the next turn."""
  deadline = time.perf_counter() + limit_s
  while time.perf_counter() < deadline:
    cpu = time.process_time()
    time.sleep(0.1)
    if time.process_time() - cpu < IDLE_CPU_S:
      return


def _window(step, seconds):
  """(images/s, CPU ms per image) of `step` over `seconds`, once the other variants are
  idle and after draining what this one buffered while it waited its turn."""
  _settle()
  start = time.perf_counter()
  drained = 0
  while drained < WARMUP_BATCHES or time.perf_counter() - start < WARMUP_S:
    step()
    drained += 1
  steps, cpu, start = 0, time.process_time(), time.perf_counter()
  while time.perf_counter() - start < seconds:
    step()
    steps += 1
  images = steps * BATCH
  return images / (time.perf_counter() - start), 1e3 * (time.process_time() - cpu) / images


def measure_rates(variants, name, files, cycles, seconds):
  """All variants in one process, in turns of `seconds` each, `cycles` times (the order
  rotating), so that a slow spell of the shared machine slows each about as much."""
  dataset = _dataset(name, files)
  running = {v: _start(v, dataset, name) for v in variants}
  rates = {v: [] for v in variants}
  cpu = {v: [] for v in variants}
  try:
    for cycle in range(cycles):
      for i in range(len(variants)):
        v = variants[(cycle + i) % len(variants)]
        rate, ms = _window(running[v][0], seconds)
        rates[v].append(rate)
        cpu[v].append(ms)
  finally:
    for step, close in running.values():
      close()
  return {'rates': rates, 'cpu_ms': cpu}


def measure_rss(variant, name, files, seconds):
  """Peak RSS of one variant alone in this process, over `seconds` of reading."""
  base = _rss_mib('VmRSS')
  step, close = _start(variant, _dataset(name, files), name)
  _window(step, seconds)
  close()
  peak = _rss_mib('VmHWM')
  return {'rss_mib': peak, 'rss_delta_mib': peak - base}


# --- parent ----------------------------------------------------------------------

def _child(args, files):
  """Runs in a subprocess: prints one JSON line of rates (`--child rates`) or RSS."""
  os.environ.setdefault('TF_CPP_MIN_LOG_LEVEL', '2')
  import tensorflow as tf
  tf.get_logger().setLevel('ERROR')
  what, name = args.child
  if args.validate_records:
    PROVIDER_KWARGS['validate_records'] = True
  if what == 'rates':
    out = measure_rates(args.variants.split(','), name, files[name], args.cycles, args.seconds)
  else:
    out = measure_rss(what, name, files[name], args.rss_seconds)
  print(json.dumps(out))


def _run_child(args, what, name):
  cmd = [sys.executable, os.path.abspath(__file__), '--workdir', args.workdir,
         '--seconds', str(args.seconds), '--cycles', str(args.cycles),
         '--rss_seconds', str(args.rss_seconds), '--variants', args.variants,
         '--flowers', str(args.flowers), '--mnist', str(args.mnist), '--child', what, name]
  cmd += ['--validate_records'] if args.validate_records else []
  out = subprocess.run(cmd, capture_output=True, text=True, check=False)
  lines = [line for line in out.stdout.splitlines() if line.startswith('{')]
  if out.returncode or not lines:
    print(f'{name} {what}: failed\n{out.stderr[-2000:]}')
    return None
  return json.loads(lines[-1])


def main(argv=None):
  parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
  parser.add_argument('--workdir', default=os.path.join(tempfile.gettempdir(),
                                                        'slimdata_read_bench'))
  parser.add_argument('--datasets', default=','.join(DATASETS))
  parser.add_argument('--variants', default=','.join(VARIANTS))
  parser.add_argument('--seconds', type=float, default=1.5, help='measured time per turn')
  parser.add_argument('--cycles', type=int, default=8,
                      help='turns of every variant, interleaved in one process')
  parser.add_argument('--rss_seconds', type=float, default=4.0,
                      help='reading time of the separate peak-RSS run of each variant')
  parser.add_argument('--flowers', type=int, default=1000, help='flowers-like images')
  parser.add_argument('--mnist', type=int, default=20000, help='MNIST-sized images')
  parser.add_argument('--validate_records', action='store_true',
                      help="(b), (b') and (c) check each record before parsing it")
  parser.add_argument('--child', nargs=2, metavar=('WHAT', 'DATASET'), help=argparse.SUPPRESS)
  args = parser.parse_args(argv)
  os.makedirs(args.workdir, exist_ok=True)
  os.environ.setdefault('TF_CPP_MIN_LOG_LEVEL', '2')
  files = make_data(args.workdir, args.flowers, args.mnist)
  if args.child:
    _child(args, files)
    return 0

  variants = args.variants.split(',')
  print(f'read_bench: {os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.1f}, '
        f'batch {BATCH}, {READERS} readers; {args.cycles} turns of {args.seconds:g} s per '
        f'variant, interleaved in one process; peak RSS from a separate process per variant')
  labels = {'queue': '(a) TF-Slim queues', 'graph': '(b) provider.get + train.batch',
            'eager': '(c) as_dataset(batch_size=32)', 'limit': '(d) in-memory decode',
            'session': "(b') get, decode_in_session", 'files': '(e) tf.data from the files',
            'examples': "(c') (c), decode_in_blocks=False"}
  for name in args.datasets.split(','):
    measured = _run_child(args, 'rates', name)
    if measured is None:
      continue
    rss = {v: _run_child(args, v, name) for v in variants}
    rates, cpu = measured['rates'], measured['cpu_ms']

    def ratio(v, base, form, suffix=''):
      """Median per-turn ratio to `base` (the same cycle's turn: both saw the same
      machine), formatted; '-' when `base` was not measured."""
      if base not in rates:
        return '-'
      turns = [r / b for r, b in zip(rates[v], rates[base])]
      return format(statistics.median(turns), form) + suffix
    print(f'\n{name}: median images/s of the turns (slowest-fastest), median ratio of a '
          f'turn to the same cycle\'s turn of (a) and (d), CPU per image, peak RSS')
    print(f'  {"variant":31s} {"images/s":>8s} {"(range)":>15s} {"vs (a)":>7s} {"vs (d)":>7s} '
          f'{"CPU/img":>9s} {"peak RSS":>9s} {"vs (a)":>7s}')
    for v in variants:
      peak = rss[v]['rss_mib'] if rss.get(v) else float('nan')
      base_peak = rss['queue']['rss_mib'] if rss.get('queue') else float('nan')
      excess = '-' if math.isnan(base_peak) else format(peak / base_peak - 1, '+.0%')
      print(f'  {labels[v]:31s} {statistics.median(rates[v]):8.0f} {min(rates[v]):7.0f}-'
            f'{max(rates[v]):<7.0f} {ratio(v, "queue", ".2f", "x"):>7s} '
            f'{ratio(v, "limit", ".0%"):>7s} '
            f'{statistics.median(cpu[v]):6.3f} ms {peak:5.0f} MiB {excess:>7s}')
  return 0


if __name__ == '__main__':
  sys.exit(main())
