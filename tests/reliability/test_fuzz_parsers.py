"""Malformed inputs never crash a source parser, hang it, or raise an error that does not name
the input.

Each parser family gets at least 10,000 inputs made by a seeded mutation loop
over valid inputs in the real formats (bit flips, byte overwrites with
boundary values, truncations, insertions, deletions, duplicated ranges), so
every run tries the same cases. Each case is bounded by a SIGALRM timer (a
hang fails the test instead of stalling it). A case passes when the parser
accepts the input or raises one of the documented errors
(`converters.errors.ConversionError` subclasses; `images.BadImage` from the
image functions, whose callers name the file) with the input's file name in
its message. The parsing functions are called directly, not through Beam.
"""
import contextlib
import gzip
import io
import os
import random
import signal
import tarfile
import zipfile

import numpy as np

from converters import cifar10
from converters import errors
from converters import extract
from converters import folder
from converters import images
from converters import mnist
from converters import samples
from converters import sources
from tests.converters import image_fixtures as fx

CASE_BOUND_S = 5
_BOUNDARY = (b'\x00', b'\xff', b'\x7f', b'\x80', b'\xff\xff\xff\xff', b'\x00\x00\x00\x00',
             b'\x7f\xff\xff\xff', b'\x80\x00\x00\x00', b'\xff\xd9', b'\xff\xda', b'..', b'/')


def mutate(data, rng):
  """`data` with 1-4 random mutations (deterministic for `rng`'s state)."""
  data = bytearray(data)
  for _ in range(rng.randint(1, 4)):
    op = rng.randrange(7)
    n = len(data)
    if op == 0 and n:                                  # flip a bit
      i = rng.randrange(n)
      data[i] ^= 1 << rng.randrange(8)
    elif op == 1 and n:                                # overwrite with a boundary value
      value = rng.choice(_BOUNDARY)
      i = rng.randrange(n)
      data[i:i + len(value)] = value
    elif op == 2:                                      # truncate
      del data[rng.randrange(n + 1):]
    elif op == 3:                                      # insert random bytes
      i = rng.randrange(n + 1)
      data[i:i] = rng.randbytes(rng.randint(1, 16))
    elif op == 4 and n:                                # delete a range
      i = rng.randrange(n)
      del data[i:i + rng.randint(1, 64)]
    elif op == 5 and n:                                # duplicate a range
      i = rng.randrange(n)
      data[i:i] = data[i:i + rng.randint(1, 64)]
    elif op == 6 and n:                                # random byte
      data[rng.randrange(n)] = rng.randrange(256)
  return bytes(data)


class Hang(Exception):
  pass


@contextlib.contextmanager
def bounded(label):
  """Fails a case that runs longer than CASE_BOUND_S (main thread only)."""
  def alarm(*_):
    raise Hang(f'{label}: still running after {CASE_BOUND_S} s')
  previous = signal.signal(signal.SIGALRM, alarm)
  signal.setitimer(signal.ITIMER_REAL, CASE_BOUND_S)
  try:
    yield
  finally:
    signal.setitimer(signal.ITIMER_REAL, 0)
    signal.signal(signal.SIGALRM, previous)


class Tally:
  """Counts outcomes; the first unexpected exception of a case is re-raised with its input."""

  def __init__(self):
    self.cases = 0
    self.accepted = 0
    self.rejected = {}

  def run(self, label, name, fn, allowed=(errors.ConversionError,)):
    self.cases += 1
    try:
      with bounded(label):
        fn()
    except allowed as e:
      assert name in str(e), f'{label}: {type(e).__name__} does not name {name}: {e}'
      self.rejected[type(e).__name__] = self.rejected.get(type(e).__name__, 0) + 1
      return False
    except Hang:
      raise
    except Exception as e:  # pylint: disable=broad-except
      raise AssertionError(f'{label}: undocumented {type(e).__name__}: {e}') from e
    self.accepted += 1
    return True


# MNIST idx files.

def _idx_seeds():
  images = samples.render_digits([1, 7, 3], seed=0)
  return [(samples.idx_images_bytes(images), mnist.IMAGES_MAGIC),
          (samples.idx_labels_bytes([1, 7, 3]), mnist.LABELS_MAGIC)]


def test_mnist_idx_parser_survives_10000_malformed_files(tmp_path):
  rng = random.Random(1)
  tally = Tally()
  name = 'train-images-idx3-ubyte.gz'
  seeds = _idx_seeds()
  for i in range(8000):
    data, magic = rng.choice(seeds)
    bad = mutate(data, rng)
    tally.run(f'idx case {i}', name,
              lambda: mnist.parse_idx_header(bad, path=name, magic=magic))
  # The whole source, with one of its four gzip files mutated before or after compression.
  raw = tmp_path / 'raw'
  samples.write_mnist_sample(str(raw), num_train=3, num_test=2, seed=0)
  originals = {f: (raw / f).read_bytes() for f in os.listdir(raw)}
  for i in range(2000):
    file = rng.choice(sorted(originals))
    if rng.random() < 0.5:
      bad = mutate(originals[file], rng)
    else:
      bad = gzip.compress(mutate(gzip.decompress(originals[file]), rng), mtime=0)
    (raw / file).write_bytes(bad)
    tally.run(f'mnist case {i} ({file})', file,
              lambda: mnist.MnistSource(source_dir=str(raw)).prepare())
    (raw / file).write_bytes(originals[file])
  print(f'mnist: {tally.cases} cases, {tally.accepted} accepted, rejected {tally.rejected}')
  assert tally.cases >= 10000 and tally.rejected


# CIFAR-10 binary batches.

def test_cifar10_batch_parser_survives_10000_malformed_folders(tmp_path):
  rng = random.Random(2)
  top = tmp_path / cifar10.TOP
  top.mkdir()
  data_rng = np.random.default_rng(0)
  originals = {}
  for file in cifar10.BATCHES['train'] + cifar10.BATCHES['test']:
    records = data_rng.integers(0, 256, (1, cifar10.RECORD_BYTES), dtype=np.uint8)
    records[:, 0] %= 10
    originals[file] = records.tobytes()
  originals[cifar10.META] = ''.join(f'class{i}\n' for i in range(10)).encode()
  for file, data in originals.items():
    (top / file).write_bytes(data)
  tally = Tally()
  files = sorted(originals)
  for i in range(10000):
    file = cifar10.META if rng.random() < 0.15 else rng.choice(files)
    (top / file).write_bytes(mutate(originals[file], rng))

    def parse():
      source = cifar10.Cifar10Source(source_dir=str(top))
      source.prepare()
      list(source.read('test', source.plan()['test']))
    tally.run(f'cifar case {i} ({file})', file, parse)
    (top / file).write_bytes(originals[file])
  print(f'cifar10: {tally.cases} cases, {tally.accepted} accepted, rejected {tally.rejected}')
  assert tally.cases >= 10000 and tally.rejected


# Image sniffing, headers and re-encoding (converters/images.py).

def _image_seeds():
  gif = fx.encode(fx.pixels(3, 20, 16), 'GIF')
  return [fx.jpeg(1, 20, 16), fx.jpeg(2, 20, 16, mode='L'), fx.jpeg(3, 20, 16, mode='CMYK'),
          fx.encode(fx.pixels(4, 20, 16), 'JPEG', progressive=True), fx.png(5, 20, 16),
          fx.png(6, 20, 16, mode='RGBA'), fx.png(7, 20, 16, mode='P'), gif,
          fx.encode(fx.pixels(8, 20, 16), 'BMP'), fx.encode(fx.pixels(9, 20, 16), 'WEBP')]


def test_image_parser_survives_10000_malformed_images(tmp_path):
  rng = random.Random(3)
  seeds = _image_seeds()
  tally = Tally()
  for i in range(10000):
    bad = mutate(rng.choice(seeds), rng)
    target = rng.choice(images.TARGETS)
    check = images.DECODE if i % 4 == 0 else images.STRUCTURE
    # prepare() raises only BadImage, without a name: its callers add the file's name.
    tally.run(f'image case {i}', '', lambda: images.prepare(bad, target=target, check=check),
              allowed=(images.BadImage,))
  # ...as the folder sources do: every bad file comes back as Skipped, named by its path.
  root = tmp_path / 'photos'
  refs = []
  for i in range(500):
    rel = f'class/{i:03d} é.jpg'
    fx.write_files(root, {rel: mutate(rng.choice(seeds), rng)})
    refs.append((rel, 0))
  source = folder.FolderSource(source_dir=str(root))
  source.root = str(root)
  with bounded('folder read'):
    items = list(source.read('train', refs))
  assert len(items) == len(refs)
  for (rel, _), item in zip(refs, items):
    key = item.key if isinstance(item, sources.Skipped) else item[0]
    assert key == os.path.join(str(root), rel)
  skipped = sum(isinstance(item, sources.Skipped) for item in items)
  print(f'images: {tally.cases} + {len(refs)} cases, {tally.accepted} accepted, '
        f'rejected {tally.rejected}; read(): {skipped} of {len(refs)} skipped')
  assert tally.cases >= 10000 and tally.rejected and skipped


# Archives (converters/extract.py).

def _archive_seeds():
  members = {'photos/a/1.jpg': b'one' * 10, 'photos/b/2.jpg': b'two' * 10}
  seeds = []
  for mode in ('w', 'w:gz'):
    out = io.BytesIO()
    with tarfile.open(fileobj=out, mode=mode) as tar:
      for name, data in members.items():
        info = tarfile.TarInfo(name)
        info.size = len(data)
        tar.addfile(info, io.BytesIO(data))
      link = tarfile.TarInfo('photos/a/link.jpg')
      link.type = tarfile.SYMTYPE
      link.linkname = '1.jpg'
      tar.addfile(link)
    seeds.append(('.tar' if mode == 'w' else '.tgz', out.getvalue()))
  out = io.BytesIO()
  with zipfile.ZipFile(out, 'w', compression=zipfile.ZIP_DEFLATED) as zf:
    for name, data in members.items():
      zf.writestr(name, data)
  seeds.append(('.zip', out.getvalue()))
  return seeds


def test_archive_extractor_survives_10000_malformed_archives(tmp_path):
  rng = random.Random(4)
  seeds = _archive_seeds()
  box = tmp_path / 'box'
  box.mkdir()
  tally = Tally()
  for i in range(10000):
    suffix, data = rng.choice(seeds)
    archive = box / f'case_{i}{suffix}'
    archive.write_bytes(mutate(data, rng))
    target = box / f'out_{i}'
    tally.run(f'archive case {i}', archive.name,
              lambda: extract.extract_archive(str(archive), str(target), max_bytes=1 << 20))
    if i % 2 == 0:
      with open(archive, 'rb') as f:
        tally.run(f'archive stream case {i}', archive.name,
                  lambda: list(extract.iter_tar_files(f, archive=str(archive),
                                                      max_bytes=1 << 20)))
    archive.unlink()
  # Nothing was written beside the targets.
  assert all(name.startswith('out_') for name in os.listdir(box))
  print(f'archives: {tally.cases} cases, {tally.accepted} accepted, rejected {tally.rejected}')
  assert tally.cases >= 10000 and tally.rejected
