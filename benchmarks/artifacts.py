"""Artifact transfer benchmark against a local S3 server (moto's, on 127.0.0.1), with plain
``minio`` client calls as the floor.

    python benchmarks/artifacts.py                      # 1 GiB file, 10,000 small files
    python benchmarks/artifacts.py --big-mib 64 --files 1000 --repeat 1   # a quick run

Big file: ``upload_artifact(path, archive=None)`` / ``download_artifact`` and the engine's
``save``/``load`` against ``Minio.fput_object``/``fget_object`` (the target: within 1.3x).
Small files: ``upload_artifact(dir)`` as a tar (one request) and with ``archive=None`` (concurrent
requests), downloads likewise, against one sequential ``fput_object``/``fget_object`` per file (the
target: faster). Local store: the engine's ``save``/``load`` of many one-file tar outputs (a
fan-out's step-to-step traffic), in artifacts per second. Each figure is the best of ``--repeat``
runs. Not a test: nothing is asserted.
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import tempfile
import time
import uuid
from pathlib import Path

from minio import Minio

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO / "tests" / "storage"))  # the tests' moto server launcher

from s3server import MotoServer  # noqa: E402

from dflow_lab.config import s3_config  # noqa: E402
from dflow_lab.storage.minio_client import MinioClient  # noqa: E402
from dflow_lab.storage.repository import LocalRepository, RemoteRepository  # noqa: E402
from dflow_lab.utils import download_artifact, upload_artifact  # noqa: E402

MiB = 1 << 20


def best_of(cases: dict, repeat: int) -> dict:
    """Time each case ``name -> (fn, reset)`` ``repeat`` times, round-robin so that the floor and
    ours share the machine's ups and downs (it is shared); return the best time of each."""
    times: dict = {name: [] for name in cases}
    for _ in range(repeat):
        for name, (fn, reset) in cases.items():
            if reset:
                reset()
            t = time.perf_counter()
            fn()
            times[name].append(time.perf_counter() - t)
    return {name: min(ts) for name, ts in times.items()}


def make_big(path: Path, mib: int) -> None:
    block = os.urandom(MiB)
    with open(path, "wb") as f:
        for i in range(mib):
            f.write(i.to_bytes(8, "little") + block[8:])


def make_small(root: Path, n: int, size: int) -> None:
    for i in range(n):
        d = root / f"d{i // 1000:02d}"
        d.mkdir(parents=True, exist_ok=True)
        (d / f"f{i:05d}.dat").write_bytes(os.urandom(size))


def row(name: str, secs: float, floor: float, unit_bytes: int) -> None:
    rate = unit_bytes / secs / MiB if secs else float("inf")
    print(f"  {name:<44} {secs:8.2f} s  {rate:8.1f} MiB/s  {secs / floor:5.2f}x floor")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--big-mib", type=int, default=1024, help="size of the big file (MiB)")
    ap.add_argument("--files", type=int, default=10_000, help="number of small files (0: skip)")
    ap.add_argument("--file-bytes", type=int, default=1024, help="size of each small file")
    ap.add_argument("--local-artifacts", type=int, default=2000, help="artifacts for the local-store figure")
    ap.add_argument("--repeat", type=int, default=2, help="runs per figure (the best is printed)")
    args = ap.parse_args()

    server = MotoServer()
    server.start()
    work = Path(tempfile.mkdtemp(prefix="dflow-lab-bench-"))
    bucket = f"bench-{uuid.uuid4().hex[:8]}"
    try:
        server.make_bucket(bucket)
        s3_config.update(
            endpoint=server.endpoint, access_key=server.access_key, secret_key=server.secret_key,
            secure=False, bucket_name=bucket, storage="s3", storage_client=None, prefix="",
        )
        minio = Minio(server.endpoint, access_key=server.access_key, secret_key=server.secret_key, secure=False)
        os.chdir(work)

        def fresh(path: Path):
            return lambda: shutil.rmtree(path, ignore_errors=True) or path.mkdir(parents=True)

        # -- one big file ---------------------------------------------------------------------
        big = work / "big.bin"
        make_big(big, args.big_mib)
        size = big.stat().st_size
        print(f"big file: {args.big_mib} MiB, moto S3 server on {server.endpoint}")
        holder: dict = {}
        repo = RemoteRepository(MinioClient())
        ups = best_of({
            "floor: Minio.fput_object": (lambda: minio.fput_object(bucket, "floor/big.bin", str(big)), None),
            "upload_artifact(archive=None)": (lambda: holder.update(art=upload_artifact("big.bin", archive=None)), None),
            "engine save(archive=None)": (lambda: repo.save(str(big), "wf/pod/big", archive=None), None),
        }, args.repeat)
        downs = best_of({
            "floor: Minio.fget_object": (lambda: minio.fget_object(bucket, "floor/big.bin", str(work / "dl" / "f")),
                                         fresh(work / "dl")),
            "download_artifact": (lambda: download_artifact(holder["art"], path=str(work / "dl")), fresh(work / "dl")),
            "engine load": (lambda: repo.load({"s3": {"key": "wf/pod/big"}, "archive": {"none": {}}},
                                              str(work / "dl" / "f")), fresh(work / "dl")),
        }, args.repeat)
        for results in (ups, downs):
            floor = next(iter(results.values()))
            for name, secs in results.items():
                row(name, secs, floor, size)
        big.unlink()
        for key in ("floor/big.bin", "wf/pod/big"):
            minio.remove_object(bucket, key)

        # -- many small files -----------------------------------------------------------------
        if args.files:
            small = work / "small"
            make_small(small, args.files, args.file_bytes)
            files = sorted(p for p in small.rglob("*") if p.is_file())
            total = args.files * args.file_bytes
            print(f"small files: {args.files} x {args.file_bytes} B")

            def per_file_up():
                for p in files:
                    minio.fput_object(bucket, f"floor-small/{p.relative_to(small)}", str(p))

            def per_file_down():
                for p in files:
                    minio.fget_object(bucket, f"floor-small/{p.relative_to(small)}", str(work / "fd" / p.relative_to(small)))

            arts: dict = {}
            ups = best_of({
                "floor: fput_object per file, sequential": (per_file_up, None),
                "upload_artifact (tar, one request)": (lambda: arts.update(tar=upload_artifact("small")), None),
                "upload_artifact(archive=None), concurrent": (
                    lambda: arts.update(none=upload_artifact("small", archive=None)), None),
            }, args.repeat)
            downs = best_of({
                "floor: fget_object per file, sequential": (per_file_down, fresh(work / "fd")),
                "download_artifact (tar)": (lambda: download_artifact(arts["tar"], path=str(work / "fd")),
                                            fresh(work / "fd")),
                "download_artifact(archive=None), concurrent": (
                    lambda: download_artifact(arts["none"], path=str(work / "fd")), fresh(work / "fd")),
            }, args.repeat)
            for results in (ups, downs):
                floor = next(iter(results.values()))
                for name, secs in results.items():
                    row(name, secs, floor, total)

        # -- the local store: step-to-step traffic of a fan-out ---------------------------------
        local = LocalRepository(work / "ws" / "artifacts")
        one = work / "one.txt"
        one.write_text("x")
        n = args.local_artifacts
        res = best_of({
            "save": (lambda: [local.save(str(one), f"wf/p{i}/o.tgz") for i in range(n)], None),
            "load": (lambda: [local.load({"s3": {"key": f"wf/p{i}/o.tgz"}}, str(work / "in" / str(i)))
                              for i in range(n)], fresh(work / "in")),
        }, args.repeat)
        print(f"local store: {n} one-file tar artifacts")
        for name, secs in res.items():
            print(f"  engine {name:<37} {secs:8.2f} s  {n / secs:8.0f} artifacts/s")
    finally:
        os.chdir(REPO)
        server.stop()
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
