"""Fuzzing `TFExampleDecoder` with 10,000 malformed records: what it raises, and what TF does.

A seeded mutation loop (the same cases every run) over valid serialized Examples of
the IMAGE schema (PNG, gray PNG, JPEG, GIF, BMP) and the ImageNet schema (JPEG with
boxes): bit flips, truncation, random bytes, inserted and duplicated ranges, features
of the wrong type or count, box lists of unequal length, and bad image bytes under a
valid Example. Each input goes through a `tf.function`-compiled decode of every item.

What holds (checked here): the decode returns items of the promised dtype and rank,
or raises `tf.errors.InvalidArgumentError`, never hangs (each run is a child process
with a bound), except for two TensorFlow 2.21 faults on Examples that do not parse:
TensorFlow's parse error quotes the record's bytes and, through a `tf.function`,
fails to decode its own message (UnicodeDecodeError); and its example parser now
and then crashes the process (SIGSEGV; one input, TF_SEGFAULT, does so every time).
A crashed child's input is recorded and a new child goes on after it. Both runs go
again through `validation.checked_examples` first: then no crash and no
UnicodeDecodeError, every rejection a TensorFlow error.
Read through a provider, a record that fails to decode is named by its shard and
record (`errors.CorruptDataError`), and `skip_corrupt` skips exactly the records the
direct decode rejects; with `validate_records=True` the crashing record too.
docs/RELIABILITY.md reports the counts (`-s` prints them).
"""
import collections
import functools
import io
import signal
import subprocess
import sys

from google.protobuf import message
from google.protobuf import unknown_fields
import numpy as np
from PIL import Image
import pytest
import tensorflow as tf

from descriptors import dataset as dataset_lib
from descriptors import imagenet
from descriptors import loading
from descriptors import schema
from descriptors import tfexample_decoder as td
from providers import dataset_data_provider as ddp
from providers import errors
from providers import validation
from tests.conftest import ROOT
from tests.providers import providers_testlib as lib

CASES_PER_DECODER = 5000      # 10,000 inputs in all
# A bound against hanging, not a timing: a child decodes 5,000 inputs in a few seconds.
HANG_BOUND_S = 300
_KIND_OF = {f.key: f.kind for f in schema.IMAGENET.features}
# An input of the IMAGE run that crashes TensorFlow 2.21 itself, alone in a fresh process
# (SIGSEGV inside tf.io.parse_single_example): the last test proves it.
TF_SEGFAULT = 3551


def _encode(pixels, fmt, **kwargs):
  buf = io.BytesIO()
  Image.fromarray(pixels).save(buf, fmt, **kwargs)
  return buf.getvalue()


def _image_decoder():
  return td.TFExampleDecoder(schema.IMAGE.keys_to_features(),
                             {'image': td.Image(channels=3), 'label': td.Tensor(schema.LABEL)})


def _seed_values(rng):
  """{name: (schema, feature values)}: valid examples the mutations start from."""
  rgb = rng.randint(0, 256, (6, 5, 3), np.uint8)
  gray = rng.randint(0, 256, (7, 4), np.uint8)
  image = {schema.LABEL: 3, schema.HEIGHT: 6, schema.WIDTH: 5}
  boxes = {schema.BBOX_YMIN: [0.1, 0.2], schema.BBOX_XMIN: [0.0, 0.3],
           schema.BBOX_YMAX: [0.5, 0.9], schema.BBOX_XMAX: [0.6, 1.0],
           schema.BBOX_LABEL: [7, 7]}
  imagenet_values = dict(image, **{schema.ENCODED: _encode(rgb, 'JPEG', quality=90),
                                   schema.FORMAT: 'jpeg', schema.SYNSET: 'n01440764',
                                   schema.TEXT: 'tench', schema.FILENAME: 'n01440764_1.JPEG'})
  return {
      'png': (schema.IMAGE, dict(image, **{schema.ENCODED: _encode(rgb, 'PNG'),
                                           schema.FORMAT: 'png'})),
      'gray png': (schema.IMAGE, dict(image, **{schema.ENCODED: _encode(gray, 'PNG'),
                                                schema.FORMAT: 'png'})),
      'jpeg': (schema.IMAGE, dict(image, **{schema.ENCODED: _encode(rgb, 'JPEG'),
                                            schema.FORMAT: 'jpeg'})),
      'gif': (schema.IMAGE, dict(image, **{schema.ENCODED: _encode(rgb, 'GIF'),
                                           schema.FORMAT: 'gif'})),
      'bmp': (schema.IMAGE, dict(image, **{schema.ENCODED: _encode(rgb, 'BMP'),
                                           schema.FORMAT: 'bmp'})),
      'imagenet': (schema.IMAGENET, dict(imagenet_values, **boxes)),
      'imagenet, no boxes': (schema.IMAGENET, imagenet_values),
  }


def _as_list(value):
  return list(value) if isinstance(value, (list, tuple)) else [value]


def _proto(values, kinds):
  """A serialized Example with `values[key]` stored as `kinds[key]` ('bytes', 'int64',
  'float'), whatever the schema says: how wrong feature types are made."""
  feature = {}
  for key, value in values.items():
    items = _as_list(value)
    kind = kinds.get(key, _KIND_OF[key])
    if kind == 'bytes':
      items = [v if isinstance(v, bytes) else str(v).encode() for v in items]
      feature[key] = tf.train.Feature(bytes_list=tf.train.BytesList(value=items))
    elif kind == 'int64':
      items = [int(v) if isinstance(v, (int, float)) else len(v) for v in items]
      feature[key] = tf.train.Feature(int64_list=tf.train.Int64List(value=items))
    else:
      items = [float(v) if isinstance(v, (int, float)) else float(len(v)) for v in items]
      feature[key] = tf.train.Feature(float_list=tf.train.FloatList(value=items))
  return tf.train.Example(features=tf.train.Features(feature=feature)).SerializeToString()


def _bad_image(rng, encoded):
  """Image bytes that are not a sound image of the format their header claims."""
  choice = rng.randint(6)
  if choice == 0:
    return encoded[:rng.randint(len(encoded))]                      # cut
  if choice == 1:
    return encoded[:8] + rng.bytes(rng.randint(1, 200))             # header, then noise
  if choice == 2:
    return rng.bytes(rng.randint(0, 300))                           # noise
  damaged = bytearray(encoded)
  for _ in range(rng.randint(1, 9)):                                # flips in the body
    damaged[rng.randint(len(damaged))] ^= 1 << rng.randint(8)
  if choice == 3:
    return bytes(damaged)
  if choice == 4:
    return b'\xff\xd8\xff' + bytes(damaged[3:])                     # claims to be a JPEG
  return b'\x89PNG' + bytes(damaged[4:])                            # claims to be a PNG


def _mutate_bytes(rng, data):
  data = bytearray(data)
  for _ in range(rng.randint(1, 5)):
    op = rng.randint(5)
    if op == 0 and data:                                            # bit flip
      data[rng.randint(len(data))] ^= 1 << rng.randint(8)
    elif op == 1 and data:                                          # truncation
      del data[rng.randint(len(data)):]
    elif op == 2:                                                   # insertion
      at = rng.randint(len(data) + 1)
      data[at:at] = rng.bytes(rng.randint(1, 16))
    elif op == 3 and data:                                          # duplicated range
      start = rng.randint(len(data))
      data[start:start] = data[start:start + rng.randint(1, 64)]
    elif op == 4 and data:                                          # boundary values
      at = rng.randint(len(data))
      data[at:at + 4] = [b'\xff\xff\xff\xff', b'\x00\x00\x00\x00', b'\x80\x80\x80\x80',
                         b'\x7f\xff\xff\xff'][rng.randint(4)]
  return bytes(data)


def make_inputs(seeds, count, seed):
  """`count` (kind of mutation, serialized record) pairs from the `seeds`."""
  rng = np.random.RandomState(seed)
  names = sorted(seeds)
  out = []
  for _ in range(count):
    record_schema, values = seeds[names[rng.randint(len(names))]]
    values = dict(values)
    kind = ['bytes', 'bytes', 'bytes', 'random', 'types', 'counts', 'image', 'image'][
        rng.randint(8)]
    if kind == 'bytes':
      record = _mutate_bytes(rng, record_schema.encode_example(values))
    elif kind == 'random':
      record = rng.bytes(rng.randint(0, 400))
    elif kind == 'types':
      keys = sorted(values)
      wrong = {}
      for key in rng.choice(keys, rng.randint(1, 4), replace=False):
        wrong[key] = [k for k in ('bytes', 'int64', 'float') if k != _KIND_OF[key]][
            rng.randint(2)]
      record = _proto(values, wrong)
    elif kind == 'counts':
      # Scalars given 0 or 2+ values; box lists of unequal length.
      for key in rng.choice(sorted(values), rng.randint(1, 3), replace=False):
        items = _as_list(values[key])
        values[key] = [] if rng.randint(2) else items * rng.randint(2, 4)
        if key in (schema.BBOX_XMIN, schema.BBOX_YMAX):
          values[key] = items[:1]
      record = _proto(values, {})
    else:
      values[schema.ENCODED] = _bad_image(rng, values[schema.ENCODED])
      if rng.randint(4) == 0:
        values[schema.FORMAT] = ['raw', 'RAW', 'png', 'jpeg', ''][rng.randint(5)]
      record = record_schema.encode_example(values)
    out.append((kind, record))
  return out


def _compiled(decoder, validated=False):
  items = decoder.list_items()

  @tf.function(input_signature=[tf.TensorSpec([], tf.string)])
  def decode(serialized):
    if validated:
      serialized = validation.checked_examples(serialized)
    return dict(zip(items, decoder.decode(serialized, items)))
  return decode


def _check_items(out):
  """The promised dtypes and ranks of a successful decode."""
  image = out['image']
  assert image.dtype == tf.uint8 and image.shape.rank == 3 and image.shape[-1] == 3
  assert out['label'].dtype == tf.int64 and out['label'].shape.rank == 0
  if 'object/bbox' in out:
    assert out['object/bbox'].dtype == tf.float32 and out['object/bbox'].shape[1] == 4
    assert out['object/label'].shape.rank == 1


def _decoder(name):
  return _image_decoder() if name == 'image' else loading.make_decoder(imagenet.SPEC)


def _run_inputs(name, first, out_path):
  """Child process: decodes inputs `first`.. of run `name`, one result line each, flushed."""
  run, _, mode = name.partition(':')
  decode = _compiled(_decoder(run), validated=mode == 'validated')
  decode.get_concrete_function()   # trace before the loop
  with open(out_path, 'a') as out:
    for i, (kind, record) in enumerate(_inputs_of(name)[first:], first):
      try:
        _check_items(decode(tf.constant(record)))
        outcome = 'ok'
      except tf.errors.OpError as e:
        outcome = type(e).__name__
      except UnicodeDecodeError:
        # TensorFlow's parse error quotes the record's bytes; through a tf.function,
        # TensorFlow itself fails to decode that message (see docs/RELIABILITY.md).
        outcome = 'UnicodeDecodeError'
      out.write(f'{i} {kind} {outcome}\n')
      out.flush()


def fuzz(name, tmp_path):
  """Runs every input of run `name` through the compiled decode, in child processes.

  TensorFlow 2.21 itself crashes (SIGSEGV) on a few malformed Examples, not always the
  same ones: when a child dies so, its input is recorded as 'SIGSEGV' and a new child
  goes on from the next one. Any other failure of a child (a Python exception of
  another type, a hang past the bound) fails the test.
  `name` is a run of RUNS, or `<run>:validated` to pass each input through
  `validation.checked_examples` first.
  Returns ({(mutation kind, outcome): count}, {index: outcome}).
  """
  out_path = tmp_path / f'{name.replace(":", "_")}.txt'
  results = {}
  first = 0
  while first < CASES_PER_DECODER:
    child = subprocess.run(
        [sys.executable, '-m', 'tests.reliability.test_fuzz_decoder', name, str(first),
         str(out_path)], cwd=ROOT, capture_output=True, text=True, timeout=HANG_BOUND_S,
        check=False)
    for line in out_path.read_text().splitlines():
      i, kind, outcome = line.split()
      results[int(i)] = (kind, outcome)
    if child.returncode == 0:
      break
    crashed = max(results, default=-1) + 1
    assert child.returncode == -signal.SIGSEGV, (
        f'input {crashed} of {name}: child exit {child.returncode}\n{child.stderr[-3000:]}')
    results[crashed] = (_inputs_of(name)[crashed][0], 'SIGSEGV')
    with open(out_path, 'a') as out:
      out.write(f'{crashed} {results[crashed][0]} SIGSEGV\n')
    first = crashed + 1
  assert sorted(results) == list(range(CASES_PER_DECODER))
  tally = collections.Counter(results.values())
  return tally, {i: outcome for i, (_, outcome) in results.items()}


def _report(name, tally):
  outcomes = collections.Counter()
  for (_, outcome), n in tally.items():
    outcomes[outcome] += n
  print(f'\n{name}: {sum(outcomes.values())} inputs, {dict(sorted(outcomes.items()))}')
  for kind in sorted({k for k, _ in tally}):
    print(f'  {kind}: ' + ', '.join(f'{o} {n}' for (k, o), n in sorted(tally.items())
                                     if k == kind))


@functools.lru_cache(maxsize=None)
def _image_inputs():
  seeds = _seed_values(np.random.RandomState(0))
  return make_inputs({k: v for k, v in seeds.items() if v[0] is schema.IMAGE},
                     CASES_PER_DECODER, seed=1)


@functools.lru_cache(maxsize=None)
def _imagenet_inputs():
  seeds = _seed_values(np.random.RandomState(0))
  return make_inputs({k: v for k, v in seeds.items() if v[0] is schema.IMAGENET},
                     CASES_PER_DECODER, seed=2)


RUNS = {'image': _image_inputs, 'imagenet': _imagenet_inputs}


def _inputs_of(name):
  return RUNS[name.partition(':')[0]]()


@pytest.fixture(scope='module')
def image_run(tmp_path_factory):
  return _image_inputs(), fuzz('image', tmp_path_factory.mktemp('fuzz_image'))


def test_seeds_decode():
  """The mutations start from records that decode: a rejection is the mutation's doing."""
  seeds = _seed_values(np.random.RandomState(0))
  for name, (record_schema, values) in seeds.items():
    decoder = _image_decoder() if record_schema is schema.IMAGE else loading.make_decoder(
        imagenet.SPEC)
    out = _compiled(decoder)(tf.constant(record_schema.encode_example(values)))
    _check_items(out)
    assert out['image'].shape[:2] == (values[schema.HEIGHT], values[schema.WIDTH]) or (
        name == 'gray png'), name
  assert out['object/bbox'].shape == (0, 4)    # 'imagenet, no boxes' came last


def test_image_schema_decoder_rejects_only_with_invalid_argument(image_run):
  inputs, (tally, _) = image_run
  _report('IMAGE schema, image + label', tally)
  assert sum(tally.values()) == len(inputs) == CASES_PER_DECODER
  assert {outcome for _, outcome in tally} <= {'ok', 'InvalidArgumentError',
                                                'UnicodeDecodeError', 'SIGSEGV'}
  # Only Examples that do not parse hit TensorFlow's two failures.
  assert {k for k, o in tally if o in ('UnicodeDecodeError', 'SIGSEGV')} <= {'bytes', 'random'}
  assert sum(n for (_, o), n in tally.items() if o == 'SIGSEGV') <= 10
  # The loop exercised both paths for every kind of mutation.
  for kind in ('bytes', 'random', 'types', 'counts', 'image'):
    assert tally[kind, 'InvalidArgumentError'] > 0, kind
  assert sum(n for (_, o), n in tally.items() if o == 'ok') > 100


def test_imagenet_decoder_with_boxes_rejects_only_with_invalid_argument(tmp_path):
  """Also validated first (`validation.checked_examples`): no crash, as for IMAGE."""
  tally, plain = fuzz('imagenet', tmp_path)
  _report('ImageNet schema, image + label + text + boxes + box labels', tally)
  assert sum(tally.values()) == CASES_PER_DECODER
  assert {outcome for _, outcome in tally} <= {'ok', 'InvalidArgumentError',
                                                'UnicodeDecodeError', 'SIGSEGV'}
  # Only Examples that do not parse hit TensorFlow's two failures.
  assert {k for k, o in tally if o in ('UnicodeDecodeError', 'SIGSEGV')} <= {'bytes', 'random'}
  assert sum(n for (_, o), n in tally.items() if o == 'SIGSEGV') <= 10
  assert tally['counts', 'InvalidArgumentError'] > 0 and tally['types', 'ok'] >= 0
  assert sum(n for (_, o), n in tally.items() if o == 'ok') > 100
  _check_validated('imagenet', plain, tmp_path)


def _shard_dataset(path, num_samples):
  return dataset_lib.Dataset(data_sources=[path], reader=tf.compat.v1.TFRecordReader,
                             decoder=_image_decoder(), num_samples=num_samples,
                             items_to_descriptions={})


def test_fuzzed_records_in_a_shard_are_named_or_skipped_exactly(image_run, tmp_path):
  """40 fuzzed records among 40 good ones: the provider names the shard and record of the
  first one the direct decode rejects, and skip_corrupt skips exactly those it rejects."""
  inputs, (_, outcomes) = image_run
  rejected = {i for i, outcome in outcomes.items() if outcome != 'ok'}
  good = [lib.example(lib.png_bytes(np.full((6, 5, 3), i, np.uint8)), 1000 + i)
          for i in range(40)]
  records, bad_positions = [], []
  for i in range(40):          # alternate a good record and the next fuzzed one
    records.append(good[i])
    if i in rejected:
      bad_positions.append(len(records))
    records.append(inputs[i][1])
  path = lib.write_records(str(tmp_path / 'fuzzed-00000-of-00001.tfrecord'), records)
  dataset = _shard_dataset(path, len(records))
  assert bad_positions, 'no rejected input among the first 40'

  provider = ddp.DatasetDataProvider(dataset, shuffle=False, num_epochs=1)
  with pytest.raises(errors.CorruptDataError) as info:
    while True:
      provider.get(['label'])
  first_bad = lib.record_offsets(records)[bad_positions[0]]
  assert info.value.file == path
  assert f'{path}:{first_bad}' in info.value.message

  skipping = ddp.DatasetDataProvider(dataset, shuffle=False, num_epochs=1, skip_corrupt=True)
  got = lib.drain_eager(skipping, ['label'])
  assert len(got) == len(records) - len(bad_positions)
  assert skipping.num_skipped == len(bad_positions)


def _behind_a_good_example(record):
  """`record` concatenated with an Example that lacks its features: protobuf keeps the last
  `features` (and so does decode_proto), TensorFlow's parser reads both."""
  other = tf.train.Example(features=tf.train.Features(feature={
      'other': tf.train.Feature(int64_list=tf.train.Int64List(value=[1]))}))
  return record + other.SerializeToString()


@pytest.mark.parametrize('concatenated', [False, True], ids=['alone', 'behind a good Example'])
def test_tensorflow_parse_example_segfaults_on_one_fuzzed_record(tmp_path, concatenated):
  """A TensorFlow bug, not slimdata's: kept as a test so that it is noticed when fixed
  (then drop TF_SEGFAULT). tools/verify.py parses records with protobuf, which rejects it,
  and `validation.checked_examples` rejects it, also when a good Example follows it (a
  check of the last `features` only, as decode_proto returns it, let that one through)."""
  from converters import verification
  record = _image_inputs()[TF_SEGFAULT][1]
  if concatenated:
    record = _behind_a_good_example(record)
  path = tmp_path / 'record.bin'
  path.write_bytes(record)
  code = ('import sys, tensorflow as tf\n'
          'tf.io.parse_single_example(open(sys.argv[1], "rb").read(), '
          f'{{{schema.ENCODED!r}: tf.io.FixedLenFeature((), tf.string, default_value="")}})\n')
  child = subprocess.run([sys.executable, '-c', code, str(path)], capture_output=True,
                         timeout=HANG_BOUND_S, check=False)
  assert child.returncode == -11, child.returncode     # SIGSEGV
  assert verification.check_record(record)[0].startswith('not a tf.train.Example')
  with pytest.raises(tf.errors.DataLossError):
    validation.checked_examples(tf.constant([record]))


def _protobuf_parses(record):
  try:
    tf.train.Example.FromString(record)
    return True
  except message.DecodeError:
    return False


def _has_unknown_example_fields(record):
  """An unknown field in the Example itself: TensorFlow's parser skips it (unless it is a
  group), no serializer writes it, and the check refuses it."""
  return bool(unknown_fields.UnknownFieldSet(tf.train.Example.FromString(record)))


def _check_validated(name, plain, tmp_path):
  """Runs `name` validated first; checks it against the plain run's outcomes `plain`."""
  tally, validated = fuzz(f'{name}:validated', tmp_path)
  _report(f'{name}, validated first', tally)
  # No crash, and no error TensorFlow cannot decode: every rejection is a TensorFlow error.
  assert {outcome for _, outcome in tally} <= {'ok', 'InvalidArgumentError', 'DataLossError'}
  # As data loss it rejects only what protobuf rejects; as a layout no serializer writes
  # (InvalidArgumentError) only what did not decode before, or has unknown Example fields.
  inputs = _inputs_of(name)
  parses = {i for i, (_, record) in enumerate(inputs) if _protobuf_parses(record)}
  assert not {i for i, o in validated.items() if o == 'DataLossError'} & parses
  decoded = {i for i, o in plain.items() if o == 'ok'}
  unknown = {i for i in decoded & parses if _has_unknown_example_fields(inputs[i][1])}
  print(f'  decoded unchecked, refused for unknown Example fields: {len(unknown)}')
  assert all(validated[i] == 'InvalidArgumentError' for i in unknown)
  assert (decoded & parses) - unknown <= {i for i, o in validated.items() if o == 'ok'}
  assert {i for i, o in validated.items() if o == 'ok'} <= decoded
  # What TensorFlow's parser crashed on, the validation rejects as data loss.
  assert all(validated[i] == 'DataLossError' for i, o in plain.items() if o == 'SIGSEGV')
  return validated


def test_validation_ends_the_crash_and_keeps_what_decoded(image_run, tmp_path):
  """The same 5,000 inputs, each through `validation.checked_examples` first: no crash, no
  UnicodeDecodeError, and the inputs that decoded before still decode, unless protobuf
  itself cannot parse them (TensorFlow's parser skips damage in features it does not
  read)."""
  _, (_, plain) = image_run
  validated = _check_validated('image', plain, tmp_path)
  assert validated[TF_SEGFAULT] == 'DataLossError'


@pytest.mark.parametrize('skip_corrupt', [False, True])
def test_provider_with_validate_records_names_or_skips_the_record_that_crashes_tensorflow(
    tmp_path, skip_corrupt):
  crasher = _image_inputs()[TF_SEGFAULT][1]
  good = [lib.example(lib.png_bytes(np.full((6, 5, 3), i, np.uint8)), i) for i in range(6)]
  records = good[:3] + [crasher] + good[3:]
  path = lib.write_records(str(tmp_path / 'untrusted-00000-of-00001.tfrecord'), records)
  dataset = _shard_dataset(path, len(records))
  provider = ddp.DatasetDataProvider(dataset, shuffle=False, num_epochs=1,
                                     skip_corrupt=skip_corrupt, validate_records=True)
  if skip_corrupt:
    assert [int(l) for [l] in lib.drain_eager(provider, ['label'])] == list(range(6))
    assert provider.num_skipped == 1
    return
  with pytest.raises(errors.CorruptDataError) as info:
    while True:
      provider.get(['label'])
  assert info.value.file == path
  assert f'{path}:{lib.record_offsets(records)[3]}' in info.value.message


if __name__ == '__main__':
  _run_inputs(sys.argv[1], int(sys.argv[2]), sys.argv[3])
