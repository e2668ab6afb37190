"""Inception training crops from JPEG bytes: fused decode-and-crop vs decode-then-crop.

    python bench/preprocess_bench.py                          # 400 JPEGs, 5 passes each
    python bench/preprocess_bench.py --num_images 1000 --parallel 2

On generated photo-like JPEGs (sides 240-500 px, quality 90, 4:2:0, in memory), runs in
this process, alternating so both see the same machine load:
  (a) baseline, decode-then-crop: `tf.io.decode_jpeg` of the whole image, a window from
      `tf.image.sample_distorted_bounding_box` on its shape, `tf.slice`;
  (b) fused: `models.preprocessing.jpeg_crop.decode_and_random_crop` (window sampled on
      `tf.image.extract_jpeg_shape`, `tf.image.decode_and_crop_jpeg` of that window only).
Both use research/slim's Inception crop settings and the same op seed, so they crop the
same windows. Each is timed as the crop alone and as crop + resize to 224 + batch 32 (a
training input pipeline), in a tf.data pipeline with --parallel map calls. Prints, for the
best of --repeats passes, images per second of wall time and milliseconds of process CPU
time per image (steadier than wall time on a shared machine), and the ratios (b)/(a).
Prints only; asserts nothing.
"""
import argparse
import io
import os
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
if ROOT not in sys.path:
  sys.path.insert(0, ROOT)


def generate_jpegs(count, seed=0):
  """Photo-like JPEGs: smooth gradients, waves and noise; sides drawn from 240-500 px."""
  import numpy as np
  from PIL import Image
  rng = np.random.default_rng(seed)
  jpegs = []
  for _ in range(count):
    height, width = (int(v) for v in rng.integers(240, 501, 2))
    yy, xx = np.mgrid[0:height, 0:width].astype(np.float32)
    channels = []
    for _ in range(3):
      fy, fx, phase = rng.uniform(0.01, 0.08), rng.uniform(0.01, 0.08), rng.uniform(0, 6)
      wave = np.sin(yy * fy + xx * fx + phase) * rng.uniform(30, 90)
      channels.append(wave + rng.uniform(60, 190) + rng.normal(0, 12, (height, width)))
    pixels = np.stack(channels, -1).clip(0, 255).astype(np.uint8)
    buffer = io.BytesIO()
    Image.fromarray(pixels).save(buffer, 'JPEG', quality=90)
    jpegs.append(buffer.getvalue())
  return jpegs


def decode_then_crop(image_buffer, seed):
  """The baseline: decode everything, then keep the window."""
  import tensorflow as tf
  from models.preprocessing import jpeg_crop
  image = tf.io.decode_jpeg(image_buffer, channels=3)
  window, _ = jpeg_crop.sample_crop_window(tf.shape(image), seed=seed)
  return tf.slice(image, [window[0], window[1], 0], [window[2], window[3], 3])


def fused_crop(image_buffer, seed):
  from models.preprocessing import jpeg_crop
  return jpeg_crop.decode_and_random_crop(image_buffer, seed=seed)[0]


def time_pipeline(jpegs, crop_fn, *, resize, parallel, seed=7):
  """(images per wall second, CPU ms per image) of one pass over `jpegs` through crop_fn."""
  import tensorflow as tf
  dataset = tf.data.Dataset.from_tensor_slices(jpegs)
  if resize:
    dataset = dataset.map(
        lambda b: tf.image.resize(crop_fn(b, seed), [224, 224]), num_parallel_calls=parallel)
    dataset = dataset.batch(32)
  else:
    # Only the crop's shape leaves the pipeline: the timing is the crop's own.
    dataset = dataset.map(lambda b: tf.shape(crop_fn(b, seed)), num_parallel_calls=parallel)
    dataset = dataset.batch(256)
  start, start_cpu = time.perf_counter(), time.process_time()
  for _ in dataset:
    pass
  wall, cpu = time.perf_counter() - start, time.process_time() - start_cpu
  return len(jpegs) / wall, 1000 * cpu / len(jpegs)


def main(argv=None):
  parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
  parser.add_argument('--num_images', type=int, default=400)
  parser.add_argument('--repeats', type=int, default=5, help='passes per variant; best kept')
  parser.add_argument('--parallel', type=int, default=1, help='tf.data map parallelism')
  args = parser.parse_args(argv)

  os.environ.setdefault('TF_CPP_MIN_LOG_LEVEL', '2')
  import tensorflow as tf

  start = time.perf_counter()
  jpegs = generate_jpegs(args.num_images)
  megabytes = sum(len(j) for j in jpegs) / 1e6
  print(f'{len(jpegs)} JPEGs, {megabytes:.1f} MB, generated in '
        f'{time.perf_counter() - start:.1f} s; tf {tf.__version__}; '
        f'{os.cpu_count()} CPUs; map parallelism {args.parallel}')
  for resize in (False, True):
    label = 'crop + resize 224 + batch 32' if resize else 'crop only'
    fns = {'decode-then-crop': decode_then_crop, 'fused decode-and-crop': fused_crop}
    rates = {name: 0.0 for name in fns}
    cpu_ms = {name: float('inf') for name in fns}
    time_pipeline(jpegs[:32], fused_crop, resize=resize, parallel=args.parallel)  # warm-up
    for _ in range(args.repeats):
      for name, fn in fns.items():
        rate, ms = time_pipeline(jpegs, fn, resize=resize, parallel=args.parallel)
        rates[name], cpu_ms[name] = max(rates[name], rate), min(cpu_ms[name], ms)
    base_rate, base_ms = rates['decode-then-crop'], cpu_ms['decode-then-crop']
    print(f'\n{label}:')
    for name in fns:
      print(f'  {name:24s} {rates[name]:6.0f} img/s ({rates[name] / base_rate:4.2f}x)   '
            f'{cpu_ms[name]:5.2f} CPU ms/img ({base_ms / cpu_ms[name]:4.2f}x less CPU)')


if __name__ == '__main__':
  main()
