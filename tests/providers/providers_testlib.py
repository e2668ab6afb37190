"""Shared inputs for provider tests: real PNG/JPEG records in real TFRecord shards.

Every example's label is its global number (shard-major), so a test can tell exactly
which examples it got; images are small random pixel arrays kept beside the files, so
decoded pixels can be compared with what PIL wrote.
"""
import io
import os

import numpy as np
from PIL import Image
import tensorflow as tf

from descriptors import dataset as dataset_lib
from descriptors import schema
from descriptors import tfexample_decoder as td

HEIGHT, WIDTH = 6, 5


def png_bytes(pixels):
  buf = io.BytesIO()
  Image.fromarray(pixels).save(buf, 'PNG')
  return buf.getvalue()


def jpeg_bytes(pixels):
  buf = io.BytesIO()
  Image.fromarray(pixels).save(buf, 'JPEG', quality=95)
  return buf.getvalue()


def example(encoded, label, fmt='png', height=HEIGHT, width=WIDTH):
  return schema.IMAGE.encode_example({schema.ENCODED: encoded, schema.FORMAT: fmt,
                                      schema.LABEL: label, schema.HEIGHT: height,
                                      schema.WIDTH: width})


def write_shards(directory, num_shards, per_shard, name='data', seed=0, start=0):
  """Writes PNG records; returns (files, {label: pixels}, {label: serialized record})."""
  os.makedirs(directory, exist_ok=True)
  rng = np.random.RandomState(seed)
  files, pixels, records = [], {}, {}
  label = start
  for s in range(num_shards):
    path = os.path.join(directory, f'{name}-{s:05d}-of-{num_shards:05d}.tfrecord')
    with tf.io.TFRecordWriter(path) as writer:
      for _ in range(per_shard):
        image = rng.randint(0, 256, (HEIGHT, WIDTH, 3), np.uint8)
        record = example(png_bytes(image), label)
        writer.write(record)
        pixels[label], records[label] = image, record
        label += 1
    files.append(path)
  return files, pixels, records


def write_records(path, records, options=None):
  with tf.io.TFRecordWriter(path, options=options) as writer:
    for r in records:
      writer.write(r)
  return path


def decoder(fixed_shape=True):
  shape = [HEIGHT, WIDTH, 3] if fixed_shape else None
  return td.TFExampleDecoder(schema.IMAGE.keys_to_features(),
                             {'image': td.Image(shape=shape, channels=3),
                              'label': td.Tensor(schema.LABEL)})


def dataset(files, num_samples=None, reader=None, fixed_shape=True):
  return dataset_lib.Dataset(data_sources=files, reader=reader or tf.compat.v1.TFRecordReader,
                             decoder=decoder(fixed_shape), num_samples=num_samples,
                             items_to_descriptions={'image': 'an image', 'label': 'its number'})


def record_offsets(records):
  """Byte offsets of `records` in a TFRecord file: 16 bytes of framing per record."""
  offsets, offset = [], 0
  for r in records:
    offsets.append(offset)
    offset += len(r) + 16
  return offsets


def drain_eager(provider, items):
  """Every example eager `get` returns until OutOfRangeError, as lists of numpy values."""
  out = []
  while True:
    try:
      out.append([t.numpy() for t in provider.get(items)])
    except tf.errors.OutOfRangeError:
      return out


def drain_session(sess, fetches, limit=100000):
  out = []
  for _ in range(limit):
    try:
      out.append(sess.run(fetches))
    except tf.errors.OutOfRangeError:
      return out
  raise AssertionError(f'no OutOfRangeError after {limit} runs')
