"""crm-migrate: move a company's scattered customer data into a new CRM, clean."""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("crm-migrate")
except PackageNotFoundError:  # running from a checkout that was not installed
    __version__ = "0.0.0+unknown"
