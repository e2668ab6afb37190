"""Errors raised while downloading, extracting, reading and converting raw sources.

    from converters import errors
    try:
      pipeline.convert(source, dataset_dir=out)
    except errors.ConversionError as e:
      print(e)          # one line naming the file, record, split or argument at fault

Every message names what is at fault and says what to do.
"""
import re


class ConversionError(Exception):
  """Base class: anything that stops a conversion."""


class SourceFormatError(ConversionError, ValueError):
  """A raw source file is not what its format promises (truncated, wrong magic, ...)."""


class BadImageError(ConversionError, ValueError):
  """An image cannot be decoded or re-encoded; raised unless --on_bad_image=skip."""


class CorruptRecordError(ConversionError, ValueError):
  """A TFRecord file fails its length or data checksum, or ends inside a record."""


class DownloadError(ConversionError, IOError):
  """A download failed or its checksum does not match the known one."""


class OutputError(ConversionError, IOError):
  """A shard, labels.txt or the manifest cannot be written (disk full, read-only folder, ...)."""


class UnsafeArchiveError(ConversionError, ValueError):
  """An archive member would land outside the target folder, or the archive is too big."""


class UnknownSourceError(ConversionError, KeyError):
  """No source is registered under the requested name."""

  def __str__(self):
    # KeyError would print its message with quotes around it.
    return str(self.args[0]) if self.args else ''


_BEAM_SUFFIX = re.compile(r" \[while running '[^']*'\]")
_REMOTE = re.compile(r'^converters\.errors\.(\w+): (.*)$', re.MULTILINE)


def one_line(error):
  """A one-line message for `error`, without Beam's `[while running ...]` step names."""
  text = _BEAM_SUFFIX.sub('', str(error)).strip()
  return text.splitlines()[0] if text else type(error).__name__


def from_worker(error):
  """The ConversionError a Beam worker raised, recovered from the runner's wrapper, or None.

  Runners that execute DoFns in other processes (multi-process DirectRunner,
  Dataflow) report a worker's exception as a RuntimeError holding its
  traceback text; this finds our error's class and message in it.
  """
  if isinstance(error, ConversionError):
    return error
  match = _REMOTE.search(str(error))
  if not match:
    return None
  cls = globals().get(match.group(1))
  if not (isinstance(cls, type) and issubclass(cls, ConversionError)):
    return None
  return cls(_BEAM_SUFFIX.sub('', match.group(2)).strip())
