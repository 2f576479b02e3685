"""User-facing errors: the CLI prints their message (which names the file and the problem)
and exits non-zero, without a traceback."""


class VoidError(Exception):
    """Base of every error caused by input, configuration or environment, not by a bug."""


class ConfigError(VoidError, ValueError):
    """A bad argument or configuration value."""
