"""Checking and extracting lesson zips so that nothing lands outside its folder.

A zip is refused before anything is written when any member could escape the extraction
folder (an absolute path, a drive letter, ``..``, a backslash), is a symlink or another
special file, is encrypted, appears twice, when the zip is too large or holds too many
files, or when a member unpacks to far more than it takes packed (a zip bomb: more than
``Limits.max_ratio`` times, for members larger than ``Limits.ratio_floor`` bytes).
Problems are raised as ``ZipProblem`` with a sentence that names the member.

``DEFAULT_LIMITS`` fit the app's own bundles; ``PACKAGE_LIMITS`` fit real e-learning packages
(SCORM exports with video: up to 2 GiB in up to 20,000 files).
"""

from __future__ import annotations

import hashlib
import os
import shutil
import stat
import tempfile
import zipfile
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

_CHUNK = 1 << 16


@dataclass(frozen=True, slots=True)
class Limits:
    """Size limits for one bundle (a folder, or a zip both packed and unpacked)."""

    max_bytes: int = 256 * 1024 * 1024
    max_files: int = 5000
    max_ratio: int = 200
    ratio_floor: int = 1024 * 1024


DEFAULT_LIMITS = Limits()
PACKAGE_LIMITS = Limits(max_bytes=2 * 1024 * 1024 * 1024, max_files=20_000)


class ZipProblem(ValueError):
    """Why a zip cannot be used (the message names the offending member)."""


def member_problem(name: str) -> str | None:
    """Why a member name is unsafe to extract, or None when it is a plain relative path."""
    if not name or "\x00" in name:
        return f"member {name!r} has an empty or invalid name"
    if "\\" in name:
        return f"member {name!r} uses a backslash in its path"
    if name.startswith("/"):
        return f"member {name!r} has an absolute path"
    first = name.split("/", 1)[0]
    if len(first) >= 2 and first[1] == ":":
        return f"member {name!r} has a drive letter"
    if ".." in PurePosixPath(name).parts:
        return f"member {name!r} escapes the bundle folder with '..'"
    return None


def _kind_problem(info: zipfile.ZipInfo) -> str | None:
    mode = info.external_attr >> 16
    file_type = stat.S_IFMT(mode)
    if file_type == stat.S_IFLNK:
        return f"member {info.filename!r} is a symbolic link"
    if file_type not in (0, stat.S_IFREG, stat.S_IFDIR):
        return f"member {info.filename!r} is not a regular file or folder"
    if info.flag_bits & 0x1:
        return f"member {info.filename!r} is encrypted"
    return None


def check_zip(archive: zipfile.ZipFile, limits: Limits = DEFAULT_LIMITS) -> list[zipfile.ZipInfo]:
    """The archive's members, once every one is known to be safe; raises ZipProblem."""
    members = archive.infolist()
    if len(members) > limits.max_files:
        raise ZipProblem(f"too many files ({len(members)}; the limit is {limits.max_files})")
    seen: set[str] = set()
    total = 0
    for info in members:
        problem = member_problem(info.filename) or _kind_problem(info)
        if problem:
            raise ZipProblem(problem)
        key = info.filename.rstrip("/").casefold()
        if key in seen:
            raise ZipProblem(f"member {info.filename!r} appears more than once")
        seen.add(key)
        if (info.file_size > limits.ratio_floor
                and info.file_size > limits.max_ratio * max(info.compress_size, 1)):
            raise ZipProblem(f"member {info.filename!r} unpacks to more than {limits.max_ratio} "
                             "times its packed size (a zip bomb?)")
        total += info.file_size
        if total > limits.max_bytes:
            raise ZipProblem(f"too large unpacked (more than {limits.max_bytes} bytes)")
    return members


def content_hash(path: Path) -> str:
    """A short hex digest of the file's bytes, used to name its extraction folder."""
    digest = hashlib.sha256()
    with path.open("rb") as f:
        while chunk := f.read(_CHUNK):
            digest.update(chunk)
    return digest.hexdigest()[:32]


def extract_zip(path: Path, cache_dir: Path, limits: Limits = DEFAULT_LIMITS) -> Path:
    """Check the zip at ``path`` and extract it to ``cache_dir/<content hash>/``.

    An earlier extraction of the same bytes is reused. Extraction goes to a temporary
    folder first and is renamed into place, so a half-written folder is never reused.
    Raises ZipProblem for an unsafe or oversized zip, OSError for I/O failures.
    """
    size = path.stat().st_size
    if size > limits.max_bytes:
        raise ZipProblem(f"too large ({size} bytes; the limit is {limits.max_bytes})")
    target = cache_dir / content_hash(path)
    if target.is_dir():
        return target
    try:
        archive = zipfile.ZipFile(path)
    except zipfile.BadZipFile as exc:
        raise ZipProblem(f"not a valid zip file ({exc})") from None
    with archive:
        members = check_zip(archive, limits)
        cache_dir.mkdir(parents=True, exist_ok=True)
        staging = Path(tempfile.mkdtemp(prefix=".extract-", dir=cache_dir))
        try:
            _write_members(archive, members, staging, limits)
            try:
                os.replace(staging, target)
            except OSError:
                if not target.is_dir():  # not just another process that was faster
                    raise
        finally:
            if staging.exists():
                shutil.rmtree(staging, ignore_errors=True)
    return target


def _write_members(
    archive: zipfile.ZipFile, members: list[zipfile.ZipInfo], dest: Path, limits: Limits
) -> None:
    written = 0
    for info in members:
        out = dest.joinpath(*PurePosixPath(info.filename).parts)
        if info.is_dir():
            out.mkdir(parents=True, exist_ok=True)
            continue
        out.parent.mkdir(parents=True, exist_ok=True)
        try:
            with archive.open(info) as src, out.open("xb") as dst:
                while chunk := src.read(_CHUNK):
                    written += len(chunk)
                    if written > limits.max_bytes:
                        raise ZipProblem(f"too large unpacked (more than {limits.max_bytes} bytes)")
                    dst.write(chunk)
        except (zipfile.BadZipFile, EOFError, NotImplementedError) as exc:
            raise ZipProblem(f"member {info.filename!r} cannot be read ({exc})") from None
