"""Errors the surfaces turn into one-line messages. Each message says what to do next."""


class QAError(Exception):
    """Base class for every error meant to be shown to a person as one line."""


class InputError(QAError, ValueError):
    """A question or an option the user gave cannot be used."""


class SourceError(QAError):
    """The source folder is missing or holds no usable document."""


class IndexError_(QAError):
    """Base class for index problems (named with a trailing _ to leave the builtin alone)."""


class IndexMissingError(IndexError_):
    """No index has been built in the folder yet."""


class IndexCorruptError(IndexError_):
    """The index on disk cannot be read or fails its checksums."""


class IndexStaleError(IndexError_):
    """The index was built from other sources or with other settings."""


class ModelMismatchError(IndexStaleError):
    """The index was built with another embedding model than the one asked for."""


class ModelLoadError(QAError):
    """The embedding model cannot be loaded from local files."""


class SourceChangedError(QAError):
    """A source file changed since the index was built; quotes from it cannot be served."""
