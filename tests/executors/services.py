"""Real services for executor tests, started on 127.0.0.1 with free ports: Debian's ``sshd``, Slurm
(``slurmctld`` + ``slurmd`` as root, one node, its own ``munged``) and ``podman`` images built with
``podman import`` from root filesystems made here. Reusable: ``from tests.executors.services import
SSHD, Slurm, ...`` (the DispatcherExecutor tests use the same sshd and Slurm).

Each start returns an object or raises :class:`Unavailable` with the reason (the fixtures turn it into
a skip). Everything runs as root (as CI does); the SSH user is a dedicated account ``dflowlab``
(created once with ``useradd``), logging in with a generated Ed25519 key or a password. Files the
test user or Slurm must read live in a world-readable temporary directory removed at the end.
Processes are stopped by their own PIDs; waits are bounded polls, never sleeps for a result.
"""

from __future__ import annotations

import os
import pwd
import shutil
import socket
import subprocess
import tempfile
import time
from pathlib import Path
from typing import Callable, List, Optional

__all__ = ["Unavailable", "free_port", "wait_for", "SSHD", "Slurm", "TEST_USER", "ensure_user",
           "podman_base", "build_busybox_image", "build_python_image", "PODMAN_GLOBAL", "PODMAN_RUN"]

TEST_USER = "dflowlab"
TEST_PASSWORD = "dflowlab-test-pw-7"  # a throwaway account on a test machine, only reachable on 127.0.0.1
# what podman needs on these machines (crun fails on setrlimit and hybrid cgroups here)
PODMAN_GLOBAL = "--runtime runc --cgroup-manager=cgroupfs"
PODMAN_RUN = "--ulimit nofile=1024:1024 --ulimit nproc=1024:1024 --network=none"


class Unavailable(RuntimeError):
    """A part cannot start here: the reason is the skip message."""


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for(cond: Callable[[], bool], timeout: float, what: str, interval: float = 0.1) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if cond():
            return
        time.sleep(interval)
    raise Unavailable(f"{what} did not happen within {timeout:g} s")


def _port_open(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=0.5):
            return True
    except OSError:
        return False


def _need_root(what: str) -> None:
    if os.geteuid() != 0:
        raise Unavailable(f"{what} needs root (the tests start system daemons)")


def ensure_user() -> pwd.struct_passwd:
    """The test account (created on first use), with its password set."""
    _need_root("the SSH test user")
    try:
        pw = pwd.getpwnam(TEST_USER)
    except KeyError:
        if shutil.which("useradd") is None:
            raise Unavailable("useradd is not installed") from None
        subprocess.run(["useradd", "-m", "-s", "/bin/sh", TEST_USER], check=True, capture_output=True)
        pw = pwd.getpwnam(TEST_USER)
    subprocess.run(["chpasswd"], input=f"{TEST_USER}:{TEST_PASSWORD}\n", text=True, check=True, capture_output=True)
    return pw


def _children(pid: int) -> List[int]:
    try:
        with open(f"/proc/{pid}/task/{pid}/children") as f:
            return [int(x) for x in f.read().split()]
    except OSError:
        return []


class SSHD:
    """``sshd -D`` on a free 127.0.0.1 port, with a generated host key and the test user's key."""

    def __init__(self, base: Path, env: Optional[dict] = None) -> None:
        _need_root("sshd")
        self.sshd = shutil.which("sshd") or "/usr/sbin/sshd"
        if not os.path.exists(self.sshd) or shutil.which("ssh-keygen") is None:
            raise Unavailable("openssh-server is not installed (apt-get install openssh-server)")
        self.user = ensure_user()
        self.base = base
        base.mkdir(parents=True, exist_ok=True)
        self.port = free_port()
        self.host_key = base / "host_ed25519"
        self.client_key = base / "id_ed25519"
        for k in (self.host_key, self.client_key):
            if not k.exists():
                subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(k)], check=True)
        ssh_dir = Path(self.user.pw_dir) / ".ssh"
        ssh_dir.mkdir(mode=0o700, exist_ok=True)
        auth = ssh_dir / "authorized_keys"
        pub = (self.client_key.with_suffix(".pub")).read_text()
        existing = auth.read_text() if auth.exists() else ""
        if pub not in existing:
            auth.write_text(existing + pub)
        for p in (ssh_dir, auth):
            os.chown(p, self.user.pw_uid, self.user.pw_gid)
        os.chmod(auth, 0o600)
        Path("/run/sshd").mkdir(mode=0o755, exist_ok=True)
        setenv = " ".join(f"{k}={v}" for k, v in (env or {}).items())
        self.config = base / "sshd_config"
        self.config.write_text(
            f"Port {self.port}\nListenAddress 127.0.0.1\nHostKey {self.host_key}\nPidFile {base}/sshd.pid\n"
            "UsePAM no\nPasswordAuthentication yes\nKbdInteractiveAuthentication no\nPermitRootLogin no\n"
            f"AllowUsers {TEST_USER}\nStrictModes no\nSubsystem sftp internal-sftp\nLogLevel VERBOSE\n"
            "MaxStartups 50\nClientAliveInterval 5\n" + (f"SetEnv {setenv}\n" if setenv else ""))
        self.proc: Optional[subprocess.Popen] = None
        self.start()

    def start(self) -> None:
        self.log = open(self.base / "sshd.log", "ab")
        self.proc = subprocess.Popen([self.sshd, "-D", "-e", "-f", str(self.config)], stdout=self.log,
                                     stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
        try:
            wait_for(lambda: _port_open(self.port) or self.proc.poll() is not None, 20, "sshd listening")
        except Unavailable:
            self.stop()
            raise
        if self.proc.poll() is not None:
            raise Unavailable(f"sshd exited at start: {(self.base / 'sshd.log').read_text()[-500:]}")

    def kill(self) -> None:
        """Kill sshd and the session processes it started (established connections drop)."""
        if self.proc is None:
            return
        tree, todo = [], [self.proc.pid]
        while todo:  # sshd, its per-connection processes and theirs (not the detached remote scripts)
            pid = todo.pop()
            tree.append(pid)
            todo.extend(_children(pid))
        for pid in tree:
            try:
                os.kill(pid, 9)
            except ProcessLookupError:
                pass
        self.proc.wait(timeout=10)
        self.proc = None
        self.log.close()

    stop = kill

    def connected_sessions(self) -> int:
        return len(_children(self.proc.pid)) if self.proc else 0


class Slurm:
    """One-node Slurm: its own ``munged``, ``slurmctld`` and ``slurmd`` (as root) on free ports."""

    def __init__(self) -> None:
        _need_root("Slurm")
        for exe in ("slurmctld", "slurmd", "munged", "sbatch", "squeue", "scontrol"):
            if shutil.which(exe) is None and not os.path.exists(f"/usr/sbin/{exe}"):
                raise Unavailable(f"{exe} is not installed (apt-get install slurm-wlm munge)")
        ensure_user()
        self.dir = Path(tempfile.mkdtemp(prefix="dflow-lab-slurm-"))
        os.chmod(self.dir, 0o755)
        self.procs: List[subprocess.Popen] = []
        self.node = "dflowlab-node"
        try:
            self._start()
        except Exception:
            self.stop()
            raise

    def _daemon(self, argv: List[str], name: str) -> subprocess.Popen:
        log = open(self.dir / f"{name}.out", "ab")
        p = subprocess.Popen(argv, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                             env={**os.environ, "SLURM_CONF": str(self.conf)})
        log.close()
        self.procs.append(p)
        return p

    def _start(self) -> None:
        d = self.dir
        munge = d / "munge"
        munge.mkdir(mode=0o755)
        key = munge / "munge.key"
        key.write_bytes(os.urandom(1024))
        os.chmod(key, 0o400)
        self.munge_socket = munge / "munge.socket"
        munged = shutil.which("munged") or "/usr/sbin/munged"
        self.conf = d / "slurm.conf"
        m = subprocess.run([munged, "--force", f"--socket={self.munge_socket}", f"--key-file={key}",
                            f"--pid-file={munge}/munged.pid", f"--seed-file={munge}/seed",
                            f"--log-file={munge}/munged.log"], capture_output=True, text=True)
        if m.returncode != 0:
            raise Unavailable(f"munged did not start: {(m.stderr or m.stdout).strip()[:300]}")
        self.munged_pid = int((munge / "munged.pid").read_text().strip())
        ctld, slurmd_port = free_port(), free_port()
        for sub in ("state", "spool", "log"):
            (d / sub).mkdir(mode=0o755)
        cpus = os.cpu_count() or 1
        self.conf.write_text(f"""ClusterName=dflowlab
SlurmctldHost=localhost(127.0.0.1)
SlurmctldPort={ctld}
SlurmdPort={slurmd_port}
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
CredType=cred/munge
AuthInfo=socket={self.munge_socket}
StateSaveLocation={d}/state
SlurmdSpoolDir={d}/spool
SlurmctldPidFile={d}/slurmctld.pid
SlurmdPidFile={d}/slurmd.pid
SlurmctldLogFile={d}/log/slurmctld.log
SlurmdLogFile={d}/log/slurmd.log
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
SchedulerType=sched/builtin
SelectType=select/cons_tres
MpiDefault=none
ReturnToService=2
MinJobAge=600
InactiveLimit=0
KillWait=5
SlurmctldTimeout=30
SlurmdTimeout=30
NodeName={self.node} NodeAddr=127.0.0.1 CPUs={cpus} State=UNKNOWN
PartitionName=debug Nodes={self.node} Default=YES MaxTime=INFINITE State=UP
""")
        os.chmod(self.conf, 0o644)
        self.env = {"SLURM_CONF": str(self.conf)}
        self._daemon([shutil.which("slurmctld") or "/usr/sbin/slurmctld", "-D", "-i", "-f", str(self.conf)],
                     "slurmctld")
        self._daemon([shutil.which("slurmd") or "/usr/sbin/slurmd", "-D", "-N", self.node, "-f", str(self.conf)],
                     "slurmd")

        def idle() -> bool:
            for p in self.procs:
                if p.poll() is not None:
                    raise Unavailable(f"a Slurm daemon exited at start: {self._logs()}")
            r = subprocess.run(["sinfo", "-h", "-N", "-o", "%T"], capture_output=True, text=True,
                               env={**os.environ, **self.env})
            return r.returncode == 0 and r.stdout.strip().startswith("idle")

        try:
            wait_for(idle, 90, "the Slurm node becoming idle", interval=0.5)
        except Unavailable as e:
            raise Unavailable(f"{e}: {self._logs()}") from None

    def _logs(self) -> str:
        out = []
        for name in ("log/slurmctld.log", "log/slurmd.log", "slurmctld.out", "slurmd.out"):
            p = self.dir / name
            if p.exists():
                out.append(f"{name}: " + p.read_text(errors="replace")[-400:])
        return " | ".join(out)

    def squeue(self) -> str:
        return subprocess.run(["squeue", "-h", "-o", "%i %T %u"], capture_output=True, text=True,
                              env={**os.environ, **self.env}).stdout

    def stop(self) -> None:
        for p in reversed(self.procs):
            if p.poll() is None:
                p.terminate()
                try:
                    p.wait(timeout=20)
                except subprocess.TimeoutExpired:
                    p.kill()
                    p.wait(timeout=10)
        self.procs = []
        pid = getattr(self, "munged_pid", None)
        if pid:
            try:
                os.kill(pid, 15)
            except ProcessLookupError:
                pass
            self.munged_pid = None
        shutil.rmtree(self.dir, ignore_errors=True)


# -- podman -----------------------------------------------------------------------------------------

def podman_base() -> List[str]:
    exe = shutil.which("podman")
    if exe is None:
        raise Unavailable("podman is not installed (apt-get install podman runc)")
    argv = [exe, *PODMAN_GLOBAL.split()]
    r = subprocess.run(argv + ["info", "--format", "{{.Host.OCIRuntime.Name}}"], capture_output=True, text=True)
    if r.returncode != 0:
        raise Unavailable(f"podman does not work here: {r.stderr.strip()[:300]}")
    return argv


def _import(rootfs: Path, tag: str) -> str:
    argv = podman_base()
    tar = rootfs.with_suffix(".tar")
    subprocess.run(["tar", "-C", str(rootfs), "-cf", str(tar), "."], check=True)
    r = subprocess.run(argv + ["import", "--change", "ENV=PATH=/usr/local/bin:/usr/bin:/bin", str(tar), tag],
                       capture_output=True, text=True)
    tar.unlink()
    if r.returncode != 0:
        raise Unavailable(f"podman import failed: {r.stderr.strip()[:300]}")
    probe = subprocess.run(argv + ["run", "--rm", "--pull=never", *PODMAN_RUN.split(), tag, "/bin/sh", "-c", "true"],
                           capture_output=True, text=True)
    if probe.returncode != 0:
        raise Unavailable(f"podman cannot run a container here: {probe.stderr.strip()[:300]}")
    return tag


def _busybox_tree(root: Path) -> None:
    bb = shutil.which("busybox") or "/bin/busybox"
    if not os.path.exists(bb):
        raise Unavailable("busybox-static is not installed (apt-get install busybox-static)")
    (root / "bin").mkdir(parents=True)
    (root / "tmp").mkdir(mode=0o1777)
    (root / "etc").mkdir()
    (root / "etc/passwd").write_text("root:x:0:0:root:/root:/bin/sh\n")
    (root / "etc/group").write_text("root:x:0:\n")
    shutil.copy2(bb, root / "bin" / "busybox")
    names = subprocess.run([bb, "--list"], capture_output=True, text=True, check=True).stdout.split()
    for n in names:
        if n != "busybox" and not (root / "bin" / n).exists():
            (root / "bin" / n).symlink_to("busybox")


def build_busybox_image(work: Path, tag: str = "localhost/dflow-lab-test/busybox:1") -> str:
    """A busybox image (``sh`` and the usual tools) imported from a root filesystem made here."""
    root = work / "busybox-rootfs"
    _busybox_tree(root)
    return _import(root, tag)


def build_python_image(work: Path, tag: str = "localhost/dflow-lab-test/python:1") -> str:
    """busybox plus Debian's ``python3`` with its standard library (tests, idle, ensurepip… left out)
    and PyYAML: what a Python OP needs besides the dflow-lab and jsonpickle it is sent."""
    py = "/usr/bin/python3"
    if not os.path.exists(py):
        raise Unavailable("Debian's python3 is not installed")
    ver = subprocess.run([py, "-c", "import sys; print('%d.%d' % sys.version_info[:2])"], capture_output=True,
                         text=True, check=True).stdout.strip()
    probe = subprocess.run([py, "-c", "import yaml, os; print(os.path.dirname(yaml.__file__))"],
                           capture_output=True, text=True)
    if probe.returncode != 0:
        raise Unavailable("Debian's python3 has no PyYAML (apt-get install python3-yaml)")
    root = work / "python-rootfs"
    _busybox_tree(root)
    real = os.path.realpath(py)
    (root / "usr/bin").mkdir(parents=True)
    shutil.copy2(real, root / "usr/bin" / os.path.basename(real))
    (root / "usr/bin/python3").symlink_to(os.path.basename(real))
    libs = subprocess.run(["ldd", real], capture_output=True, text=True).stdout
    for line in libs.splitlines():
        parts = line.split()
        path = next((p for p in parts if p.startswith("/")), None)
        if path:
            dest = root / path.lstrip("/")
            dest.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(os.path.realpath(path), dest)
    skip = shutil.ignore_patterns("test", "tests", "idlelib", "ensurepip", "tkinter", "turtledemo", "lib2to3",
                                  "__pycache__", "pydoc_data", "config-*")
    shutil.copytree(f"/usr/lib/python{ver}", root / f"usr/lib/python{ver}", ignore=skip, symlinks=False)
    yaml_dir = probe.stdout.strip()
    dist = root / "usr/lib/python3/dist-packages"
    dist.mkdir(parents=True)
    shutil.copytree(yaml_dir, dist / "yaml", ignore=shutil.ignore_patterns("__pycache__"))
    for f in os.listdir(os.path.dirname(yaml_dir)):
        if f.startswith("_yaml"):
            src = os.path.join(os.path.dirname(yaml_dir), f)
            (shutil.copytree if os.path.isdir(src) else shutil.copy2)(src, dist / f)
    return _import(root, tag)


def remove_image(tag: str) -> None:
    try:
        subprocess.run(podman_base() + ["rmi", "-f", tag], capture_output=True)
    except Unavailable:
        pass
