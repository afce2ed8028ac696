"""Artifact previews of the monitor's step panel (dflow_lab.runview.preview)."""

import base64
import json
import struct
import zlib

import pytest

from dflow_lab.runview.preview import TABLE_ROWS, TEXT_BYTES, preview_path


def png_bytes() -> bytes:
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    raw = b"\x00\xff\x00\x00"  # one red pixel
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", 1, 1, 8, 2, 0, 0, 0))
            + chunk(b"IDAT", zlib.compress(raw)) + chunk(b"IEND", b""))


def test_text_head_is_bounded(tmp_path):
    p = tmp_path / "log.txt"
    p.write_text("x" * (TEXT_BYTES + 10))
    out = preview_path(p)
    assert out["kind"] == "text" and out["truncated"] and len(out["text"]) == TEXT_BYTES


def test_json_is_pretty_printed(tmp_path):
    p = tmp_path / "r.json"
    p.write_text(json.dumps({"a": [1, 2]}))
    assert preview_path(p) == {"kind": "json", "text": '{\n  "a": [\n    1,\n    2\n  ]\n}', "truncated": False}


@pytest.mark.parametrize("suffix,sep", [(".csv", ","), (".tsv", "\t")])
def test_tables(tmp_path, suffix, sep):
    p = tmp_path / f"t{suffix}"
    p.write_text(sep.join(["i", "sq"]) + "\n" + "".join(f"{i}{sep}{i * i}\n" for i in range(TABLE_ROWS + 5)))
    out = preview_path(p)
    assert out["kind"] == "table" and out["columns"] == ["i", "sq"]
    assert out["rows"][3] == ["3", "9"] and len(out["rows"]) == TABLE_ROWS and out["truncated"]


def test_images_by_suffix_and_by_magic(tmp_path):
    data = png_bytes()
    (tmp_path / "a.png").write_bytes(data)
    (tmp_path / "noext").write_bytes(data)
    for name in ("a.png", "noext"):
        out = preview_path(tmp_path / name)
        assert out["kind"] == "image" and out["mime"] == "image/png"
        assert base64.b64decode(out["data"]) == data
    (tmp_path / "v.svg").write_text('<svg xmlns="http://www.w3.org/2000/svg"/>')
    assert preview_path(tmp_path / "v.svg")["mime"] == "image/svg+xml"


def test_numpy_summary(tmp_path):
    np = pytest.importorskip("numpy")
    np.save(tmp_path / "a.npy", np.arange(12, dtype="float64").reshape(3, 4))
    out = preview_path(tmp_path / "a.npy")
    assert out["kind"] == "array" and out["shape"] == [3, 4] and out["dtype"] == "float64"
    assert "max 11" in out["summary"]


def test_directories_binary_and_missing(tmp_path):
    d = tmp_path / "d"
    (d / "sub").mkdir(parents=True)
    (d / "b.bin").write_bytes(b"\x00\x01\x02")
    out = preview_path(d)
    assert out["kind"] == "directory"
    assert out["entries"] == [{"name": "sub", "dir": True, "size": None}, {"name": "b.bin", "dir": False, "size": 3}]
    assert preview_path(d / "b.bin") == {"kind": "binary", "size": 3}
    assert preview_path(tmp_path / "nope")["kind"] == "missing"
    one = tmp_path / "one"
    one.mkdir()
    (one / "only.txt").write_text("hello")
    assert preview_path(one)["text"] == "hello"  # a directory holding one file previews the file
