"""Checks a converted dataset against its manifest; exits non-zero naming every bad file and record.

    python tools/verify.py --dataset_dir /data/flowers
    python tools/verify.py --dataset_dir /data/mixed --dataset_name pets --counts_only

Each shard is read in full: example count, sha256, record framing CRCs, and for
every record that the image decodes to its stored height and width and that the
label is one the manifest names. Shard-like files the manifest does not list are
reported as well. Problems print as `file:record: what is wrong` (records counted
from 0).
"""
import argparse
import os
import sys

# A checkout's tools run without installing: the repository root takes the place
# of tools/ on the path (where tools/inspect.py would shadow the standard library).
_TOOLS = os.path.dirname(os.path.abspath(__file__))
if sys.path and os.path.abspath(sys.path[0] or os.curdir) == _TOOLS:
  sys.path[0] = os.path.dirname(_TOOLS)
os.environ.setdefault('TF_CPP_MIN_LOG_LEVEL', '2')


def build_parser():
  p = argparse.ArgumentParser(description=__doc__.split('\n')[0])
  p.add_argument('--dataset_dir', required=True, help='The folder tools/convert.py wrote.')
  p.add_argument('--dataset_name', default=None,
                 help='Which <name>_manifest.json, when the folder holds several.')
  p.add_argument('--counts_only', action='store_true',
                 help='Check counts, sha256 and framing only; do not decode the images.')
  p.add_argument('--num_threads', type=int, default=4, help='Shards checked at once.')
  p.add_argument('--max_problems_per_shard', type=int, default=20,
                 help='Problems printed per shard; all are counted.')
  return p


def format_table(report):
  """One row per listed shard, then one per unlisted shard-like file."""
  rows = [('file', 'split', 'expected', 'actual', 'sha256', 'crc', 'bad records')]
  for s in report.shards:
    if s.missing:
      rows.append((s.file, s.split, str(s.expected_count), 'missing', '-', '-', '-'))
    else:
      # After a framing error only a lower bound of the count is known.
      actual = str(s.actual_count) if s.crc_ok else f'>={s.actual_count}'
      rows.append((s.file, s.split, str(s.expected_count), actual,
                   'ok' if s.sha256_ok else 'BAD', 'ok' if s.crc_ok else 'BAD',
                   str(s.bad_records)))
  for name in report.unlisted_files:
    rows.append((name, '-', 'unlisted', '-', '-', '-', '-'))
  widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
  lines = ['  '.join(cell.ljust(w) if i < 2 else cell.rjust(w)
                     for i, (cell, w) in enumerate(zip(row, widths))).rstrip()
           for row in rows]
  lines.insert(1, '-' * len(lines[0]))
  return '\n'.join(lines)


def main(argv=None):
  args = build_parser().parse_args(argv)
  if args.num_threads < 1:
    raise SystemExit(f'--num_threads must be at least 1, got {args.num_threads}')
  if args.max_problems_per_shard < 1:
    raise SystemExit(f'--max_problems_per_shard must be at least 1, got '
                     f'{args.max_problems_per_shard}')
  from converters import verification
  from descriptors import errors
  try:
    report = verification.verify_dataset(
        dataset_dir=args.dataset_dir, dataset_name=args.dataset_name,
        check_records=not args.counts_only, num_threads=args.num_threads,
        max_problems_per_shard=args.max_problems_per_shard)
  except (errors.DescriptorError, errors.ManifestError) as e:
    print(f'verify: {e}', file=sys.stderr)
    return 2

  print(f'{report.dataset_name}: {report.manifest_file}')
  print(format_table(report))
  bad_shards = sum(not s.ok for s in report.shards)
  checked = 'counts, sha256 and framing' if args.counts_only else (
      'counts, sha256, framing, images and labels' if report.labels_checked else
      'counts, sha256, framing and images (no label names: labels not checked)')
  print(f'\n{len(report.shards)} shards, {report.num_examples} examples read; checked '
        f'{checked}.')
  if report.ok:
    print('OK: every shard matches the manifest.')
    return 0
  print(f'FAILED: {bad_shards} of {len(report.shards)} shards bad, '
        f'{len(report.unlisted_files)} unlisted files, {len(report.problems)} problems:')
  for problem in report.problems:
    print(f'  {problem}')
  return 1


if __name__ == '__main__':
  sys.exit(main())
