"""The generic conversion pipeline: a Source's plan -> Beam -> shards, labels.txt, manifest.

    source = sources.get_source('mnist')(source_dir='/tmp/mnist_raw')
    result = pipeline.convert(source, dataset_dir='/data/mnist', num_shards=1)
    print(pipeline.format_summary(result))

Steps (DESIGN.md, "Converters"):
1. Launcher: `source.prepare()` (download, verify, extract), `source.plan()`
   (records per split), then `shards.plan_shards` cuts each split into
   contiguous shards. A `ShardPlan` holds references to records, never bytes.
2. Beam: `Create(shard plans) -> Reshuffle -> ParDo(WriteShardFn)`. A worker
   reads its shard's records through `source.read`, encodes them with the
   dataset's schema and writes the shard atomically (`shards.write_shard`:
   a temporary in `<dir>/.incomplete/`, its stats, then the rename).
3. Launcher: collects the stats, writes labels.txt and the manifest last
   (temporary name + rename), then removes `.incomplete/`.

A rerun keeps a shard whose final file reads back with valid CRCs and the
count and sha256 recorded for the same shard plan; every other shard is
written again. A plan's fingerprint covers the source's identity and
checksums, the seed, the options, the split, the shard numbering and its
record references, so a different seed or source never reuses an old shard.
While a run changes shards, the old manifest is set aside: a manifest at its
final name always describes complete files.

All file access goes through Beam's `FileSystems`, so `gs://` paths work as
local ones do.
"""
import dataclasses
import logging
import threading
import time

import apache_beam as beam
from apache_beam.io.filesystem import CompressionTypes
from apache_beam.io.filesystems import FileSystems
from apache_beam.options.pipeline_options import PipelineOptions
from apache_beam.options.pipeline_options import StandardOptions

from converters import errors
from converters import sources as sources_lib
from converters import shards as shards_lib
from descriptors import manifest as manifest_lib
from descriptors import schema as schema_lib

INCOMPLETE_DIR = shards_lib.INCOMPLETE_DIR
ON_BAD_IMAGE = ('fail', 'skip')
_RAW = CompressionTypes.UNCOMPRESSED


class ConvertOptions(PipelineOptions):
  """The project's flags; one command line serves the DirectRunner and Dataflow."""

  @classmethod
  def _add_argparse_args(cls, parser):
    parser.add_argument('--dataset', '--dataset_name', dest='dataset', default=None,
                        help=f'source to convert; one of {", ".join(sources_lib.source_names())}')
    parser.add_argument('--dataset_dir', default=None,
                        help='output folder (local or gs://) for shards, labels.txt, manifest')
    parser.add_argument('--source', default=None,
                        help='folder holding the raw files (downloaded there if missing)')
    parser.add_argument('--cache_dir', default=None,
                        help='local download cache; default: --source, else '
                             '~/.cache/slimdata/<dataset>')
    parser.add_argument('--base_url', default=None, help='download mirror for the raw files')
    parser.add_argument('--num_shards', type=int, default=None,
                        help="shards per split; default: the dataset's published layout")
    parser.add_argument('--seed', type=int, default=0, help='seed of split assignment')
    parser.add_argument('--on_bad_image', choices=ON_BAD_IMAGE, default='fail',
                        help='fail on an undecodable image, or skip it and list it')

@dataclasses.dataclass(frozen=True)
class ConversionResult:
  """What `convert` did: the manifest it wrote and how."""
  manifest: object
  dataset_dir: str
  seconds: float
  shards_kept: int
  shards_written: int

class WriteShardFn(beam.DoFn):
  """Beam step: one ShardPlan in, its stats dict out. Configuration only, no state."""

  def __init__(self, source, dataset_dir, on_bad_image='fail'):
    super().__init__()
    self.source = source
    self.dataset_dir = dataset_dir
    self.on_bad_image = on_bad_image

  def process(self, plan):
    yield shards_lib.write_shard(source=self.source, plan=plan, dataset_dir=self.dataset_dir,
                                 on_bad_image=self.on_bad_image)


class WriteShards(beam.PTransform):
  """Shard plans -> shards on disk -> stats dicts."""

  def __init__(self, source, dataset_dir, on_bad_image='fail'):
    super().__init__()
    self.source = source
    self.dataset_dir = dataset_dir
    self.on_bad_image = on_bad_image

  def expand(self, plans):
    return (plans
            # Spread shards over workers: without it, a runner may fuse
            # Create with the writes and run them all on one worker.
            | 'Reshuffle' >> beam.Reshuffle()
            | 'WriteShard' >> beam.ParDo(
                WriteShardFn(self.source, self.dataset_dir, self.on_bad_image)))


def _join(*parts):
  return FileSystems.join(*parts)


def read_manifest(dataset_dir, name):
  """The manifest in `dataset_dir`, or None if there is none or it cannot be read."""
  path = _join(dataset_dir, schema_lib.manifest_name(name))
  try:
    if not FileSystems.exists(path):
      return None
    with FileSystems.open(path, compression_type=_RAW) as f:
      return manifest_lib.Manifest.from_json(f.read().decode('utf-8'), filename=path)
  except (IOError, OSError, ValueError) as e:
    logging.warning('ignoring the previous manifest: %s', e)
    return None


def _runner(options):
  """The runner for `options`; for local runs Beam's FnApiRunner, as DirectRunner would pick.

  Beam 2.77's DirectRunner first tries Prism, which downloads a binary from
  GitHub on first use; a conversion should not reach for the network, and
  FnApiRunner honours `--direct_running_mode` and `--direct_num_workers`.
  Pass `--runner=PrismRunner` to use Prism.
  """
  name = options.view_as(StandardOptions).runner
  if name is not None and (not isinstance(name, str) or name.lower() not in (
      'directrunner', 'direct', 'switchingdirectrunner')):
    return None   # Beam builds it from the options
  # pylint: disable=import-outside-toplevel
  from apache_beam.portability.api import beam_provision_api_pb2
  from apache_beam.runners.portability.fn_api_runner import fn_runner
  from apache_beam.runners.portability.portable_runner import JobServiceHandle
  encoded = JobServiceHandle.encode_pipeline_options(
      options.get_all_options(drop_default=True))
  return fn_runner.FnApiRunner(provision_info=fn_runner.ExtendedProvisionInfo(
      beam_provision_api_pb2.ProvisionInfo(pipeline_options=encoded)))


def _slimdata_version():
  try:
    import slimdata  # pylint: disable=import-outside-toplevel
    return slimdata.__version__
  except ImportError:
    return ''


class _Progress:
  """A tqdm bar fed by a thread that polls the finished shards' stats files."""

  def __init__(self, temp_dir, plans, interval=0.5):
    import tqdm  # pylint: disable=import-outside-toplevel
    self._pattern = _join(temp_dir, '*.json')
    self._fingerprints = {p.fingerprint for p in plans}
    self._bar = tqdm.tqdm(total=sum(len(p.records) for p in plans), unit='ex', desc='convert')
    self._interval = interval
    self._stop = threading.Event()
    self._thread = threading.Thread(target=self._run, daemon=True)

  def _poll(self):
    done = 0
    for result in FileSystems.match([self._pattern])[0].metadata_list:
      stats = shards_lib.read_json(result.path)
      if stats and stats.get('fingerprint') in self._fingerprints:
        done += stats['num_examples'] + len(stats.get('skipped', ()))
    self._bar.update(done - self._bar.n)

  def _run(self):
    while not self._stop.wait(self._interval):
      try:
        self._poll()
      except (IOError, OSError):
        pass   # a file renamed while listed; the next poll sees it

  def __enter__(self):
    self._thread.start()
    return self

  def __exit__(self, *exc):
    self._stop.set()
    self._thread.join()
    if exc[0] is None:
      self._poll()
    self._bar.close()


def convert(source, *, dataset_dir, num_shards=None, on_bad_image='fail', pipeline_options=None,
            progress=False):
  """Converts `source` into shards, labels.txt and a manifest in `dataset_dir`.

  Args:
    source: a `sources.Source` instance.
    dataset_dir: output folder, local or gs://.
    num_shards: shards per split: an int for every split, `{split: n}`, or
      None for the dataset's published layout.
    on_bad_image: 'fail' (raise naming the file) or 'skip' (list it in the
      manifest's `skipped`).
    pipeline_options: Beam `PipelineOptions` (runner, workers); default: the
      in-process DirectRunner.
    progress: show a tqdm progress bar (local runs).

  Returns:
    A `ConversionResult`.

  Raises:
    ValueError: for invalid arguments, before any work starts.
    errors.ConversionError: for problems with the source or the output.
  """
  if not isinstance(source, sources_lib.Source):
    raise ValueError(f'source must be a converters.sources.Source, got {type(source).__name__}')
  if not dataset_dir:
    raise ValueError('dataset_dir is required: the folder to write the shards to')
  if on_bad_image not in ON_BAD_IMAGE:
    raise ValueError(f'on_bad_image must be one of {ON_BAD_IMAGE}, got {on_bad_image!r}')
  shards_lib.num_shards_per_split(source.spec, source.spec.splits, num_shards)   # fail early
  options = pipeline_options if pipeline_options is not None else PipelineOptions([])
  # Built first, so a bad runner name fails before any download.
  pipeline = beam.Pipeline(runner=_runner(options), options=options)
  start = time.monotonic()
  spec = source.spec

  source_info = source.prepare()
  label_names = tuple(source.label_names())
  split_records = source.plan()
  shards = shards_lib.num_shards_per_split(spec, split_records, num_shards)
  for split, records in split_records.items():
    if len(records) < shards[split]:
      raise ValueError(f'split {split!r} has {len(records)} records, fewer than its '
                       f'{shards[split]} shards; pass a smaller --num_shards')
  identity = {'name': spec.name, 'schema_version': schema_lib.SCHEMA_VERSION,
              'source': source_info, 'seed': source.seed, 'options': source.options(),
              'on_bad_image': on_bad_image, 'label_names': label_names}
  temp_dir = _join(dataset_dir, INCOMPLETE_DIR)
  # The last complete run's manifest, or the one an interrupted rerun set aside.
  previous = read_manifest(dataset_dir, spec.name) or read_manifest(temp_dir, spec.name)
  plans = shards_lib.plan_shards(spec=spec, split_records=split_records, num_shards=shards,
                      identity=identity, previous=previous)

  if not FileSystems.exists(temp_dir):
    shards_lib.guard_output(temp_dir, FileSystems.mkdirs, temp_dir)
  # While shards change, no manifest may claim the folder is complete: set the
  # old one aside (a crashed rerun still finds the stats of the shards it kept).
  old_manifest = _join(dataset_dir, spec.manifest_name())
  if FileSystems.exists(old_manifest):
    shards_lib.replace(old_manifest, _join(temp_dir, spec.manifest_name()))
  _run(pipeline, source, plans, dataset_dir=dataset_dir, on_bad_image=on_bad_image,
       progress=progress)

  stats = []
  for plan in plans:
    s = shards_lib.read_json(_join(temp_dir, plan.file + '.json'))
    if not s or s.get('fingerprint') != plan.fingerprint:
      raise errors.ConversionError(
          f'{plan.file}: the pipeline finished but left no stats for this shard; run again')
    stats.append(s)
  manifest = _manifest(source, stats, splits=sorted(split_records), label_names=label_names,
                       source_info=source_info,
                       options=dict(source.options(), num_shards=shards,
                                    on_bad_image=on_bad_image))
  labels = {i + spec.label_offset: name for i, name in enumerate(label_names)}
  shards_lib.write_atomic(_join(dataset_dir, schema_lib.LABELS_FILENAME),
                          schema_lib.format_labels(labels).encode('utf-8'), temp_dir)
  # The manifest goes last: its presence means every file it lists is complete.
  shards_lib.write_atomic(_join(dataset_dir, spec.manifest_name()),
                          manifest.to_json().encode('utf-8'), temp_dir)
  _remove_stale_shards(dataset_dir, previous, {p.file for p in plans})
  _remove_temp_dir(temp_dir)
  kept = sum(1 for s in stats if s['kept'])
  return ConversionResult(manifest=manifest, dataset_dir=dataset_dir,
                          seconds=time.monotonic() - start, shards_kept=kept,
                          shards_written=len(stats) - kept)


def _run(pipeline, source, plans, *, dataset_dir, on_bad_image, progress):
  """Runs `pipeline` over `plans`; a worker's ConversionError comes back as itself."""
  logging.info('converting %s: %d shards into %s', source.spec.name, len(plans), dataset_dir)
  _ = (pipeline
       | 'PlanShards' >> beam.Create(plans)
       | 'WriteShards' >> WriteShards(source, dataset_dir, on_bad_image))
  try:
    if progress:
      with _Progress(_join(dataset_dir, INCOMPLETE_DIR), plans):
        pipeline.run().wait_until_finish()
    else:
      pipeline.run().wait_until_finish()
  except Exception as e:  # pylint: disable=broad-except
    # Runners wrap a worker's exception; hand callers our own error type.
    original = errors.from_worker(e)
    if original is None:
      raise
    raise type(original)(errors.one_line(original)) from e


def _manifest(source, stats, *, splits, label_names, source_info, options):
  """The Manifest of a finished run, from the shards' stats."""
  spec = source.spec
  return manifest_lib.Manifest(
      name=spec.name,
      splits={split: manifest_lib.Split(
          shards=tuple(manifest_lib.Shard(file=s['file'], num_examples=s['num_examples'],
                                          sha256=s['sha256'], bytes=s['bytes'])
                       for s in stats if s['split'] == split),
          skipped=tuple(k for s in stats if s['split'] == split for k in s['skipped']))
              for split in splits},
      label_names=label_names,
      label_offset=spec.label_offset,
      image_format=spec.image_format,
      seed=source.seed,
      source=source_info,
      options=dict(options, shard_fingerprints={s['file']: s['fingerprint'] for s in stats}),
      slimdata_version=_slimdata_version())


def _remove_stale_shards(dataset_dir, previous, current):
  """Deletes shards the previous manifest listed that the new one does not (another layout).

  Left in place, they would match the split's glob beside the new shards.
  Only files the previous manifest itself named are touched.
  """
  if previous is None:
    return
  stale = sorted({shard.file for split in previous.splits.values() for shard in split.shards}
                 - current)
  for file in stale:
    path = _join(dataset_dir, file)
    if FileSystems.exists(path):
      logging.info('removing %s, a shard of the previous layout', path)
      FileSystems.delete([path])


def _remove_temp_dir(temp_dir):
  """Removes `.incomplete/` and what is in it (object stores have no real folders)."""
  leftovers = [m.path for m in FileSystems.match([_join(temp_dir, '*')])[0].metadata_list]
  if leftovers:
    FileSystems.delete(leftovers)
  if FileSystems.exists(temp_dir):
    FileSystems.delete([temp_dir])


def format_summary(result):
  """A few lines: examples per split, shards, bytes, seconds."""
  m = result.manifest
  total = sum(s.num_examples for s in m.splits.values())
  size = sum(sh.bytes for s in m.splits.values() for sh in s.shards)
  rate = total / result.seconds if result.seconds > 0 else float('inf')
  lines = [f'{m.name}: {total} examples, {size / 1e6:.1f} MB in {result.seconds:.1f} s '
           f'({rate:.0f} examples/s) -> {result.dataset_dir}']
  for name, split in sorted(m.splits.items()):
    line = (f'  {name}: {split.num_examples} examples in {len(split.shards)} shard'
            f'{"s" if len(split.shards) != 1 else ""}, '
            f'{sum(sh.bytes for sh in split.shards) / 1e6:.1f} MB')
    if split.skipped:
      line += f', {len(split.skipped)} skipped'
    lines.append(line)
  if result.shards_kept:
    lines.append(f'  kept {result.shards_kept} complete shards from an earlier run, '
                 f'wrote {result.shards_written}')
  return '\n'.join(lines)
