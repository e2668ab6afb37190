"""Converts the embedded MNIST sample (6000 + 1000 digits) and prints images per second.

    python bench/convert_mnist_bench.py                  # in-process, multi-process, baseline
    python bench/convert_mnist_bench.py --repeats 3 --num_train 60000 --num_test 10000

Runs, each into a fresh folder, timed end to end (prepare, plan, Beam, manifest):
- slimdata, Beam's in-process runner, the published layout (1 shard per split);
- slimdata, Beam's multi-process runner with 2 workers, the same layout and 4 shards per split;
- baseline: research/slim's loop in this process (a TF session call per PNG,
  tf.io.TFRecordWriter), the same images.
"""
import argparse
import gzip
import os
import shutil
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
if ROOT not in sys.path:
  sys.path.insert(0, ROOT)
os.environ.setdefault('TF_CPP_MIN_LOG_LEVEL', '2')

# pylint: disable=wrong-import-position
import numpy as np
from apache_beam.options.pipeline_options import PipelineOptions

from converters import mnist
from converters import pipeline
from converters import samples
# pylint: enable=wrong-import-position


def _slimdata(raw, work, beam_args, num_shards=None):
  out = tempfile.mkdtemp(dir=work)
  start = time.perf_counter()
  pipeline.convert(mnist.MnistSource(source_dir=raw), dataset_dir=out, num_shards=num_shards,
                   pipeline_options=PipelineOptions(beam_args))
  seconds = time.perf_counter() - start
  shutil.rmtree(out)
  return seconds


def _research_slim_loop(raw, work):
  """research/slim's download_and_convert_mnist: one session.run(encode_png) per image."""
  import tensorflow as tf  # pylint: disable=import-outside-toplevel
  out = tempfile.mkdtemp(dir=work)
  start = time.perf_counter()
  with tf.Graph().as_default():
    image = tf.compat.v1.placeholder(dtype=tf.uint8, shape=(28, 28, 1))
    encoded_png = tf.image.encode_png(image)
    with tf.compat.v1.Session() as sess:
      for split, (images_file, labels_file) in mnist.FILES.items():
        with gzip.open(os.path.join(raw, images_file)) as f:
          f.read(16)
          images = np.frombuffer(f.read(), np.uint8).reshape(-1, 28, 28, 1)
        with gzip.open(os.path.join(raw, labels_file)) as f:
          f.read(8)
          labels = np.frombuffer(f.read(), np.uint8)
        with tf.io.TFRecordWriter(os.path.join(out, f'mnist_{split}.tfrecord')) as writer:
          for j in range(len(images)):
            png = sess.run(encoded_png, feed_dict={image: images[j]})
            example = tf.train.Example(features=tf.train.Features(feature={
                'image/encoded': tf.train.Feature(bytes_list=tf.train.BytesList(value=[png])),
                'image/format': tf.train.Feature(bytes_list=tf.train.BytesList(value=[b'png'])),
                'image/class/label': tf.train.Feature(
                    int64_list=tf.train.Int64List(value=[int(labels[j])])),
                'image/height': tf.train.Feature(int64_list=tf.train.Int64List(value=[28])),
                'image/width': tf.train.Feature(int64_list=tf.train.Int64List(value=[28])),
            }))
            writer.write(example.SerializeToString())
  seconds = time.perf_counter() - start
  shutil.rmtree(out)
  return seconds


def main(argv=None):
  parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
  parser.add_argument('--num_train', type=int, default=6000)
  parser.add_argument('--num_test', type=int, default=1000)
  parser.add_argument('--repeats', type=int, default=2, help='best of this many runs')
  parser.add_argument('--no_baseline', action='store_true')
  args = parser.parse_args(argv)
  # Multi-process workers import converters/ from here.
  os.environ['PYTHONPATH'] = os.pathsep.join(
      p for p in [ROOT, os.environ.get('PYTHONPATH', '')] if p)

  work = tempfile.mkdtemp(prefix='convert_mnist_bench_')
  try:
    raw = os.path.join(work, 'raw')
    samples.write_mnist_sample(raw, num_train=args.num_train, num_test=args.num_test)
    n = args.num_train + args.num_test
    multi = ['--direct_running_mode=multi_processing', '--direct_num_workers=2',
             '--default_sdk_harness_log_level=WARNING']
    runs = [('slimdata, in-process runner, 1 shard/split', lambda: _slimdata(raw, work, [])),
            ('slimdata, 2 worker processes, 1 shard/split',
             lambda: _slimdata(raw, work, multi)),
            ('slimdata, 2 worker processes, 4 shards/split',
             lambda: _slimdata(raw, work, multi, num_shards=4))]
    if not args.no_baseline:
      runs.append(('baseline: research/slim loop (TF session per PNG)',
                   lambda: _research_slim_loop(raw, work)))
    print(f'MNIST sample: {args.num_train} train + {args.num_test} test images, '
          f'best of {args.repeats}, {os.cpu_count()} CPUs')
    results = {}
    for name, run in runs:
      results[name] = min(run() for _ in range(args.repeats))
    baseline = results.get(runs[-1][0]) if not args.no_baseline else None
    for name, seconds in results.items():
      ratio = f'  {baseline / seconds:4.2f}x baseline' if baseline else ''
      print(f'{name:50s} {seconds:6.2f} s  {n / seconds:8.0f} img/s{ratio}')
  finally:
    shutil.rmtree(work)


if __name__ == '__main__':
  main()
