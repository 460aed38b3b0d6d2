"""Landing: find the files a source has received, fingerprint them, archive them after loading."""

from salespipe.landing.local import LandedFile, archive_file, discover_files

__all__ = ["LandedFile", "archive_file", "discover_files"]
