"""Helpers for the descriptors tests: real image bytes, records on disk, graph/eager runs."""
import collections
import hashlib
import io
import os

import numpy as np
from PIL import Image as PILImage
import tensorflow as tf

from descriptors import manifest as manifest_lib
from descriptors import schema

MODES = ('graph', 'eager')
Sparse = collections.namedtuple('Sparse', 'indices values dense_shape')


def pixels(height, width, channels=3, seed=0):
  """Random uint8 pixels, [h, w, c] (or [h, w] for channels=0 meaning PIL 'L')."""
  shape = (height, width) if channels in (0, 1) else (height, width, channels)
  return np.random.RandomState(seed).randint(0, 256, shape, dtype=np.uint8)


def encode(array, fmt, **kwargs):
  """`array` encoded by PIL as `fmt` ('PNG', 'JPEG', 'GIF', 'BMP', 'WEBP')."""
  buf = io.BytesIO()
  PILImage.fromarray(array).save(buf, format=fmt, **kwargs)
  return buf.getvalue()


def pil_decode(data, mode='RGB'):
  """What PIL decodes from `data`, as [h, w, c] uint8."""
  image = np.asarray(PILImage.open(io.BytesIO(data)).convert(mode))
  return image[..., None] if image.ndim == 2 else image


def _to_numpy(value):
  if isinstance(value, (tf.sparse.SparseTensor, tf.compat.v1.SparseTensorValue)):
    return Sparse(*(np.asarray(v) for v in (value.indices, value.values, value.dense_shape)))
  if isinstance(value, (list, tuple)):
    return [_to_numpy(v) for v in value]
  return np.asarray(value)


def evaluate(mode, build):
  """Calls `build()` (which makes tensors) in `mode` and returns its values as NumPy."""
  if mode == 'eager':
    return _to_numpy(build())
  with tf.Graph().as_default():
    out = build()
    with tf.compat.v1.Session() as sess:
      sess.run(tf.compat.v1.tables_initializer())
      return _to_numpy(sess.run(out))


def write_records(path, records):
  with tf.io.TFRecordWriter(path) as writer:
    for record in records:
      writer.write(record)
  with open(path, 'rb') as f:
    return hashlib.sha256(f.read()).hexdigest()


def read_records(paths):
  return [r.numpy() for r in tf.data.TFRecordDataset(paths)]


def write_shards(directory, spec, split, examples_per_shard, make_example, num_shards=None):
  """Writes `split` as `spec` names it; returns the manifest Split and the records."""
  num = num_shards or len(examples_per_shard)
  shards, records = [], []
  for index, count in enumerate(examples_per_shard):
    name = spec.shard_name(split, index, num)
    shard_records = [make_example(len(records) + i) for i in range(count)]
    sha = write_records(os.path.join(directory, name), shard_records)
    shards.append(manifest_lib.Shard(file=name, num_examples=count, sha256=sha))
    records += shard_records
  return manifest_lib.Split(shards=tuple(shards)), records


def write_manifest(directory, name, splits, label_names=(), **kwargs):
  manifest = manifest_lib.Manifest(name=name, splits=splits, label_names=tuple(label_names),
                                   **kwargs)
  with open(os.path.join(directory, schema.manifest_name(name)), 'w') as f:
    f.write(manifest.to_json())
  return manifest


def write_labels(directory, text):
  with open(os.path.join(directory, schema.LABELS_FILENAME), 'w') as f:
    f.write(text)
