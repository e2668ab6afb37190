"""Fixtures for the command-line tools: load a tool by path, write a small converted dataset.

    def test_x(load_tool, write_dataset, tmp_path):
      manifest = write_dataset(tmp_path, 'toy', {'train': [(pixels, 0), ...]}, label_names=['a'])
      assert load_tool('verify').main(['--dataset_dir', str(tmp_path)]) == 0
"""
import hashlib
import importlib.util
import io
import os

import numpy as np
import pytest
from PIL import Image

from descriptors import manifest as manifest_lib
from descriptors import schema

TOOLS = os.path.join(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(
    __file__)))), 'tools')


@pytest.fixture(scope='session')
def load_tool():
  """`load_tool('verify')` -> the module tools/verify.py, loaded once by path (not a package)."""
  loaded = {}

  def load(name):
    if name not in loaded:
      path = os.path.join(TOOLS, f'{name}.py')
      # A private module name: tools/inspect.py must not become the standard library's `inspect`.
      spec = importlib.util.spec_from_file_location(f'slimdata_tools_{name}', path)
      module = importlib.util.module_from_spec(spec)
      spec.loader.exec_module(module)
      loaded[name] = module
    return loaded[name]
  return load


def encode_image(pixels, image_format='png'):
  """PIL-encoded bytes of a uint8 array (H, W) or (H, W, 3)."""
  buffer = io.BytesIO()
  Image.fromarray(np.asarray(pixels, dtype=np.uint8)).save(
      buffer, format={'png': 'PNG', 'jpeg': 'JPEG', 'jpg': 'JPEG'}[image_format])
  return buffer.getvalue()


def image_example(pixels, label, image_format='png', record_schema=schema.IMAGE, **extra):
  """A serialized Example as the converters write it; `extra` maps feature keys to values."""
  pixels = np.asarray(pixels, dtype=np.uint8)
  values = {schema.ENCODED: encode_image(pixels, image_format),
            schema.FORMAT: image_format.encode(),
            schema.LABEL: label, schema.HEIGHT: pixels.shape[0], schema.WIDTH: pixels.shape[1]}
  values.update(extra)
  return record_schema.encode_example(values)


@pytest.fixture(scope='session')
def make_example():
  """`make_example(pixels, label, image_format='png', record_schema=..., **{key: value})`."""
  return image_example


@pytest.fixture(scope='session')
def write_dataset():
  """`write_dataset(dir, name, {split: [record or (pixels, label)]}, ...)` -> the `Manifest`.

  Writes each split's records into `num_shards` TFRecord files with TensorFlow's
  own writer, `labels.txt`, and `<name>_manifest.json` with the true counts and
  sha256 of the files. `shard_template` defaults to the folder layout.
  """
  import tensorflow as tf

  def write(dataset_dir, name, splits, *, label_names, label_offset=0, image_format='png',
            num_shards=1, shard_template='{name}_{split}_{index:05d}-of-{num:05d}.tfrecord'):
    dataset_dir = str(dataset_dir)
    os.makedirs(dataset_dir, exist_ok=True)
    manifest_splits = {}
    for split, records in splits.items():
      records = [r if isinstance(r, bytes) else image_example(*r, image_format=image_format)
                 for r in records]
      shards = []
      for index in range(num_shards):
        file = shard_template.format(name=name, split=split, index=index, num=num_shards)
        path = os.path.join(dataset_dir, file)
        part = records[index::num_shards]
        with tf.io.TFRecordWriter(path) as writer:
          for record in part:
            writer.write(record)
        with open(path, 'rb') as f:
          data = f.read()
        shards.append(manifest_lib.Shard(file=file, num_examples=len(part),
                                         sha256=hashlib.sha256(data).hexdigest(),
                                         bytes=len(data)))
      manifest_splits[split] = manifest_lib.Split(shards=tuple(shards))
    manifest = manifest_lib.Manifest(
        name=name, splits=manifest_splits, label_names=tuple(label_names),
        label_offset=label_offset, image_format=image_format, slimdata_version='test')
    with open(os.path.join(dataset_dir, schema.manifest_name(name)), 'w') as f:
      f.write(manifest.to_json())
    with open(os.path.join(dataset_dir, schema.LABELS_FILENAME), 'w') as f:
      f.write(schema.format_labels(manifest.labels_to_names))
    return manifest
  return write
