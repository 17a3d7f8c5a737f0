"""Shared helpers for black-box tests of the real binaries.

Every test gets its own temp directory holding the config, the data dir and the certificates,
and listens on port 0, so tests run in parallel and leave nothing behind.
"""

import os
import re
import shutil
import signal
import subprocess
import tempfile
import textwrap
import threading
import time
import unittest

BIN = os.environ.get("MAILTRIXY_BIN", os.path.join(os.path.dirname(__file__), "../../build/mailtrixy"))
SOURCE_DIR = os.environ.get("MAILTRIXY_SOURCE_DIR", os.path.join(os.path.dirname(__file__), "../.."))

# A config that can start anywhere: the web listener (and, when asked, the four mail listeners)
# on ephemeral ports, nothing shared.
BASE_CONFIG = """\
public_url: https://localhost:8443
data_dir: var
web:
  listen: 127.0.0.1:0
imap:
  listen: {mail_listen}
  tls_listen: {mail_listen}
smtp:
  listen: {mail_listen}
  tls_listen: {mail_listen}
tls:
  cert: certs/server.crt
  key: certs/server.key
microsoft:
  client_id: 6731de76-14a6-49ae-97bc-6eba6914391e
  client_secret: {secret}
log:
  level: debug
  format: {log_format}
"""

# Shaped like a real Azure secret Value (not a GUID), and unique enough to grep for in files.
TEST_SECRET = "Qx48Q~tEsTsEcReT.vAlUe-0123456789abcdefXY"


class TempHome:
    def __init__(self):
        self.path = tempfile.mkdtemp(prefix="mailtrixy-test-")

    def file(self, *parts):
        return os.path.join(self.path, *parts)

    def write_config(self, text=None, log_format="text", secret=TEST_SECRET, mail_listeners=False):
        if text is None:
            text = BASE_CONFIG.format(secret=secret, log_format=log_format,
                                      mail_listen="127.0.0.1:0" if mail_listeners else '""')
        path = self.file("mailtrixy.yaml")
        with open(path, "w") as f:
            f.write(textwrap.dedent(text))
        return path

    def cleanup(self):
        shutil.rmtree(self.path, ignore_errors=True)


def run_cli(*args, stdin=None, env=None, timeout=60):
    full_env = dict(os.environ)
    full_env.update(env or {})
    return subprocess.run([BIN, *args], input=stdin, capture_output=True, text=True,
                          env=full_env, timeout=timeout)


class Bridge:
    """A running `mailtrixy serve`; its log lines are collected as they come."""

    def __init__(self, config_path, env=None):
        full_env = dict(os.environ)
        full_env.update(env or {})
        self.process = subprocess.Popen([BIN, "serve", "--config", config_path],
                                        stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                                        text=True, env=full_env)
        self.lines = []
        self._ready = threading.Event()
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self):
        for line in self.process.stdout:
            self.lines.append(line)
        self._ready.set()

    def wait_for_log(self, pattern, timeout=30):
        regex = re.compile(pattern)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            for line in list(self.lines):
                match = regex.search(line)
                if match:
                    return match
            if self.process.poll() is not None and self._ready.is_set():
                break
            time.sleep(0.05)
        raise AssertionError(f"no log line matching {pattern!r}; output:\n{self.output()}")

    def web_url(self):
        return self.wait_for_log(r"web listening\W.*?(https?://[0-9.]+:\d+)").group(1)

    def output(self):
        return "".join(self.lines)

    def stop(self, sig=signal.SIGTERM, timeout=10):
        if self.process.poll() is None:
            self.process.send_signal(sig)
        code = self.process.wait(timeout=timeout)
        self._reader.join(timeout=5)
        self.process.stdout.close()
        return code

    def kill(self):
        if self.process.poll() is None:
            self.process.kill()
            self.process.wait()
        self._reader.join(timeout=5)
        if not self.process.stdout.closed:
            self.process.stdout.close()


def curl(url, *args, cacert=None, timeout=20):
    command = ["curl", "--silent", "--show-error", "--max-time", "10"]
    if cacert:
        command += ["--cacert", cacert]
    command += [*args, url]
    return subprocess.run(command, capture_output=True, text=True, timeout=timeout)


class TestCase(unittest.TestCase):
    def setUp(self):
        self.home = TempHome()
        self.addCleanup(self.home.cleanup)

    def start_bridge(self, config_path=None, env=None):
        bridge = Bridge(config_path or self.home.write_config(), env=env)
        self.addCleanup(bridge.kill)
        return bridge


class SharedWorldTestCase(unittest.TestCase):
    """Tests that share one world (emulator, bridge, clients: anything with close()) per class,
    because starting it costs seconds. Subclasses say how to build it (no processes yet) and how
    to start it; a failed start closes what it began and removes the temp home."""

    @classmethod
    def make_world(cls, home):
        raise NotImplementedError(cls.__name__ + " must say which world it shares")

    @classmethod
    def start_world(cls, world):
        world.start()

    @classmethod
    def setUpClass(cls):
        cls.home = TempHome()
        try:
            cls.world = cls.make_world(cls.home)
        except BaseException:
            cls.home.cleanup()
            raise
        try:
            cls.start_world(cls.world)
        except BaseException:
            cls.world.close()
            cls.home.cleanup()
            raise

    @classmethod
    def tearDownClass(cls):
        try:
            cls.world.close()
        finally:
            cls.home.cleanup()


# ---- the emulator ---------------------------------------------------------------------------

EMULATOR_BIN = os.environ.get("MAILTRIXY_EMULATOR_BIN",
                              os.path.join(os.path.dirname(__file__), "../../build/mailtrixy-emulator"))


class Emulator:
    """A running `mailtrixy-emulator` on a free loopback port.

    It creates its own self-signed certificate in `directory` (the emulator does that when the
    --cert/--key files are missing); `ssl_context()` trusts exactly that certificate. `clients` are
    (client_id, secret, [redirect_uri, ...]) tuples, `users` (address, password) pairs, `args` any
    further options. stdout's ready line gives the URL; stderr is collected for failure messages.
    """

    def __init__(self, directory, clients=(), users=(), args=(), timeout=30):
        import ssl  # local: only emulator users need it
        self.cert = os.path.join(directory, "emulator.crt")
        self.key = os.path.join(directory, "emulator.key")
        command = [EMULATOR_BIN, "--listen", "127.0.0.1:0", "--cert", self.cert, "--key", self.key]
        for client_id, secret, redirect_uris in clients:
            command += ["--client", f"{client_id}:{secret}"]
            for uri in redirect_uris:
                command += ["--redirect-uri", uri]
        for address, password in users:
            command += ["--user", f"{address}:{password}"]
        command += list(args)
        self.process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        self.stderr_lines = []
        self._stderr_reader = threading.Thread(target=self._read_stderr, daemon=True)
        self._stderr_reader.start()
        self.url = None
        ready = threading.Event()

        def read_ready_line():
            line = self.process.stdout.readline()
            match = re.fullmatch(r"mailtrixy-emulator listening on (https://[^\s]+)\n", line)
            if match:
                self.url = match.group(1)
            ready.set()
            for _ in self.process.stdout:  # keep draining so the emulator never blocks on stdout
                pass

        self._stdout_reader = threading.Thread(target=read_ready_line, daemon=True)
        self._stdout_reader.start()
        if not ready.wait(timeout) or self.url is None:
            self.kill()
            raise AssertionError(f"the emulator did not print its ready line; stderr:\n{self.stderr()}")
        self._ssl = ssl.create_default_context(cafile=self.cert)

    def _read_stderr(self):
        for line in self.process.stderr:
            self.stderr_lines.append(line)

    def stderr(self):
        return "".join(self.stderr_lines)

    def ssl_context(self):
        return self._ssl

    def host_port(self):
        host, port = self.url[len("https://"):].rsplit(":", 1)
        return host, int(port)

    def request(self, method, path, body=None, headers=None, timeout=30):
        """One request on a fresh connection: (status, message headers, body bytes)."""
        import http.client
        host, port = self.host_port()
        connection = http.client.HTTPSConnection(host, port, context=self._ssl, timeout=timeout)
        try:
            if isinstance(body, str):
                body = body.encode()
            connection.request(method, path, body=body, headers=headers or {})
            response = connection.getresponse()
            return response.status, response.msg, response.read()
        finally:
            connection.close()

    def control(self, method, path, body=None):
        """A /_emulator/ call; returns (status, parsed JSON)."""
        import json
        headers = {}
        if isinstance(body, (dict, list)):
            body = json.dumps(body)
            headers["Content-Type"] = "application/json"
        status, _, data = self.request(method, "/_emulator" + path, body=body, headers=headers)
        return status, json.loads(data) if data else None

    def stop(self, sig=signal.SIGTERM, timeout=10):
        if self.process.poll() is None:
            self.process.send_signal(sig)
        code = self.process.wait(timeout=timeout)
        self._close_pipes()
        return code

    def kill(self):
        if self.process.poll() is None:
            self.process.kill()
            self.process.wait()
        self._close_pipes()

    def _close_pipes(self):
        for reader in (self._stdout_reader, self._stderr_reader):
            reader.join(timeout=5)
        for pipe in (self.process.stdout, self.process.stderr):
            if pipe and not pipe.closed:
                pipe.close()
