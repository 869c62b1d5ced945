"""Fixtures for the email plugin's tests: a real Dovecot IMAP server, IMAP helpers, a flaky proxy.

    def test_poll(dovecot_account):               # a fresh IMAP user with an empty INBOX
        dovecot_account.append(raw_bytes)         # APPEND through imaplib, like a mail server would
        ...
        assert dovecot_account.flags() == {1: {"\\Seen"}}

    def test_drop(dovecot_account, flaky_imap_proxy):
        flaky_imap_proxy.arm(at_fetch=3)          # cut the 3rd message body mid-transfer, once
        ... point the mailbox at flaky_imap_proxy.port ...

``dovecot`` is one throwaway server per test session (``dovecot -F -c`` with a self-contained
config, passwd-file users, maildirs under a temp folder owned by ``nobody``). Tests that need
it are skipped, with the reason, only when the ``dovecot`` binary is not installed
(Debian: ``apt-get install dovecot-imapd``).
"""
from __future__ import annotations

import imaplib
import os
import re
import selectors
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from smtp_sink import SMTPServer

ROOT = Path(__file__).resolve().parents[3]
MAIL_DATA = ROOT / "tests" / "data" / "mail"
EXPECTATIONS = Path(__file__).resolve().parent / "data"
# The core's test helpers (tests/smtp_sink.py) are plain modules in tests/, not a package.
if str(ROOT / "tests") not in sys.path:
    sys.path.insert(0, str(ROOT / "tests"))

IMAP_TIMEOUT = 10


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def dovecot_binary() -> str | None:
    return shutil.which("dovecot") or next(
        (p for p in ("/usr/sbin/dovecot", "/usr/local/sbin/dovecot") if os.path.exists(p)), None)


# --------------------------------------------------------------------------- Dovecot

DOVECOT_CONF = """\
protocols = imap
listen = 127.0.0.1
base_dir = {d}/run
state_dir = {d}/state
instance_name = helpdesk-test-{port}
log_path = {d}/dovecot.log
# TLS on the imaps port and STARTTLS on the plain one, with a self-signed certificate for
# 127.0.0.1 (trust it with SSL_CERT_FILE={d}/cert.pem); plain logins stay allowed.
ssl = yes
ssl_cert = <{d}/cert.pem
ssl_key = <{d}/key.pem
disable_plaintext_auth = no
auth_mechanisms = plain login
# the default (2 s per failed login) only slows the wrong-password test down
auth_failure_delay = 0
mail_location = maildir:~/Maildir
passdb {{
  driver = passwd-file
  args = username_format=%u {d}/users
}}
userdb {{
  driver = static
  args = uid=nobody gid=nogroup home={d}/home/%u
}}
# No "auth penalty" (a delay of 2 s and more after failed logins from one IP, kept by anvil).
service anvil {{
  unix_listener anvil-auth-penalty {{
    mode = 0
  }}
}}
service imap-login {{
  inet_listener imap {{
    address = 127.0.0.1
    port = {port}
  }}
  inet_listener imaps {{
    address = 127.0.0.1
    port = {tls_port}
  }}
}}
"""


class ImapAccount:
    """One IMAP user on the test server, with the few operations the tests need."""

    def __init__(self, host: str, port: int, user: str, password: str) -> None:
        self.host, self.port, self.user, self.password = host, port, user, password

    def connect(self) -> imaplib.IMAP4:
        conn = imaplib.IMAP4(self.host, self.port, timeout=IMAP_TIMEOUT)
        conn.login(self.user, self.password)
        return conn

    def append(self, raw: bytes, folder: str = "INBOX", flags: str = "") -> int:
        """APPEND one raw message (creating the folder if needed); returns its UID."""
        with self.connect() as conn:
            if folder.upper() != "INBOX":
                conn.create(folder)  # "already exists" is a NO, not an exception
            typ, data = conn.append(folder, flags, imaplib.Time2Internaldate(time.time()), raw)
            assert typ == "OK", data
            # Dovecot answers "[APPENDUID <uidvalidity> <uid>] Append completed."
            match = re.search(rb"APPENDUID \d+ (\d+)", data[0] or b"")
            return int(match.group(1)) if match else 0

    def flags(self, folder: str = "INBOX") -> dict[int, set[str]]:
        """UID → flags of every message in ``folder`` (read-only: sets no \\Seen; \\Recent left out)."""
        with self.connect() as conn:
            typ, _ = conn.select(folder, readonly=True)
            assert typ == "OK", folder
            typ, data = conn.uid("FETCH", "1:*", "(FLAGS)")
            result = {}
            for line in data:
                if not line:
                    continue
                text = line.decode() if isinstance(line, bytes) else line[0].decode()
                uid = re.search(r"UID (\d+)", text)
                flags = re.search(r"FLAGS \(([^)]*)\)", text)
                if uid and flags:
                    result[int(uid.group(1))] = set(flags.group(1).split()) - {"\\Recent"}  # per session
            return result

    def uidvalidity(self, folder: str = "INBOX") -> int:
        with self.connect() as conn:
            typ, data = conn.status(folder, "(UIDVALIDITY)")
            assert typ == "OK", data
            return int(re.search(rb"UIDVALIDITY (\d+)", data[0]).group(1))

    def create(self, folder: str) -> None:
        with self.connect() as conn:
            typ, data = conn.create(folder)
            assert typ == "OK", data

    def recreate(self, folder: str) -> None:
        """Delete and create ``folder`` again: the server gives it a new UIDVALIDITY."""
        assert folder.upper() != "INBOX"
        with self.connect() as conn:
            conn.delete(folder)
            typ, data = conn.create(folder)
            assert typ == "OK", data

    def folders(self) -> list[str]:
        with self.connect() as conn:
            typ, data = conn.list()
            return [line.decode().rsplit(" ", 1)[-1].strip('"') for line in data if line]


class Dovecot:
    """A running Dovecot; ``new_account()`` hands out a user whose mailbox nobody used yet."""

    host = "127.0.0.1"
    password = "secret"
    POOL = 200  # users written before start: Dovecot re-reads a changed passwd-file at most once a second

    def __init__(self, directory: Path, port: int, process: subprocess.Popen) -> None:
        self.directory, self.port, self.process = directory, port, process
        self.tls_port = 0            # implicit TLS (imaps); STARTTLS is offered on ``port``
        self.cert = directory / "cert.pem"
        self._lock = threading.Lock()
        self._next = 0

    @classmethod
    def write_users(cls, path: Path) -> None:
        path.write_text("".join(f"user{i:03d}:{{PLAIN}}{cls.password}\n" for i in range(cls.POOL)))

    def new_account(self) -> ImapAccount:
        with self._lock:
            if self._next >= self.POOL:
                raise RuntimeError(f"all {self.POOL} test IMAP users are taken: raise Dovecot.POOL")
            user = f"user{self._next:03d}"
            self._next += 1
        return ImapAccount(self.host, self.port, user, self.password)

    def log(self) -> str:
        path = self.directory / "dovecot.log"
        return path.read_text(errors="replace") if path.exists() else ""


def write_self_signed_certificate(directory: Path) -> None:
    """cert.pem and key.pem for 127.0.0.1 and localhost, valid for a day (cryptography is a core dependency)."""
    import datetime
    import ipaddress

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "Helpdesk test IMAP server")])
    now = datetime.datetime.now(datetime.UTC)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - datetime.timedelta(hours=1)).not_valid_after(now + datetime.timedelta(days=1))
            .add_extension(x509.SubjectAlternativeName([x509.DNSName("localhost"),
                                                        x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
                           critical=False)
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
            .sign(key, hashes.SHA256()))
    (directory / "cert.pem").write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    (directory / "key.pem").write_bytes(key.private_bytes(serialization.Encoding.PEM,
                                                          serialization.PrivateFormat.PKCS8,
                                                          serialization.NoEncryption()))
    (directory / "key.pem").chmod(0o600)


def _wait_for_port(port: int, process: subprocess.Popen, seconds: float = 10) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"dovecot exited with status {process.returncode}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5) as sock:
                if sock.recv(100).startswith(b"* OK"):
                    return
        except OSError:
            time.sleep(0.05)
    raise RuntimeError(f"dovecot did not listen on port {port} within {seconds} s")


@pytest.fixture(scope="session")
def dovecot() -> Iterator[Dovecot]:
    """A throwaway Dovecot IMAP server on a free loopback port, for the whole session."""
    binary = dovecot_binary()
    if binary is None:
        pytest.skip("the dovecot binary is not installed (Debian: apt-get install dovecot-imapd)")
    # Not under pytest's tmp_path: that is mode 0700, and Dovecot's unprivileged processes
    # (auth as dovenull, mail as nobody) must traverse the folder.
    directory = Path(tempfile.mkdtemp(prefix="helpdesk-dovecot-"))
    directory.chmod(0o755)
    for sub in ("run", "state", "home"):
        (directory / sub).mkdir()
    if os.geteuid() == 0:
        shutil.chown(directory / "home", "nobody", "nogroup")  # Dovecot refuses uid 0 for mail
    else:
        (directory / "home").chmod(0o777)
    Dovecot.write_users(directory / "users")
    (directory / "users").chmod(0o644)
    port, tls_port = free_port(), free_port()
    write_self_signed_certificate(directory)
    (directory / "dovecot.conf").write_text(DOVECOT_CONF.format(d=directory, port=port, tls_port=tls_port))
    process = subprocess.Popen([binary, "-F", "-c", str(directory / "dovecot.conf")],
                               stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        _wait_for_port(port, process)
    except RuntimeError as exc:
        process.kill()
        stderr = process.communicate(timeout=10)[1].decode(errors="replace")
        log = (directory / "dovecot.log").read_text(errors="replace") if (directory / "dovecot.log").exists() else ""
        shutil.rmtree(directory, ignore_errors=True)
        pytest.fail(f"{exc}\nstderr: {stderr}\nlog: {log}")
    server = Dovecot(directory, port, process)
    server.tls_port, server.cert = tls_port, directory / "cert.pem"
    yield server
    process.terminate()
    try:
        process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(timeout=10)
    if process.stderr:
        process.stderr.close()
    shutil.rmtree(directory, ignore_errors=True)


@pytest.fixture
def dovecot_account(dovecot: Dovecot) -> ImapAccount:
    """A fresh IMAP user (password ``secret``) whose INBOX is empty."""
    return dovecot.new_account()


# ------------------------------------------------------------------ flaky TCP proxy

# An untagged FETCH response that carries message data as a literal, e.g.
# "* 3 FETCH (UID 3 BODY[] {1234}\r\n" (a STORE's "* 3 FETCH (FLAGS (\Seen))" has none, so it does not count).
BODY_FETCH = re.compile(rb"\* \d+ FETCH \([^\r\n]*\{\d+\}\r\n")


class FlakyProxy:
    """A TCP proxy in front of the IMAP server that can drop a connection mid-transfer.

    ``arm(after_bytes=N)``: close both sides once N bytes of server→client traffic have passed.
    ``arm(at_fetch=k)``: close both sides in the middle of the k-th FETCH response that carries
    message data (a literal) (the client gets the response line and part of the literal, never all of it).
    The trap fires once (on the connection that reaches it); later connections are healthy
    unless ``arm`` is called again. ``drops`` counts the connections cut so far.
    """

    def __init__(self, target_host: str, target_port: int) -> None:
        self.target = (target_host, target_port)
        self.host = "127.0.0.1"
        self._listener = socket.socket()
        self._listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self._listener.bind((self.host, 0))
        self._listener.listen(16)
        self._listener.settimeout(0.2)  # so stop() is noticed without a connection
        self.port = self._listener.getsockname()[1]
        self._lock = threading.Lock()
        self._after_bytes: int | None = None
        self._at_fetch: int | None = None
        self.drops = 0
        self.connections = 0
        self._stopped = threading.Event()
        self._threads: list[threading.Thread] = []
        self._sockets: list[socket.socket] = []
        self._accept_thread = threading.Thread(target=self._accept, daemon=True)
        self._accept_thread.start()

    def arm(self, *, after_bytes: int | None = None, at_fetch: int | None = None) -> None:
        if (after_bytes is None) == (at_fetch is None):
            raise ValueError("give exactly one of after_bytes= or at_fetch=")
        with self._lock:
            self._after_bytes, self._at_fetch = after_bytes, at_fetch

    def disarm(self) -> None:
        with self._lock:
            self._after_bytes = self._at_fetch = None

    def _take_trap(self) -> tuple[int | None, int | None]:
        with self._lock:
            return self._after_bytes, self._at_fetch

    def _fired(self) -> None:
        with self._lock:
            self._after_bytes = self._at_fetch = None
            self.drops += 1

    def _accept(self) -> None:
        while not self._stopped.is_set():
            try:
                client, _ = self._listener.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            client.settimeout(None)
            try:
                server = socket.create_connection(self.target, timeout=IMAP_TIMEOUT)
            except OSError:
                client.close()
                continue
            with self._lock:
                self.connections += 1
                self._sockets += [client, server]
            thread = threading.Thread(target=self._pump, args=(client, server), daemon=True)
            self._threads.append(thread)
            thread.start()

    def _pump(self, client: socket.socket, server: socket.socket) -> None:
        """Forward bytes both ways until either side closes or the trap fires."""
        sent_down = 0      # server→client bytes forwarded on this connection
        fetches = 0        # body-carrying FETCH responses seen on this connection
        tail = b""         # last bytes of the previous chunk, so a response split across reads is found
        selector = selectors.DefaultSelector()
        selector.register(client, selectors.EVENT_READ, server)
        selector.register(server, selectors.EVENT_READ, client)
        try:
            while not self._stopped.is_set():
                for key, _ in selector.select(timeout=0.2):
                    source: socket.socket = key.fileobj  # type: ignore[assignment]
                    destination: socket.socket = key.data
                    try:
                        chunk = source.recv(65536)
                    except OSError:
                        return
                    if not chunk:
                        return
                    if source is server:
                        after_bytes, at_fetch = self._take_trap()
                        cut = None
                        if after_bytes is not None and sent_down + len(chunk) >= after_bytes:
                            cut = max(0, after_bytes - sent_down)
                        elif at_fetch is not None:
                            window = tail + chunk
                            for match in BODY_FETCH.finditer(window):
                                if match.end() <= len(tail):
                                    continue  # counted with the previous chunk
                                fetches += 1
                                if fetches == at_fetch:
                                    # the response line plus a few bytes of the body literal
                                    cut = max(0, match.end() - len(tail)) + 10
                                    cut = min(cut, len(chunk) - 1) if len(chunk) > 1 else 0
                                    break
                            tail = window[-200:]
                        if cut is not None:
                            destination.sendall(chunk[:cut])
                            self._fired()
                            return
                        sent_down += len(chunk)
                    destination.sendall(chunk)
        except OSError:
            return
        finally:
            selector.close()
            for sock in (client, server):
                try:
                    sock.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass
                sock.close()

    def stop(self) -> None:
        self._stopped.set()
        self._listener.close()
        with self._lock:
            sockets = list(self._sockets)
        for sock in sockets:
            try:
                sock.close()
            except OSError:
                pass
        for thread in self._threads:
            thread.join(timeout=5)
        self._accept_thread.join(timeout=5)


@pytest.fixture
def flaky_imap_proxy(dovecot: Dovecot) -> Iterator[FlakyProxy]:
    """A TCP proxy in front of the session's Dovecot; ``.arm(...)`` makes it drop a connection."""
    proxy = FlakyProxy(dovecot.host, dovecot.port)
    yield proxy
    proxy.stop()


# ------------------------------------------------------------------ a real SMTP server per test

@pytest.fixture
def smtp_port() -> int:
    """A free port for the test's SMTP server: a module's ``app_config`` sets SMTP_PORT to it."""
    return free_port()


@pytest.fixture
def smtp(smtp_port: int) -> Iterator[SMTPServer]:
    """A real SMTP server (aiosmtpd) on ``smtp_port`` that keeps what it receives."""
    server = SMTPServer(smtp_port).start()
    yield server
    server.stop()
