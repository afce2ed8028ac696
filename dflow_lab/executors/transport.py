"""Where an executor's actions happen: on this host, or on a remote host over SSH.

A transport has five actions — run a shell command, make a directory, write a file, read a file
from an offset, copy a tree up or down — and nothing else; the runner (``runner.py``) builds a step
out of them. ``LocalTransport`` does them on this host (``SlurmJobTemplate``: the step's pod, or the
local engine's host, is a Slurm submit node). ``SSHTransport`` does them over one SSH connection.

SSH library: **paramiko**. The runner is a short synchronous program (one step, one connection,
a handful of sequential actions and a poll loop), which is what paramiko's blocking API is made for;
it ships SFTP, reads OpenSSH private keys from memory (the key never touches the pod's disk), and it
is what dpdispatcher (dflow's ``DispatcherExecutor``) uses, so one SSH library serves both executors.
asyncssh would bring an event loop to a program that has nothing to overlap.

Retries: every SSH action runs through :meth:`SSHTransport.action`. A transient failure (connection
refused/reset/closed, timeout, SSH protocol error, EOF) closes the connection, waits (0.5 s doubling
to 5 s) and retries the action on a new connection, at most ``action_retries`` attempts in all; with
``action_retries=-1`` (the reference's "forever") attempts stop when ``retry_timeout`` seconds have
passed since the first failure. A command that ran and exited non-zero is a result, never retried.

Secrets: the password or private key text is handed over in memory, never logged; error messages
name host, port and user only.

Host keys: accepted on first use (the reference runs ``ssh -o StrictHostKeyChecking=no``) unless
``known_hosts`` names a file, in which case an unknown or changed host key fails the connection.
"""

from __future__ import annotations

import io
import os
import shlex
import shutil
import socket
import stat
import subprocess
import time
from typing import Callable, List, Optional, Tuple, TypeVar

__all__ = ["TransportError", "LocalTransport", "SSHTransport", "load_private_key"]

T = TypeVar("T")


class TransportError(RuntimeError):
    """An action could not be done (after its retries): says which action, where, and why."""


class LocalTransport:
    """The actions on this host."""

    where = "this host"

    def run(self, cmd: str, timeout: Optional[float] = None) -> Tuple[int, str, str]:
        p = subprocess.run(["sh", "-c", cmd], capture_output=True, text=True, timeout=timeout,
                           stdin=subprocess.DEVNULL)
        return p.returncode, p.stdout, p.stderr

    def makedirs(self, path: str) -> None:
        os.makedirs(path, exist_ok=True)

    def write_text(self, path: str, text: str, mode: int = 0o644) -> None:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, mode)
        with os.fdopen(fd, "w") as f:
            f.write(text)

    def read_from(self, path: str, offset: int, limit: int = 1 << 20) -> Optional[bytes]:
        try:
            with open(path, "rb") as f:
                f.seek(offset)
                return f.read(limit)
        except FileNotFoundError:
            return None

    def exists(self, path: str) -> bool:
        return os.path.lexists(path)

    def put(self, local: str, remote: str) -> None:
        _copy_tree(local, remote)

    def get(self, remote: str, local: str) -> None:
        _copy_tree(remote, local)

    def close(self) -> None:
        pass


def _copy_tree(src: str, dst: str) -> None:
    os.makedirs(os.path.dirname(dst) or ".", exist_ok=True)
    if os.path.isdir(src):
        shutil.copytree(src, dst, symlinks=True, dirs_exist_ok=True)
    else:
        shutil.copy2(src, dst)


def load_private_key(text: str, passphrase: Optional[str] = None):
    """A paramiko key from the text of an OpenSSH/PEM private key (Ed25519, ECDSA or RSA)."""
    # lazy: paramiko (~0.4 s to import) is needed by SSH transports only; Slurm on this host runs without it
    import paramiko

    errors = []
    for cls in (paramiko.Ed25519Key, paramiko.ECDSAKey, paramiko.RSAKey):
        try:
            return cls.from_private_key(io.StringIO(text), password=passphrase)
        except (paramiko.SSHException, ValueError) as e:
            errors.append(type(e).__name__)
    raise TransportError("the private key is not an Ed25519, ECDSA or RSA key paramiko can read "
                         "(an OpenSSH or PEM private key file is expected)")


def _transient_errors() -> tuple:
    # lazy: paramiko (~0.4 s to import) is needed by SSH transports only; Slurm on this host runs without it
    import paramiko

    return (paramiko.SSHException, socket.timeout, TimeoutError, ConnectionError, EOFError, OSError)


class SSHTransport:
    """The actions on ``username@host:port`` over one SSH connection (re-made after a failure)."""

    def __init__(self, host: str, port: int = 22, username: str = "root", password: Optional[str] = None,
                 private_key: Optional[str] = None, action_retries: int = -1, retry_timeout: float = 600.0,
                 connect_timeout: float = 15.0, known_hosts: Optional[str] = None,
                 on_retry: Optional[Callable[[str], None]] = None) -> None:
        self.host, self.port, self.username = host, int(port), username
        self._password = password
        self._pkey = load_private_key(private_key) if private_key else None
        self.action_retries = int(action_retries)
        self.retry_timeout = float(retry_timeout)
        self.connect_timeout = float(connect_timeout)
        self.known_hosts = known_hosts
        self.on_retry = on_retry
        self._client = None
        self._sftp = None
        self.where = f"{username}@{host}:{port}"

    # -- connection ------------------------------------------------------------------------------
    def _connect(self):
        # lazy: paramiko (~0.4 s to import) is needed by SSH transports only; Slurm on this host runs without it
        import paramiko

        if self._client is None:
            client = paramiko.SSHClient()
            if self.known_hosts:
                client.load_host_keys(self.known_hosts)
                client.set_missing_host_key_policy(paramiko.RejectPolicy())
            else:
                client.set_missing_host_key_policy(paramiko.AutoAddPolicy())
            client.connect(self.host, port=self.port, username=self.username, password=self._password,
                           pkey=self._pkey, timeout=self.connect_timeout, banner_timeout=self.connect_timeout,
                           auth_timeout=self.connect_timeout, allow_agent=False, look_for_keys=False)
            transport = client.get_transport()
            if transport is not None:
                transport.set_keepalive(5)
            self._client = client
        return self._client

    def _sftp_client(self):
        if self._sftp is None:
            self._sftp = self._connect().open_sftp()
            self._sftp.get_channel().settimeout(60)
        return self._sftp

    def close(self) -> None:
        for obj in (self._sftp, self._client):
            try:
                if obj is not None:
                    obj.close()
            except Exception:  # noqa: BLE001 - closing a broken connection
                pass
        self._sftp = self._client = None

    def action(self, what: str, fn: Callable[[], T]) -> T:
        """``fn()`` with the transient-failure retries described in the module docstring."""
        # lazy: paramiko (~0.4 s to import) is needed by SSH transports only; Slurm on this host runs without it
        import paramiko

        attempt = 0
        first_failure: Optional[float] = None
        delay = 0.5
        while True:
            attempt += 1
            try:
                return fn()
            except paramiko.AuthenticationException:
                self.close()
                raise TransportError(f"{what} on {self.where}: authentication failed (check the user name and "
                                     "the password or private key given to the executor)") from None
            except paramiko.BadHostKeyException:
                self.close()
                raise TransportError(f"{what} on {self.where}: the host key does not match known_hosts") from None
            except _transient_errors() as e:
                self.close()
                now = time.monotonic()
                first_failure = first_failure or now
                reason = f"{type(e).__name__}: {e}" if str(e) else type(e).__name__
                if self.action_retries >= 0:
                    exhausted = attempt >= max(1, self.action_retries)
                    bound = f"{max(1, self.action_retries)} attempts"
                else:
                    exhausted = now - first_failure >= self.retry_timeout
                    bound = f"retries for {self.retry_timeout:g} s"
                if exhausted:
                    raise TransportError(f"{what} on {self.where} failed after {bound}: {reason}") from None
                if self.on_retry is not None:
                    self.on_retry(f"{what} on {self.where} failed ({reason}); retry {attempt} in {delay:g} s")
                time.sleep(delay)
                delay = min(delay * 2, 5.0)

    # -- actions ---------------------------------------------------------------------------------
    def run(self, cmd: str, timeout: Optional[float] = 120.0) -> Tuple[int, str, str]:
        def go() -> Tuple[int, str, str]:
            _, out, err = self._connect().exec_command(cmd, timeout=timeout)
            o = out.read().decode(errors="replace")
            e = err.read().decode(errors="replace")
            return out.channel.recv_exit_status(), o, e

        return self.action(f"command {cmd.split()[0] if cmd.split() else cmd!r}", go)

    def makedirs(self, path: str) -> None:
        rc, _, err = self.run("mkdir -p " + shlex.quote(path))
        if rc != 0:
            raise TransportError(f"mkdir {path} on {self.where}: {err.strip()}")

    def write_text(self, path: str, text: str, mode: int = 0o644) -> None:
        def go() -> None:
            sftp = self._sftp_client()
            with sftp.open(path, "w") as f:
                f.write(text.encode())
            sftp.chmod(path, mode)

        self.action(f"writing {os.path.basename(path)}", go)

    def read_from(self, path: str, offset: int, limit: int = 1 << 20) -> Optional[bytes]:
        def go() -> Optional[bytes]:
            sftp = self._sftp_client()
            try:
                with sftp.open(path, "r") as f:
                    f.seek(offset)
                    return f.read(limit)
            except FileNotFoundError:
                return None

        return self.action(f"reading {os.path.basename(path)}", go)

    def exists(self, path: str) -> bool:
        def go() -> bool:
            try:
                self._sftp_client().lstat(path)
                return True
            except FileNotFoundError:
                return False

        return self.action("stat", go)

    def put(self, local: str, remote: str) -> None:
        def go() -> None:
            sftp = self._sftp_client()
            _sftp_mkdirs(sftp, os.path.dirname(remote))
            if os.path.isdir(local):
                for dirpath, _dirs, filenames in os.walk(local, followlinks=True):
                    rel = os.path.relpath(dirpath, local)
                    target = remote if rel == "." else remote + "/" + rel.replace(os.sep, "/")
                    _sftp_mkdirs(sftp, target)
                    for name in filenames:
                        src = os.path.join(dirpath, name)
                        if os.path.isfile(src):
                            sftp.put(src, target + "/" + name)
                            sftp.chmod(target + "/" + name, os.stat(src).st_mode & 0o777)
            else:
                sftp.put(local, remote)
                sftp.chmod(remote, os.stat(local).st_mode & 0o777)

        self.action(f"upload of {os.path.basename(local)}", go)

    def get(self, remote: str, local: str) -> None:
        def go() -> None:
            sftp = self._sftp_client()
            _sftp_get(sftp, remote, local)

        self.action(f"download of {os.path.basename(remote)}", go)


def _sftp_mkdirs(sftp, path: str) -> None:
    parts: List[str] = []
    p = path
    while p and p not in ("/", "."):
        try:
            sftp.stat(p)
            break
        except FileNotFoundError:
            parts.append(p)
            p = os.path.dirname(p)
    for d in reversed(parts):
        try:
            sftp.mkdir(d)
        except OSError:
            sftp.stat(d)  # made meanwhile; anything else raises


def _sftp_get(sftp, remote: str, local: str) -> None:
    st = sftp.stat(remote)
    if stat.S_ISDIR(st.st_mode):
        os.makedirs(local, exist_ok=True)
        for entry in sftp.listdir_attr(remote):
            _sftp_get(sftp, remote + "/" + entry.filename, os.path.join(local, entry.filename))
    else:
        os.makedirs(os.path.dirname(local) or ".", exist_ok=True)
        sftp.get(remote, local)
        os.chmod(local, st.st_mode & 0o777)
