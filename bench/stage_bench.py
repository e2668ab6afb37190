"""What one tf.data stage costs per element: the basis of the provider's pipeline shape.

    python bench/stage_bench.py            # about a minute on 2 cores

Each variant adds stages to the same in-memory (cached) dataset of small dict elements
and is timed side by side in one process, in interleaved rounds (CPU time per element,
median of the rounds). A stage that calls a function per element (map, filter, scan)
costs far more than one that does not (enumerate, ignore_errors, unbatch, prefetch), so
the provider runs as few per-example function stages as it can (docs/PERFORMANCE.md).
Never asserts.
"""
import argparse
import os
import statistics
import time

os.environ.setdefault('TF_CPP_MIN_LOG_LEVEL', '2')


def variants(tf, elements):
  plain = tf.autograph.experimental.do_not_convert
  base = tf.data.Dataset.range(elements).map(
      lambda i: {'a': i, 'b': i + 1, 'key': tf.strings.as_string(i)}).cache()
  base.reduce(tf.constant(0, tf.int64), lambda n, _: n + 1)   # fill the cache

  @plain
  def add(e):
    return {'a': e['a'] + 1, 'b': e['b'], 'key': e['key']}

  @plain
  def checked(e):   # the provider's check: an Assert in an untaken cond branch
    check = tf.cond(e['a'] >= 0, tf.no_op, lambda: tf.debugging.Assert(
        False, [tf.strings.join(['bad record ', e['key']])]))
    with tf.control_dependencies([check]):
      return {'a': tf.identity(e['a']), 'b': e['b'], 'key': e['key']}

  def maps(n):
    ds = base
    for _ in range(n):
      ds = ds.map(add)
    return ds
  return {
      'cached elements': base,
      '+ enumerate, ignore_errors': base.enumerate().ignore_errors(),
      '+ prefetch(64)': base.prefetch(64),
      '+ batch(32).unbatch()': base.batch(32).unbatch(),
      '+ map': maps(1),
      '+ 4 maps': maps(4),
      '+ map with a cond': base.map(checked),
      '+ filter': base.filter(plain(lambda e: e['a'] >= 0)),
      '+ map(parallel 4)': base.map(add, num_parallel_calls=4, deterministic=True),
  }


def cpu_us_per_element(ds, elements):
  start = time.process_time()
  for _ in ds.batch(500):   # the Python loop runs per 500 elements
    pass
  return 1e6 * (time.process_time() - start) / elements


def main(argv=None):
  parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
  parser.add_argument('--elements', type=int, default=50000)
  parser.add_argument('--rounds', type=int, default=5)
  args = parser.parse_args(argv)
  import tensorflow as tf
  tf.get_logger().setLevel('ERROR')
  datasets = variants(tf, args.elements)
  times = {name: [] for name in datasets}
  for _ in range(args.rounds):
    for name, ds in datasets.items():
      times[name].append(cpu_us_per_element(ds, args.elements))
  base = statistics.median(times['cached elements'])
  print(f'stage_bench: {os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.1f}, '
        f'{args.elements} elements, median of {args.rounds} rounds')
  print(f'  {"pipeline":28s} {"CPU us/element":>15s} {"over cached":>12s}')
  for name, t in times.items():
    median = statistics.median(t)
    print(f'  {name:28s} {median:15.1f} {median - base:+12.1f}')
  return 0


if __name__ == '__main__':
  raise SystemExit(main())
