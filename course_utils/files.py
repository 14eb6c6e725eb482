"""Files the course writes or trusts (01_train): atomic writes, so an interrupted save never
leaves a half-written file, and ``unpack_verified``, the one call that checks shipped archives
against their published checksums and decompresses them once."""

from __future__ import annotations

import gzip
import hashlib
import os
import tempfile
import zlib
from collections.abc import Callable, Sequence
from functools import partial
from pathlib import Path
from typing import IO


class DataIntegrityError(RuntimeError):
    """A data file is damaged: its checksum is not the published one."""


def write_atomically(path: str | Path, write: Callable[[IO[bytes]], None]) -> Path:
    """Call ``write`` on a temporary file beside ``path``, then rename it into place."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        os.chmod(temporary, path.stat().st_mode & 0o777 if path.exists() else _default_mode())
        with os.fdopen(handle, "wb") as stream:
            write(stream)
            stream.flush()
            os.fsync(stream.fileno())
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
    return path


def _default_mode() -> int:
    # mkstemp makes files only the owner can read; give a new file the mode `open` would
    umask = os.umask(0)
    os.umask(umask)
    return 0o666 & ~umask


def write_text_atomically(path: str | Path, text: str) -> Path:
    """Write ``text`` (UTF-8) to ``path`` atomically."""
    return write_atomically(path, lambda stream: stream.write(text.encode("utf-8")))


def sha256_of(path: Path) -> str:
    """Hex SHA-256 of a file, read in chunks."""
    digest = hashlib.sha256()
    with open(path, "rb") as stream:
        for chunk in iter(lambda: stream.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def read_checksums(folder: Path) -> dict[str, str]:
    """``{file name: SHA-256}`` from ``folder/SHA256SUMS`` (``sha256sum``'s format)."""
    sums = {}
    for line in (folder / "SHA256SUMS").read_text().splitlines():
        if line.strip() and not line.startswith("#"):
            checksum, name = line.split()
            sums[name] = checksum
    return sums


def unpack_verified(archives: Path, names: Sequence[str], target: Path, restore_hint: str) -> None:
    """Make ``target/<name>`` for each name: ``archives/<name>.gz`` decompressed, both checked.

    ``archives/SHA256SUMS`` pins each ``.gz`` file and each decompressed file. An archive is
    checked before it is decompressed, and the decompressed bytes before they are renamed into
    place; a file already in ``target`` is checked and reused. Anything missing or damaged
    raises ``FileNotFoundError`` or :class:`DataIntegrityError` naming the file, the checksums
    and ``restore_hint``. Nothing is downloaded, and no existing file is replaced or deleted.
    """
    needed = ["SHA256SUMS", *(f"{name}.gz" for name in names)]
    missing = [name for name in needed if not (archives / name).is_file()]
    if missing:
        raise FileNotFoundError(
            f"{archives} lacks {', '.join(missing)}; nothing is ever downloaded: {restore_hint}."
        )
    sums = read_checksums(archives)
    unlisted = [name for name in [*names, *needed[1:]] if name not in sums]
    if unlisted:
        raise DataIntegrityError(
            f"{archives / 'SHA256SUMS'} has no checksum for {', '.join(unlisted)}; {restore_hint}."
        )
    for name in names:
        unpacked, archive = target / name, archives / f"{name}.gz"
        if unpacked.exists():
            found = sha256_of(unpacked)
            if found != sums[name]:
                raise DataIntegrityError(
                    f"{unpacked} has SHA-256 {found}, expected {sums[name]}: the file is corrupt "
                    f"or truncated. Delete it and it is decompressed again from {archives} (if "
                    f"that copy is damaged too, {restore_hint}); nothing replaces files itself."
                )
            continue
        found = sha256_of(archive)
        if found != sums[archive.name]:
            raise DataIntegrityError(
                f"{archive} has SHA-256 {found}, expected {sums[archive.name]}: the file is "
                f"corrupt or truncated; {restore_hint}."
            )
        write_atomically(
            unpacked, partial(_gunzip, archive, checksum=sums[name], hint=restore_hint)
        )


def _gunzip(archive: Path, stream: IO[bytes], *, checksum: str, hint: str) -> None:
    """Decompress ``archive`` into ``stream``, raising if the bytes are not the pinned ones."""
    digest = hashlib.sha256()
    try:
        with gzip.open(archive, "rb") as compressed:
            for chunk in iter(lambda: compressed.read(1 << 20), b""):
                digest.update(chunk)
                stream.write(chunk)
    except (OSError, EOFError, zlib.error) as error:
        raise DataIntegrityError(
            f"{archive} is damaged and cannot be decompressed ({error}); {hint}."
        ) from error
    if digest.hexdigest() != checksum:
        raise DataIntegrityError(
            f"{archive} decompresses to SHA-256 {digest.hexdigest()}, expected {checksum}: the "
            f"file is corrupt or truncated; {hint}."
        )
