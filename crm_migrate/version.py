"""The version of crm-migrate as installed (``0.0.0+unknown`` when run from a checkout never installed)."""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("crm-migrate")
except PackageNotFoundError:  # running from a checkout that was not installed
    __version__ = "0.0.0+unknown"
