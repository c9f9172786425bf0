"""Exception and warning classes of cohesion-geo (one module for all of them).

Every error a user can meet is a subclass of :class:`CohesionGeoError`, itself a
``ValueError``, so ``except ValueError`` keeps working in user code. Messages
name the file, the column and example rows involved.
"""

from __future__ import annotations

__all__ = [
    "CohesionGeoError",
    "CohesionGeoWarning",
    "ConfigError",
    "CRSError",
    "DataDirectoryError",
    "DroppedRowsWarning",
    "InputFormatError",
    "MissingColumnsError",
    "ValidationError",
]


class CohesionGeoError(ValueError):
    """Base class of every error raised by cohesion-geo."""


class DataDirectoryError(CohesionGeoError, FileNotFoundError):
    """The data directory or a file expected in it does not exist."""


class InputFormatError(CohesionGeoError):
    """A file cannot be read: unknown format, encoding, layer or layout."""


class MissingColumnsError(CohesionGeoError, KeyError):
    """Required columns are absent from an input table."""

    def __str__(self) -> str:  # KeyError would otherwise quote the message
        return str(self.args[0]) if self.args else ""


class ValidationError(CohesionGeoError):
    """An input breaks one or more rules; ``problems`` lists them all.

    Parameters
    ----------
    source : str
        What was validated (usually a file path).
    problems : list of str
        One human-readable sentence per problem.
    """

    def __init__(self, source: str, problems: list[str]) -> None:
        self.source = source
        self.problems = list(problems)
        lines = "\n".join(f"  - {p}" for p in self.problems)
        n = len(self.problems)
        super().__init__(f"{source}: {n} problem{'s' if n > 1 else ''} found:\n{lines}")


class CRSError(CohesionGeoError):
    """A CRS is missing, geographic where metres are needed, or mismatched."""


class ConfigError(CohesionGeoError):
    """A project or scenario file is invalid (all problems are listed)."""


class CohesionGeoWarning(UserWarning):
    """Base class of cohesion-geo warnings."""


class DroppedRowsWarning(CohesionGeoWarning):
    """Recoverable rows (a few bad points, say) were dropped and counted."""
