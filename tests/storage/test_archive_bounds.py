"""Archive bombs and malformed archives: bounded while streaming, one storage error naming the archive and
the member, nothing left behind. The hostile archives are built here, small on disk (zeros compress ~1000:1).
See docs/security.md, "Bounds"."""

from __future__ import annotations

import gzip
import io
import os
import random
import tarfile
import zipfile

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from dflow_lab.common import S3Artifact
from dflow_lab.config import config, s3_config
from dflow_lab.storage import StorageError, artifact_repository
from dflow_lab.storage.archive import (
    ArchiveBoundError,
    ArchiveError,
    UnsafeArchiveError,
    make_tar,
    safe_extract,
    safe_unzip,
    unpack,
)
from dflow_lab.storage.artifacts import download_artifact

MiB = 1024 * 1024


class Zeros(io.RawIOBase):
    """``n`` zero bytes, read in chunks (never held in memory at once)."""

    def __init__(self, n: int):
        self.left = n

    def readable(self) -> bool:
        return True

    def readinto(self, b) -> int:
        k = min(len(b), self.left)
        b[:k] = bytes(k)
        self.left -= k
        return k


def zero_bomb(path, members: dict[str, int]) -> str:
    """A gzipped tar whose members are runs of zeros of the given sizes."""
    with tarfile.open(path, "w:gz", compresslevel=9) as tf:
        for name, size in members.items():
            info = tarfile.TarInfo(name)
            info.size, info.mode = size, 0o644
            tf.addfile(info, io.BufferedReader(Zeros(size)))
    return str(path)


def many_files(path, count: int) -> str:
    with tarfile.open(path, "w:gz") as tf:
        for i in range(count):
            tf.addfile(tarfile.TarInfo(f"d/f{i}"), io.BytesIO(b""))
    return str(path)


def tree(root) -> list[str]:
    out = []
    for dirpath, dirs, files in os.walk(root):
        out += [os.path.relpath(os.path.join(dirpath, n), root) for n in dirs + files]
    return sorted(out)


@pytest.fixture
def bounds(isolated_config):
    config.update(archive_max_bytes=8 * MiB, archive_max_members=500)


def test_a_byte_bomb_is_refused_while_streaming(tmp_path, bounds):
    bomb = zero_bomb(tmp_path / "bomb.tgz", {"ok.bin": 4 * MiB, "big.bin": 64 * MiB})
    assert os.path.getsize(bomb) < 200 * 1024  # 68 MiB of zeros in well under 200 KB
    target = tmp_path / "t"
    with pytest.raises(ArchiveBoundError) as e:
        safe_extract(bomb, str(target))
    msg = str(e.value)
    assert "bomb.tgz" in msg and "'big.bin'" in msg and "archive_max_bytes" in msg and "8,388,608" in msg
    assert isinstance(e.value, StorageError)
    assert tree(target) == []


def test_a_member_whose_header_passes_the_bound_is_refused_before_it_is_read(tmp_path, bounds):
    raw = io.BytesIO()
    with tarfile.open(fileobj=raw, mode="w") as tf:  # a header claiming 1 GiB, and no data at all
        info = tarfile.TarInfo("huge.bin")
        info.size = 1024 * MiB
        tf.addfile(info)
    path = tmp_path / "liar.tgz"
    path.write_bytes(gzip.compress(raw.getvalue()[:512]))
    with pytest.raises(ArchiveBoundError, match="huge.bin"):
        safe_extract(str(path), str(tmp_path / "t"))
    assert tree(tmp_path / "t") == []


def test_a_member_bomb_is_refused(tmp_path, bounds):
    bomb = many_files(tmp_path / "files.tgz", 2000)
    with pytest.raises(ArchiveBoundError, match=r"more than 500 members.*archive_max_members") as e:
        unpack(bomb, str(tmp_path / "dest"))
    assert "member 'd/f500'" in str(e.value)
    assert sorted(os.listdir(tmp_path)) == ["files.tgz"]  # no dest, no staging directory


def test_zip_bombs_are_refused_from_the_directory_before_writing(tmp_path, bounds):
    many = tmp_path / "many.zip"
    with zipfile.ZipFile(many, "w") as zf:
        for i in range(600):
            zf.writestr(f"f{i}", "")
    with pytest.raises(ArchiveBoundError, match="500 members"):
        safe_unzip(str(many), str(tmp_path / "a"))
    big = tmp_path / "big.zip"
    with zipfile.ZipFile(big, "w", zipfile.ZIP_DEFLATED) as zf, zf.open("zeros", "w") as f:
        for _ in range(16):
            f.write(bytes(MiB))
    assert os.path.getsize(big) < 100 * 1024
    with pytest.raises(ArchiveBoundError, match="archive_max_bytes"):
        safe_unzip(str(big), str(tmp_path / "b"))
    assert tree(tmp_path / "a") == [] and tree(tmp_path / "b") == []


def test_within_the_bounds_it_extracts(tmp_path, bounds):
    ok = zero_bomb(tmp_path / "ok.tgz", {"a.bin": 3 * MiB, "b.bin": 3 * MiB})
    safe_extract(ok, str(tmp_path / "t"))
    assert tree(tmp_path / "t") == ["a.bin", "b.bin"] and os.path.getsize(tmp_path / "t" / "a.bin") == 3 * MiB


def test_the_defaults_are_documented_values():
    from dflow_lab.bounds import DEFAULTS

    assert config["archive_max_bytes"] == DEFAULTS["archive_max_bytes"] == 16 * 1024 ** 3
    assert config["archive_max_members"] == DEFAULTS["archive_max_members"] == 100_000


@pytest.mark.parametrize("damage", ["truncated-gzip", "corrupt-deflate", "truncated-tar", "not-a-tar"])
def test_malformed_archives_give_the_storage_error(tmp_path, damage):
    src = tmp_path / "src"
    src.mkdir()
    rng = random.Random(12)
    for i in range(20):
        (src / f"f{i}.txt").write_bytes(rng.randbytes(2048))
    good = tmp_path / "good.tgz"
    make_tar(str(src), str(good))
    data = good.read_bytes()
    bad = tmp_path / "bad.tgz"
    if damage == "truncated-gzip":
        bad.write_bytes(data[: len(data) // 2])
    elif damage == "corrupt-deflate":
        bad.write_bytes(data[:200] + bytes(b ^ 0x5A for b in data[200:400]) + data[400:])
    elif damage == "truncated-tar":
        raw = gzip.decompress(data)
        bad.write_bytes(gzip.compress(raw[: 512 + 1000]))
    else:
        bad.write_bytes(gzip.compress(b"this is not a tar" * 100))
    with pytest.raises(ArchiveError) as e:
        unpack(str(bad), str(tmp_path / "dest"), name="wf/pod/out.tgz")
    assert isinstance(e.value, StorageError) and isinstance(e.value, ValueError)
    assert "archive 'wf/pod/out.tgz'" in str(e.value)
    assert sorted(os.listdir(tmp_path)) == ["bad.tgz", "good.tgz", "src"]  # nothing extracted is kept


def test_malformed_zip_gives_the_storage_error(tmp_path):
    z = tmp_path / "x.zip"
    with zipfile.ZipFile(z, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("a.txt", random.Random(3).randbytes(4096))
    data = bytearray(z.read_bytes())
    data[60:120] = bytes(60)  # inside the deflated data of a.txt
    z.write_bytes(bytes(data))
    with pytest.raises(ArchiveError, match=r"x\.zip"):
        safe_unzip(str(z), str(tmp_path / "t"))
    assert tree(tmp_path / "t") == []


def test_download_of_a_refused_archive_leaves_nothing_behind(tmp_path, isolated_config):
    config.update(local_workdir=str(tmp_path / "ws"), archive_max_bytes=4 * MiB)
    s3_config.update(storage="local", storage_client=None)
    repo = artifact_repository(tmp_path / "ws")
    repo.client.upload("up/bomb.tgz", zero_bomb(tmp_path / "bomb.tgz", {"z.bin": 32 * MiB}))
    dest = tmp_path / "dl"
    dest.mkdir()
    with pytest.raises(ArchiveBoundError, match=r"archive 'up/bomb.tgz', member 'z.bin'"):
        download_artifact(S3Artifact(key="up/bomb.tgz"), path=str(dest))
    assert tree(dest) == []  # neither members nor the .tgz
    with pytest.raises(ArchiveBoundError, match=r"up/bomb.tgz"):  # the engine's way in: repository load
        repo.load({"s3": {"key": "up/bomb.tgz"}}, str(tmp_path / "step" / "in"))
    if (tmp_path / "step").exists():
        assert tree(tmp_path / "step") == []


def test_links_escaping_the_destination_are_still_refused_with_the_archive_named(tmp_path):
    raw = tmp_path / "link.tgz"
    with tarfile.open(raw, "w:gz") as tf:
        info = tarfile.TarInfo("l")
        info.type, info.linkname = tarfile.SYMTYPE, "../../etc"
        tf.addfile(info)
    with pytest.raises(UnsafeArchiveError, match=r"archive '.*link\.tgz', member 'l'.*escapes"):
        safe_extract(str(raw), str(tmp_path / "t"))


@settings(max_examples=120, deadline=None, derandomize=True,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(cuts=st.lists(st.tuples(st.integers(0, 4000), st.integers(0, 255)), min_size=1, max_size=6),
       truncate=st.one_of(st.none(), st.integers(10, 4000)))
def test_damaged_archives_either_extract_inside_or_raise_the_storage_error(tmp_path, cuts, truncate):
    base = tmp_path / "fuzz"
    base.mkdir(exist_ok=True)
    src = base / "src"
    if not src.exists():
        src.mkdir()
        (src / "a.txt").write_text("alpha " * 200)
        (src / "sub").mkdir()
        (src / "sub" / "b.bin").write_bytes(bytes(range(256)) * 8)
        make_tar(str(src), str(base / "good.tgz"))
    data = bytearray((base / "good.tgz").read_bytes())
    for pos, value in cuts:
        data[pos % len(data)] = value
    if truncate is not None:
        data = data[:truncate]
    bad = base / "bad.tgz"
    bad.write_bytes(bytes(data))
    dest = base / "dest"
    try:
        unpack(str(bad), str(dest))
    except ArchiveError as e:
        assert "bad.tgz" in str(e)
        assert not dest.exists()
    else:
        for path in [dest, *(dest.rglob("*") if dest.is_dir() else [])]:
            assert os.path.realpath(path).startswith(str(base.resolve()))
        from dflow_lab.storage.links import remove_path

        remove_path(str(dest))
    assert sorted(os.listdir(base)) == ["bad.tgz", "good.tgz", "src"]
