"""The seeded directory: districts, departments, categories, dispatch catalogue, grids, operators,
channel keys. `load_directory(DEMO_DIRECTORY)` gives the demo set of CONTRACT §3."""

from pathlib import Path

from .loader import DirectoryError, load_directory
from .model import (
    CHANNELS,
    ROLES,
    CatalogueEntry,
    Category,
    Channel,
    Department,
    Directory,
    District,
    Grid,
    GridWorker,
    User,
    key_sha256,
)

DEMO_DIRECTORY = Path(__file__).parent / "data" / "demo"

__all__ = [
    "CHANNELS",
    "DEMO_DIRECTORY",
    "ROLES",
    "CatalogueEntry",
    "Category",
    "Channel",
    "Department",
    "Directory",
    "DirectoryError",
    "District",
    "Grid",
    "GridWorker",
    "User",
    "key_sha256",
    "load_directory",
]
