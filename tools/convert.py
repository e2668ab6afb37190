"""Converts a raw dataset into TFRecord shards, labels.txt and a manifest.

    python tools/convert.py --dataset mnist --dataset_dir /tmp/mnist
    python tools/convert.py --dataset mnist --source /tmp/mnist_raw --dataset_dir /tmp/mnist \
        --num_shards 4 --direct_running_mode=multi_processing --direct_num_workers=2

Project flags are `converters.pipeline.ConvertOptions` plus the chosen source's
own flags; every other `--flag=value` goes to Beam's PipelineOptions
(`--runner DataflowRunner --project ... --temp_location gs://...`).
"""
import argparse
import logging
import os
import sys

# A checkout's tools run without installing: the repository root takes the place
# of tools/ on the path (where tools/inspect.py would shadow the standard library).
_TOOLS = os.path.dirname(os.path.abspath(__file__))
if sys.path and os.path.abspath(sys.path[0] or os.curdir) == _TOOLS:
  sys.path[0] = os.path.dirname(_TOOLS)
ROOT = os.path.dirname(_TOOLS)

# pylint: disable=wrong-import-position
from apache_beam.options.pipeline_options import PipelineOptions
from apache_beam.options.pipeline_options import StandardOptions

from converters import errors
from converters import pipeline
from converters import sources
# pylint: enable=wrong-import-position

_LOCAL_RUNNERS = (None, 'directrunner', 'direct', 'switchingdirectrunner', 'fnapirunner')


def _parser(source_cls=None):
  # No abbreviations: a prefix of a Beam flag must reach Beam untouched.
  parser = argparse.ArgumentParser(
      prog='convert.py', description='Convert a raw dataset into TFRecord shards.',
      allow_abbrev=False,
      epilog='Other --flag=value arguments go to Apache Beam (e.g. --runner, '
             '--direct_running_mode=multi_processing, --direct_num_workers=2).')
  pipeline.ConvertOptions._add_argparse_args(parser)  # pylint: disable=protected-access
  parser.add_argument('--verbose', action='store_true', help='log at INFO level')
  if source_cls is not None:
    source_cls.add_flags(parser)
  return parser


def _source_flags(source_cls):
  """The dests of the flags a source adds: they become its constructor kwargs."""
  parser = argparse.ArgumentParser(add_help=False, allow_abbrev=False)
  source_cls.add_flags(parser)
  return [a.dest for a in parser._actions]  # pylint: disable=protected-access


def main(argv=None):
  argv = list(sys.argv[1:] if argv is None else argv)
  # First the dataset alone, to learn which source's flags to accept.
  pre = argparse.ArgumentParser(add_help=False, allow_abbrev=False)
  pre.add_argument('--dataset', '--dataset_name', dest='dataset')
  dataset, _ = pre.parse_known_args(argv)
  try:
    source_cls = sources.get_source(dataset.dataset) if dataset.dataset else None
  except errors.UnknownSourceError as e:
    print(f'convert.py: error: {e}', file=sys.stderr)
    return 2
  parser = _parser(source_cls)
  args, beam_args = parser.parse_known_args(argv)
  if source_cls is None:
    parser.error(f'--dataset is required; one of {", ".join(sources.source_names())}')
  if not args.dataset_dir:
    parser.error('--dataset_dir is required: the folder to write the shards to')
  logging.basicConfig(level=logging.INFO if args.verbose else logging.WARNING,
                      format='%(levelname)s %(message)s')

  # Local Beam workers run in subprocesses: let them import slimdata's packages.
  paths = os.environ.get('PYTHONPATH', '').split(os.pathsep)
  if ROOT not in paths:
    os.environ['PYTHONPATH'] = os.pathsep.join([ROOT] + [p for p in paths if p])

  if not any(a.startswith('--default_sdk_harness_log_level') for a in beam_args):
    # Local worker processes would otherwise log every channel they open.
    beam_args.append('--default_sdk_harness_log_level=' + ('INFO' if args.verbose else 'WARNING'))
  options = PipelineOptions(beam_args)
  runner = options.view_as(StandardOptions).runner
  local = runner is None or str(runner).lower() in _LOCAL_RUNNERS
  extra = {dest: getattr(args, dest) for dest in _source_flags(source_cls)}
  try:
    source = source_cls(source_dir=args.source, cache_dir=args.cache_dir,
                        base_url=args.base_url, seed=args.seed, **extra)
    result = pipeline.convert(source, dataset_dir=args.dataset_dir, num_shards=args.num_shards,
                              on_bad_image=args.on_bad_image, pipeline_options=options,
                              progress=local)
  except (errors.ConversionError, ValueError, OSError) as e:
    print(f'convert.py: error: {errors.one_line(e)}', file=sys.stderr)
    return 1
  print(pipeline.format_summary(result))
  return 0


if __name__ == '__main__':
  sys.exit(main())
