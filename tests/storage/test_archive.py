"""Archives: Argo's layout, and crafted archives (tar-slip) that must not write outside the target."""

from __future__ import annotations

import io
import os
import tarfile

import pytest

from dflow_lab.config import s3_config
from dflow_lab.storage import UnsafeArchiveError, artifact_repository
from dflow_lab.storage.archive import is_tarball, make_tar, safe_extract, unpack


def crafted(path, members):
    """Write a gzipped tar from ``(TarInfo fields, data)`` specs, bypassing tarfile's own checks."""
    with tarfile.open(path, "w:gz") as tf:
        for spec in members:
            info = tarfile.TarInfo(spec["name"])
            info.type = spec.get("type", tarfile.REGTYPE)
            info.linkname = spec.get("linkname", "")
            data = spec.get("data", b"")
            info.size = len(data) if info.type == tarfile.REGTYPE else 0
            info.mode = 0o644
            tf.addfile(info, io.BytesIO(data) if info.type == tarfile.REGTYPE else None)
    return str(path)


def snapshot(root):
    out = set()
    for dirpath, dirs, files in os.walk(root):
        for n in dirs + files:
            out.add(os.path.relpath(os.path.join(dirpath, n), root))
    return out


EVIL = {
    "absolute": [{"name": "/tmp/dflow-lab-evil-abs", "data": b"x"}],
    "dotdot": [{"name": "ok.txt", "data": b"ok"}, {"name": "../evil.txt", "data": b"x"}],
    "nested-dotdot": [{"name": "a/b/../../../evil.txt", "data": b"x"}],
    "symlink-absolute": [{"name": "link", "type": tarfile.SYMTYPE, "linkname": "/etc"}],
    "symlink-relative": [{"name": "a/link", "type": tarfile.SYMTYPE, "linkname": "../../outside"}],
    "write-through-symlink": [
        {"name": "link", "type": tarfile.SYMTYPE, "linkname": ".."},
        {"name": "link/evil.txt", "data": b"x"},
    ],
    "chained-symlinks": [
        {"name": "p/q", "type": tarfile.SYMTYPE, "linkname": ".."},
        {"name": "p/r", "type": tarfile.SYMTYPE, "linkname": "q/.."},
        {"name": "b", "type": tarfile.SYMTYPE, "linkname": "p/r/.."},
    ],
    "hardlink-outside": [{"name": "h", "type": tarfile.LNKTYPE, "linkname": "/etc/passwd"}],
    "hardlink-dotdot": [{"name": "h", "type": tarfile.LNKTYPE, "linkname": "../outside/secret"}],
    "device": [{"name": "dev", "type": tarfile.CHRTYPE}],
    "fifo": [{"name": "fifo", "type": tarfile.FIFOTYPE}],
}


@pytest.mark.parametrize("case", sorted(EVIL))
def test_crafted_archives_are_rejected_and_write_nothing_outside(tmp_path, case):
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "secret").write_text("keep")
    archive = crafted(tmp_path / "evil.tgz", EVIL[case])
    target = tmp_path / "work" / "target"
    target.parent.mkdir()
    before = snapshot(tmp_path)
    with pytest.raises(UnsafeArchiveError):
        safe_extract(archive, str(target))
    after = snapshot(tmp_path)
    # the only new entry is the (empty) target directory itself
    assert after - before == {"work/target"}
    assert os.listdir(target) == []
    assert (outside / "secret").read_text() == "keep"
    assert not os.path.exists("/tmp/dflow-lab-evil-abs")
    with pytest.raises(UnsafeArchiveError):
        unpack(archive, str(tmp_path / "work" / "dest"))
    assert snapshot(tmp_path) - before == {"work/target"}


@pytest.mark.parametrize("storage", ["local"])
def test_repository_load_rejects_crafted_archive(tmp_path, isolated_config, storage):
    s3_config.update(storage=storage, storage_client=None)
    repo = artifact_repository(tmp_path / "ws")
    archive = crafted(tmp_path / "evil.tgz", EVIL["dotdot"])
    repo.client.upload("up/evil.tgz", archive)
    dest = tmp_path / "step" / "in"
    with pytest.raises(UnsafeArchiveError, match=r"'\.\.'"):
        repo.load({"s3": {"key": "up/evil.tgz"}}, str(dest))
    assert not (tmp_path / "step" / "evil.txt").exists() and not (tmp_path / "evil.txt").exists()
    assert not dest.exists()


def test_safe_members_are_extracted(tmp_path):
    archive = crafted(
        tmp_path / "ok.tgz",
        [
            {"name": "top/", "type": tarfile.DIRTYPE},
            {"name": "top/a.txt", "data": b"A"},
            {"name": "top/rel", "type": tarfile.SYMTYPE, "linkname": "a.txt"},
            {"name": "top/hard", "type": tarfile.LNKTYPE, "linkname": "top/a.txt"},
            {"name": "./top/./b.txt", "data": b"B"},
        ],
    )
    unpack(archive, str(tmp_path / "dest"))
    assert sorted(os.listdir(tmp_path / "dest")) == ["a.txt", "b.txt", "hard", "rel"]
    assert (tmp_path / "dest" / "rel").read_text() == "A"
    assert os.readlink(tmp_path / "dest" / "rel") == "a.txt"
    assert (tmp_path / "dest" / "hard").read_text() == "A"


def test_argo_layout_single_entry_and_many(tmp_path):
    d = tmp_path / "out"
    d.mkdir()
    (d / "x").write_text("1")
    make_tar(str(d), str(tmp_path / "o.tgz"))
    assert is_tarball(str(tmp_path / "o.tgz")) and not is_tarball(str(d / "x"))
    unpack(str(tmp_path / "o.tgz"), str(tmp_path / "in"))
    assert (tmp_path / "in" / "x").read_text() == "1"
    many = crafted(tmp_path / "m.tgz", [{"name": "a", "data": b"a"}, {"name": "b", "data": b"b"}])
    unpack(many, str(tmp_path / "m"))
    assert sorted(os.listdir(tmp_path / "m")) == ["a", "b"]


def test_make_tar_is_deterministic(tmp_path):
    d = tmp_path / "out"
    d.mkdir()
    for i in range(5):
        (d / f"f{i}").write_text(str(i))
    make_tar(str(d), str(tmp_path / "1.tgz"))
    make_tar(str(d), str(tmp_path / "2.tgz"))
    assert (tmp_path / "1.tgz").read_bytes() == (tmp_path / "2.tgz").read_bytes()


@pytest.mark.parametrize("name", ["/abs.txt", "../up.txt", "a/../../up.txt"])
def test_crafted_zips_are_rejected(tmp_path, name):
    import zipfile

    from dflow_lab.storage.archive import safe_unzip

    archive = tmp_path / "evil.zip"
    with zipfile.ZipFile(archive, "w") as zf:
        zf.writestr("ok.txt", "ok")
        zf.writestr(name, "evil")
    target = tmp_path / "work" / "target"
    before = snapshot(tmp_path)
    with pytest.raises(UnsafeArchiveError):
        safe_unzip(str(archive), str(target))
    assert snapshot(tmp_path) - before == {"work", "work/target"}
    assert os.listdir(target) == []


def test_zip_symlink_member_is_rejected(tmp_path):
    import stat
    import zipfile

    from dflow_lab.storage.archive import safe_unzip

    archive = tmp_path / "link.zip"
    with zipfile.ZipFile(archive, "w") as zf:
        info = zipfile.ZipInfo("link")
        info.external_attr = (stat.S_IFLNK | 0o777) << 16
        zf.writestr(info, "/etc/passwd")
    with pytest.raises(UnsafeArchiveError, match="symlink"):
        safe_unzip(str(archive), str(tmp_path / "t"))
    assert os.listdir(tmp_path / "t") == []
