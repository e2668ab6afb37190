"""Conversion throughput: research/slim's loop vs tools/convert.py --dataset folder.

    python bench/convert_bench.py --data_dir /tmp/slimdata_bench        # 3,670 and 20,000 images
    python bench/convert_bench.py --data_dir /tmp/slimdata_bench --no-large   # 3,670 only

On a generated flowers-like set (JPEGs of 240-500 px sides, about 60 KB, 5
class folders; generated once and cached in --data_dir), runs side by side,
each in its own subprocess so peak RSS is honest:
  (a) research/slim's converter loop: one process, every JPEG fully decoded by
      TensorFlow (a v1 Session, as its ImageReader did) only to read its height
      and width, tf.train.Example protos, tf.io.TFRecordWriter, 5 shards per split;
  (b) tools/convert.py --dataset folder, in-process DirectRunner;
  (c) the same with --direct_running_mode=multi_processing --direct_num_workers=2;
  (d) (c) with 10 shards per split: 5 equal shards cannot be shared evenly by 2
      workers (one gets 3), 10 can.
Prints images/s, MB/s, peak RSS (the launcher, and the largest worker process)
and the ratios to (a). Timings start after the imports (TensorFlow for (a),
Beam for (b, c)) and cover listing, splitting, reading, encoding and writing.
Prints only; asserts nothing.
"""
import argparse
import json
import os
import random
import resource
import shutil
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
CLASSES = ('daisy', 'dandelion', 'roses', 'sunflowers', 'tulips')
VALIDATION = 350
SHARDS = 5


# --- Data -----------------------------------------------------------------------------------

def generate(directory, count, seed=0):
  """Writes `count` flowers-like JPEGs into `directory/<class>/`; reuses a complete earlier set."""
  import numpy as np  # pylint: disable=import-outside-toplevel
  from PIL import Image  # pylint: disable=import-outside-toplevel
  done = os.path.join(directory, '.complete')
  if os.path.exists(done):
    return directory
  rng = np.random.default_rng(seed)
  texture = (20 * rng.normal(0, 1, (1024, 1024, 3))).astype(np.float32)
  yy, xx = np.mgrid[0:1024, 0:1024].astype(np.float32)
  pattern = np.stack([50 * np.sin(xx / 23 + yy / 71), 45 * np.cos(yy / 31 - xx / 97),
                      40 * np.sin((xx + yy) / 43)], -1).astype(np.float32)
  start = time.time()
  for i in range(count):
    path = os.path.join(directory, CLASSES[i % 5], f'{i:06d}.jpg')
    if os.path.exists(path):
      continue
    os.makedirs(os.path.dirname(path), exist_ok=True)
    w, h = (int(v) for v in rng.integers(240, 501, 2))
    y1, x1, y2, x2 = (int(v) for v in rng.integers(0, 1024 - 500, 4))
    tint = rng.uniform(60, 190, 3).astype(np.float32)
    pixels = np.clip(tint + pattern[y1:y1 + h, x1:x1 + w] + texture[y2:y2 + h, x2:x2 + w], 0,
                     255).astype(np.uint8)
    Image.fromarray(pixels).save(path, format='JPEG', quality=int(rng.integers(84, 94)))
    if i % 2000 == 1999:
      print(f'  generated {i + 1}/{count} images ({time.time() - start:.0f} s)', flush=True)
  open(done, 'w').close()
  return directory


def subset(source, directory, count):
  """`directory` holding hard links to the first `count` images of `source`."""
  done = os.path.join(directory, '.complete')
  if os.path.exists(done):
    return directory
  for i in range(count):
    name = os.path.join(CLASSES[i % 5], f'{i:06d}.jpg')
    target = os.path.join(directory, name)
    os.makedirs(os.path.dirname(target), exist_ok=True)
    if not os.path.exists(target):
      os.link(os.path.join(source, name), target)
  open(done, 'w').close()
  return directory


def dataset_stats(directory):
  files = [os.path.join(r, f) for r, _, fs in os.walk(directory) for f in fs
           if f.endswith('.jpg')]
  return len(files), sum(os.path.getsize(f) for f in files)


# --- The runs (each in a child process) -----------------------------------------------------

def run_research_slim(data_dir, out_dir):
  """research/slim's download_and_convert_flowers loop, on TF 2 through tf.compat.v1."""
  import tensorflow as tf  # pylint: disable=import-outside-toplevel
  start = time.monotonic()
  tf1 = tf.compat.v1
  filenames = []
  for name in sorted(os.listdir(data_dir)):
    folder = os.path.join(data_dir, name)
    if os.path.isdir(folder):
      filenames += [os.path.join(folder, f) for f in os.listdir(folder)]
  class_ids = {name: i for i, name in enumerate(CLASSES)}
  random.seed(0)
  random.shuffle(filenames)
  splits = {'train': filenames[VALIDATION:], 'validation': filenames[:VALIDATION]}
  with tf.Graph().as_default():
    data = tf1.placeholder(dtype=tf.string)
    decoded = tf.io.decode_jpeg(data, channels=3)
    with tf1.Session() as session:
      for split, names in splits.items():
        per_shard = -(-len(names) // SHARDS)
        for shard in range(SHARDS):
          path = os.path.join(out_dir, f'flowers_{split}_{shard:05d}-of-{SHARDS:05d}.tfrecord')
          with tf.io.TFRecordWriter(path) as writer:
            for name in names[shard * per_shard:(shard + 1) * per_shard]:
              image_data = tf.io.gfile.GFile(name, 'rb').read()
              image = session.run(decoded, feed_dict={data: image_data})
              height, width = image.shape[0], image.shape[1]
              label = class_ids[os.path.basename(os.path.dirname(name))]
              example = tf.train.Example(features=tf.train.Features(feature={
                  'image/encoded': tf.train.Feature(bytes_list=tf.train.BytesList(
                      value=[image_data])),
                  'image/format': tf.train.Feature(bytes_list=tf.train.BytesList(value=[b'jpg'])),
                  'image/class/label': tf.train.Feature(int64_list=tf.train.Int64List(
                      value=[label])),
                  'image/height': tf.train.Feature(int64_list=tf.train.Int64List(value=[height])),
                  'image/width': tf.train.Feature(int64_list=tf.train.Int64List(value=[width])),
              }))
              writer.write(example.SerializeToString())
  return time.monotonic() - start


def run_convert(data_dir, out_dir, extra):
  sys.path.insert(0, ROOT)
  from tools import convert  # pylint: disable=import-outside-toplevel
  argv = ['--dataset', 'folder', '--source', data_dir, '--name', 'flowers', '--dataset_dir',
          out_dir, '--validation_size', str(VALIDATION), '--num_shards', str(SHARDS)] + extra
  start = time.monotonic()
  code = convert.main(argv)
  if code:
    raise SystemExit(f'convert.py failed with {code}')
  return time.monotonic() - start


def child(args):
  if args.child == 'research_slim':
    seconds = run_research_slim(args.data, args.out)
  else:
    extra = ['--direct_running_mode=multi_processing', '--direct_num_workers=2'] \
        if args.child.startswith('multi_process') else []
    if args.child == 'multi_process_10':
      extra += ['--num_shards', '10']
    seconds = run_convert(args.data, args.out, extra)
  own = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
  workers = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
  print('RESULT ' + json.dumps({'seconds': seconds, 'rss_kb': own, 'worker_rss_kb': workers}))


def measure(kind, data_dir):
  out = tempfile.mkdtemp(prefix=f'bench_{kind}_')
  env = dict(os.environ, PYTHONPATH=os.pathsep.join([ROOT, os.environ.get('PYTHONPATH', '')]),
             TF_CPP_MIN_LOG_LEVEL='2')
  start = time.monotonic()
  proc = subprocess.run([sys.executable, os.path.abspath(__file__), '--child', kind, '--data',
                         data_dir, '--out', out], capture_output=True, text=True, env=env,
                        check=False)
  wall = time.monotonic() - start
  shutil.rmtree(out, ignore_errors=True)
  lines = [l for l in proc.stdout.splitlines() if l.startswith('RESULT ')]
  if proc.returncode or not lines:
    raise SystemExit(f'{kind} failed:\n{proc.stdout[-3000:]}\n{proc.stderr[-3000:]}')
  result = json.loads(lines[-1][len('RESULT '):])
  result['wall'] = wall
  return result


def report(label, count, size, results):
  base = results['research_slim']
  print(f'\n{label}: {count} images, {size / 1e6:.0f} MB')
  print(f'  {"run":<36}{"seconds":>9}{"img/s":>9}{"MB/s":>8}{"ratio":>7}'
        f'{"peak RSS":>10}{"worker RSS":>12}{"process s":>11}')
  names = {'research_slim': '(a) research/slim loop (TF decode)',
           'in_process': '(b) convert.py, in-process',
           'multi_process': '(c) convert.py, 2 worker processes',
           'multi_process_10': '(d) (c) with 10 shards per split'}
  for kind, r in results.items():
    worker = f'{r["worker_rss_kb"] / 1024:.0f} MB' if kind.startswith('multi') else '-'
    print(f'  {names[kind]:<36}{r["seconds"]:>9.2f}{count / r["seconds"]:>9.0f}'
          f'{size / 1e6 / r["seconds"]:>8.0f}{base["seconds"] / r["seconds"]:>6.1f}x'
          f'{r["rss_kb"] / 1024:>7.0f} MB{worker:>12}{r["wall"]:>11.1f}')


def main(argv=None):
  parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
  parser.add_argument('--data_dir', default=os.path.join(tempfile.gettempdir(), 'slimdata_bench'),
                      help='where the generated images are cached')
  parser.add_argument('--large', action=argparse.BooleanOptionalAction, default=True,
                      help='also run on 20,000 images')
  parser.add_argument('--runs', default='research_slim,in_process,multi_process,multi_process_10')
  parser.add_argument('--child', default=None, help=argparse.SUPPRESS)
  parser.add_argument('--data', default=None, help=argparse.SUPPRESS)
  parser.add_argument('--out', default=None, help=argparse.SUPPRESS)
  args = parser.parse_args(argv)
  if args.child:
    return child(args)
  full = 20000 if args.large else 3670
  print(f'preparing {full} images in {args.data_dir} (cached) ...', flush=True)
  everything = generate(os.path.join(args.data_dir, f'flowers_like_{full}'), full)
  sets = [('3,670 images', subset(everything, os.path.join(args.data_dir, 'flowers_like_3670'),
                                  3670))]
  if args.large:
    sets.append(('20,000 images', everything))
  print(f'python {sys.version.split()[0]}, {os.cpu_count()} CPUs, load average '
        f'{os.getloadavg()[0]:.1f} (other processes share the CPUs)')
  for label, directory in sets:
    count, size = dataset_stats(directory)
    results = {kind: measure(kind, directory) for kind in args.runs.split(',')}
    report(label, count, size, results)
  return 0


if __name__ == '__main__':
  sys.exit(main())
