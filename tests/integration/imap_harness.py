"""The IMAP tests' world: the emulator as Microsoft (seeded), `mailtrixy serve` with both IMAP
listeners on port 0 and a short IDLE poll, an account signed in, and helpers to talk to the bridge
over IMAP (imaplib with real TLS) and to read the emulator's side of the mailbox through Graph with
the bridge's own access token.
"""

import email
import imaplib
import json
import os
import re
import socket
import ssl
import time
import urllib.parse

import signin_harness as S

PASSWORD_RE = r'<code id="bridge-password"[^>]*>([^<]*)</code>'
IDLE_POLL = "1s"
POLL = "2s"


def message(subject, body="hello\r\n", sender="Carol <carol@example.com>", extra_headers=""):
    return (f"From: {sender}\r\nTo: {S.USER}\r\nSubject: {subject}\r\n"
            f"Date: Mon, 02 Mar 2026 10:00:00 +0000\r\n"
            f"Message-ID: <{subject.replace(' ', '.')}@example.com>\r\n{extra_headers}"
            f"MIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n{body}")


def wait_until(predicate, timeout, what):
    deadline = time.monotonic() + timeout
    last = None
    while time.monotonic() < deadline:
        last = predicate()
        if last:
            return last
        time.sleep(0.2)
    raise AssertionError(f"timed out after {timeout}s waiting for {what}; last: {last!r}")


class ImapWorld(S.SignInWorld):
    """SignInWorld with IMAP on ephemeral ports and quick sync polling."""

    def __init__(self, home, poll=POLL, **kwargs):
        self.poll = poll  # sync.poll_interval: folders nobody watches (read by write_config)
        super().__init__(home, **kwargs)

    def write_config(self):
        path = super().write_config()
        with open(path) as f:
            text = f.read()
        text = re.sub(r"imap:\n  listen: [^\n]*\n  tls_listen: [^\n]*\n",
                      "imap:\n  listen: 127.0.0.1:0\n  tls_listen: 127.0.0.1:0\n", text)
        text += f"sync:\n  poll_interval: {self.poll}\n  idle_poll_interval: {IDLE_POLL}\n"
        with open(path, "w") as f:
            f.write(text)
        return path

    # ---- start-up --------------------------------------------------------------------------

    def start(self):
        """Starts the bridge, signs the account in; returns the bridge password."""
        self.start_bridge()
        page, _ = self.sign_in(self.browser())
        assert page.status == 200, page.text
        self.password = S.extract(PASSWORD_RE, page.text)
        self.imap_port = int(self.bridge.wait_for_log(r"imap listening\W.*?address=127\.0\.0\.1:(\d+)").group(1))
        self.imaps_port = int(self.bridge.wait_for_log(r"imaps listening\W.*?address=127\.0\.0\.1:(\d+)").group(1))
        return self.password

    def cert(self):
        return self.home.file("certs", "server.crt")

    def ssl_context(self):
        return ssl.create_default_context(cafile=self.cert())

    # ---- IMAP ------------------------------------------------------------------------------

    def imaps(self, login=True):
        client = imaplib.IMAP4_SSL("127.0.0.1", self.imaps_port, ssl_context=self.ssl_context(), timeout=30)
        if login:
            client.login(S.USER, self.password)
        return client

    def imap_starttls(self, login=True):
        client = imaplib.IMAP4("127.0.0.1", self.imap_port, timeout=30)
        client.starttls(ssl_context=self.ssl_context())
        if login:
            client.login(S.USER, self.password)
        return client

    def wait_for_messages(self, folder, count, timeout=30):
        """Waits until the bridge shows `count` messages in `folder` (the initial sync)."""
        def check():
            client = self.imaps()
            try:
                typ, data = client.select(f'"{folder}"', readonly=True)
                return typ == "OK" and int(data[0]) == count
            finally:
                client.logout()
        return wait_until(check, timeout, f"{count} messages in {folder}")

    # ---- the Microsoft side (emulator) -----------------------------------------------------

    def graph_token(self):
        status, body = self.emulator.control("GET", "/tokens")
        assert status == 200, body
        tokens = body if isinstance(body, dict) else json.loads(body)
        live = [t for t in tokens["access_tokens"] if t["user"].lower() == S.USER and not t["expired"]]
        assert live, tokens
        return live[-1]["token"]

    def graph(self, method, path, body=None):
        headers = {"Authorization": f"Bearer {self.graph_token()}"}
        if isinstance(body, (dict, list)):
            headers["Content-Type"] = "application/json"
            body = json.dumps(body)
        status, _, data = self.emulator.request(method, "/v1.0" + path, body, headers)
        assert 200 <= status < 300, (status, data[:2000])
        return json.loads(data) if data else None

    def graph_messages(self, folder):
        """{subject: message} of a folder (well-known alias or display name) on the Microsoft side."""
        folder_id = self.folder_id(folder)
        query = urllib.parse.quote("id,subject,isRead,isDraft,flag,parentFolderId,internetMessageId", safe=",")
        page = self.graph("GET", f"/me/mailFolders/{folder_id}/messages?$top=1000&$select={query}")
        return {m["subject"]: m for m in page["value"]}

    def graph_mime(self, message_id):
        headers = {"Authorization": f"Bearer {self.graph_token()}"}
        status, _, data = self.emulator.request("GET", f"/v1.0/me/messages/{message_id}/$value", None, headers)
        assert status == 200, status
        return data

    def folder_id(self, folder):
        if folder.lower() in ("inbox", "drafts", "sentitems", "deleteditems", "junkemail", "archive"):
            return folder
        top = self.graph("GET", "/me/mailFolders?$top=100&includeHiddenFolders=false")["value"]
        for item in top:
            if item["displayName"] == folder:
                return item["id"]
        raise AssertionError(f"no folder {folder!r} on the Microsoft side: {[i['displayName'] for i in top]}")

    def deliver(self, mime):
        status, body = self.emulator.control("POST", f"/users/{S.USER}/deliver", mime)
        assert status == 200, body


def seed(home, inbox=3, projects=1):
    """A seed directory: `inbox` messages in the Inbox, `projects` in a folder Projects."""
    root = home.file("seed")
    os.makedirs(os.path.join(root, "Projects"), exist_ok=True)
    for i in range(1, inbox + 1):
        with open(os.path.join(root, f"{i:03}.eml"), "w") as f:
            f.write(message(f"inbox {i}", body=f"Body of message {i}.\r\n"))
    for i in range(1, projects + 1):
        with open(os.path.join(root, "Projects", f"p{i}.eml"), "w") as f:
            f.write(message(f"project {i}"))
    return root


def start_world(test, inbox=3, projects=1, emulator_args=(), poll=POLL):
    """A signed-in world whose initial sync has finished; cleaned up with the test."""
    root = seed(test.home, inbox, projects)
    world = ImapWorld(test.home, poll=poll, emulator_args=["--seed", f"{S.USER}={root}", *emulator_args])
    test.addCleanup(world.close)
    world.start()
    world.wait_for_messages("INBOX", inbox)
    return world


def parse_fetch_subjects(data):
    """Subjects out of an imaplib FETCH answer that asked for BODY.PEEK[HEADER.FIELDS (SUBJECT)]."""
    subjects = []
    for item in data:
        if isinstance(item, tuple):
            subjects.append(email.message_from_bytes(item[1])["Subject"])
    return subjects


class RawImap:
    """A line-level IMAP client for what imaplib hides (IDLE, unsolicited responses, BYE)."""

    def __init__(self, port, context, timeout=30):
        raw = socket.create_connection(("127.0.0.1", port), timeout=timeout)
        self.sock = context.wrap_socket(raw, server_hostname="localhost")
        self.file = self.sock.makefile("rb")
        self.greeting = self.line()

    def send(self, text):
        self.sock.sendall(text.encode() + b"\r\n")

    def line(self):
        return self.file.readline().decode("utf-8", "replace")

    def until(self, pattern, timeout=30):
        """Reads lines until one matches; returns (match, lines read)."""
        regex = re.compile(pattern)
        self.sock.settimeout(timeout)
        lines = []
        while True:
            line = self.line()
            if not line:
                raise AssertionError(f"connection closed before {pattern!r}; got {lines!r}")
            lines.append(line)
            match = regex.search(line)
            if match:
                return match, lines

    def command(self, tag, text):
        self.send(f"{tag} {text}")
        match, lines = self.until(rf"^{re.escape(tag)} (OK|NO|BAD)")
        return match.group(1), lines

    def close(self):
        try:
            self.sock.close()
        except OSError:
            pass
