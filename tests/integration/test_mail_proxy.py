"""Scaling out behind nginx's mail proxy (docs/scaling.md), with the real nginx.

One emulator, two bridges with their own data dirs, each knowing the other as a cluster peer;
account A signed in on bridge 1, account B on bridge 2. nginx (mail module, rendered from
dist/nginx/mailtrixy-mail.conf.in, the file docs/scaling.md shows) sends every auth_http query
to bridge 1, which answers for A itself and asks bridge 2 for B. Then:
  - IMAP LOGIN through nginx as A reads A's mail (bridge 1), as B reads B's mail (bridge 2);
  - a wrong password is refused (IMAP and SMTP);
  - SMTP AUTH through nginx as B sends a message that reaches B's Sent records exactly once
    (nginx hands the session to bridge 2 with XCLIENT LOGIN=B);
  - XCLIENT from a client that is not a trusted proxy is refused, and not advertised;
  - the endpoint answers 403 without the key.

nginx's client side is plain IMAP/SMTP on loopback here: TLS towards clients is nginx's own
business (ssl_certificate in its server blocks) and changes nothing the bridges see. The bridges
trust 127.0.0.1 as the proxy; the test's "other client" connects from 127.0.0.2.

Skipped when nginx or its mail module is not installed (scripts/deps.sh installs both).
"""

import base64
import imaplib
import os
import re
import secrets
import shutil
import smtplib
import socket
import ssl
import subprocess
import textwrap
import time
import unittest
import urllib.error
import urllib.request

import harness
import signin_harness as S

NGINX = shutil.which("nginx") or "/usr/sbin/nginx"
MAIL_MODULE = os.environ.get("MAILTRIXY_NGINX_MAIL_MODULE", "/usr/lib/nginx/modules/ngx_mail_module.so")
TEMPLATE = os.path.join(harness.SOURCE_DIR, "dist", "nginx", "mailtrixy-mail.conf.in")
PASSWORD_RE = r'<code id="bridge-password"[^>]*>([^<]*)</code>'
USER_A, PASSWORD_A = S.USER, S.USER_PASSWORD
USER_B, PASSWORD_B = S.WORK_USER, S.WORK_PASSWORD


def wait_until(predicate, timeout, what):
    deadline = time.monotonic() + timeout
    last = None
    while time.monotonic() < deadline:
        try:
            last = predicate()
        except (OSError, imaplib.IMAP4.error, smtplib.SMTPException) as error:
            last = error
        if last and not isinstance(last, Exception):
            return last
        time.sleep(0.3)
    raise AssertionError(f"timed out after {timeout}s waiting for {what}; last: {last!r}")


def eml(to, subject):
    return (f"From: Carol <carol@example.com>\r\nTo: {to}\r\nSubject: {subject}\r\n"
            f"Date: Mon, 02 Mar 2026 10:00:00 +0000\r\nMessage-ID: <{subject.replace(' ', '.')}@example.com>\r\n"
            f"MIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\n\r\nhello\r\n")


def render_template(values):
    with open(TEMPLATE) as f:
        text = f.read()
    for name, value in values.items():
        text = text.replace(f"@{name}@", value)
    leftover = re.findall(r"^[^#]*(@[A-Z_]+@)", text, re.M)
    assert not leftover, f"unfilled placeholders in {TEMPLATE}: {leftover}"
    return text


class Cluster:
    """The emulator, two bridges and nginx, all in `home`."""

    def __init__(self, home):
        self.home = home
        self.bridges = []
        self.nginx = None
        self.emulator = None

    def start(self):
        home = self.home
        self.cert, self.key = home.file("certs", "cluster.crt"), home.file("certs", "cluster.key")
        os.makedirs(home.file("certs"))
        # One certificate for both bridges, valid for localhost and 127.0.0.1: it is the peers'
        # CA (cluster.peer_ca_file) and nginx's proxy_ssl_trusted_certificate.
        subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2",
                        "-keyout", self.key, "-out", self.cert, "-subj", "/CN=localhost",
                        "-addext", "subjectAltName=DNS:localhost,IP:127.0.0.1"],
                       check=True, capture_output=True)
        self.auth_key = secrets.token_hex(32)
        with open(home.file("auth_http_key"), "w") as f:
            f.write(self.auth_key + "\n")

        self.ports = [{name: S.free_port() for name in ("web", "imap", "smtp")} for _ in range(2)]
        seeds = {}
        for user, subject in ((USER_A, "alpha"), (USER_B, "bravo")):
            root = home.file("seed-" + subject)
            os.makedirs(root)
            for i in (1, 2):
                with open(os.path.join(root, f"{i:03}.eml"), "w") as f:
                    f.write(eml(user, f"{subject} message {i}"))
            seeds[user] = root
        redirects = [f"https://localhost:{p['web']}/email-oauth/microsoft/callback" for p in self.ports]
        os.makedirs(home.file("emulator"))
        self.emulator = harness.Emulator(
            home.file("emulator"), clients=[(S.CLIENT_ID, S.CLIENT_SECRET, redirects)],
            users=[(USER_A, PASSWORD_A), (USER_B, PASSWORD_B)],
            args=["--seed", f"{USER_A}={seeds[USER_A]}", "--seed", f"{USER_B}={seeds[USER_B]}"])

        for index in range(2):
            self.bridges.append(self.start_bridge(index))
        self.password_a = self.sign_in(0, USER_A, PASSWORD_A)
        self.password_b = self.sign_in(1, USER_B, PASSWORD_B)
        self.start_nginx()

    def bridge_config(self, index):
        ports = self.ports[index]
        peer = self.ports[1 - index]
        return textwrap.dedent(f"""\
            public_url: https://localhost:{ports['web']}
            data_dir: var
            web:
              listen: 127.0.0.1:{ports['web']}
            imap:
              listen: 127.0.0.1:{ports['imap']}
              tls_listen: ""
            smtp:
              listen: 127.0.0.1:{ports['smtp']}
              tls_listen: ""
            tls:
              cert: {self.cert}
              key: {self.key}
            microsoft:
              client_id: {S.CLIENT_ID}
              client_secret: "{S.CLIENT_SECRET}"
              login_url: {self.emulator.url}
              graph_url: {self.emulator.url}
              ca_file: {self.emulator.cert}
            sync:
              poll_interval: 2s
              idle_poll_interval: 1s
            cluster:
              auth_http_key_file: {self.home.file('auth_http_key')}
              peers: [https://127.0.0.1:{peer['web']}]
              peer_ca_file: {self.cert}
              trusted_proxies: [127.0.0.1]
            log:
              level: debug
            """)

    def start_bridge(self, index):
        directory = self.home.file(f"bridge{index + 1}")
        os.makedirs(directory)
        path = os.path.join(directory, "mailtrixy.yaml")
        with open(path, "w") as f:
            f.write(self.bridge_config(index))
        bridge = harness.Bridge(path)
        bridge.web_url()
        bridge.wait_for_log(r"smtp listening")
        return bridge

    def sign_in(self, index, user, password):
        public_url = f"https://localhost:{self.ports[index]['web']}"
        browser = S.Browser({public_url: self.cert, self.emulator.url: self.emulator.cert})
        start = browser.get(public_url + "/email-oauth/microsoft/start")
        assert start.status == 302, (start.status, start.text)
        authorize_url = start.location()
        assert browser.get(authorize_url).status == 200
        answer = browser.post(authorize_url, {"login": user, "password": password, "consent": "accept"})
        assert answer.status == 302, (answer.status, answer.text)
        page = browser.get(answer.location())
        assert page.status == 200, page.text
        return S.extract(PASSWORD_RE, page.text)

    def start_nginx(self):
        self.nginx_ports = {name: S.free_port() for name in ("imap", "smtp", "relay")}
        prefix = self.home.file("nginx")
        os.makedirs(prefix)
        mail = render_template({
            "AUTH_RELAY_LISTEN": f"127.0.0.1:{self.nginx_ports['relay']}",
            "AUTH_UPSTREAM_SERVERS": f"server 127.0.0.1:{self.ports[0]['web']};",
            "BRIDGE_CA_FILE": self.cert,
            "BRIDGE_TLS_NAME": "localhost",
            "AUTH_HTTP_KEY": self.auth_key,
            "SERVER_NAME": "mail.test",
            "IMAP_LISTEN": f"127.0.0.1:{self.nginx_ports['imap']}",
            "SMTP_LISTEN": f"127.0.0.1:{self.nginx_ports['smtp']}",
        })
        # Test-only additions: run unprivileged in the foreground with everything in the temp dir.
        temp_paths = "".join(f"    {kind}_temp_path {prefix}/{kind};\n"
                             for kind in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi"))
        mail = mail.replace("http {\n", "http {\n" + temp_paths, 1)
        conf = (f"load_module {MAIL_MODULE};\n"
                "daemon off;\nmaster_process off;\nworker_processes 1;\n"
                f"pid {prefix}/nginx.pid;\nerror_log {prefix}/error.log info;\n"
                "events { worker_connections 128; }\n" + mail)
        self.nginx_conf = os.path.join(prefix, "nginx.conf")
        with open(self.nginx_conf, "w") as f:
            f.write(conf)
        self.nginx_error_log = os.path.join(prefix, "error.log")
        self.nginx = subprocess.Popen([NGINX, "-p", prefix + "/", "-e", self.nginx_error_log, "-c", self.nginx_conf],
                                      stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)

        def listening():
            if self.nginx.poll() is not None:
                raise AssertionError(f"nginx exited: {self.nginx.stdout.read()}\n{self.nginx_log()}")
            with socket.create_connection(("127.0.0.1", self.nginx_ports["smtp"]), timeout=2):
                return True
        wait_until(listening, 20, "nginx to listen")

    def nginx_log(self):
        try:
            with open(self.nginx_error_log) as f:
                return f.read()[-6000:]
        except OSError:
            return ""

    def close(self):
        if self.nginx and self.nginx.poll() is None:
            self.nginx.terminate()
            try:
                self.nginx.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.nginx.kill()
                self.nginx.wait()
        if self.nginx:
            self.nginx.stdout.close()
        problems = []
        for bridge in self.bridges:
            if bridge.process.poll() is None:
                bridge.stop()
            bridge.kill()
            output = bridge.output()
            for marker in ("ERROR: AddressSanitizer", "ERROR: LeakSanitizer", "runtime error:"):
                if marker in output:
                    problems.append(f"a bridge reported '{marker}':\n{output[-6000:]}")
        if self.emulator:
            self.emulator.kill()
        if problems:
            raise AssertionError("\n".join(problems))


@unittest.skipUnless(os.path.exists(NGINX) and os.path.exists(MAIL_MODULE),
                     "nginx and libnginx-mod-mail are not installed (scripts/deps.sh)")
class MailProxyTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.home = harness.TempHome()
        cls.cluster = Cluster(cls.home)
        try:
            cls.cluster.start()
        except BaseException:
            cls.tearDownClass()
            raise

    @classmethod
    def tearDownClass(cls):
        try:
            cls.cluster.close()
        finally:
            cls.home.cleanup()

    def diagnostics(self):
        c = self.cluster
        return (f"\n--- nginx error log ---\n{c.nginx_log()}\n--- bridge 1 ---\n{c.bridges[0].output()[-4000:]}"
                f"\n--- bridge 2 ---\n{c.bridges[1].output()[-4000:]}")

    def imap_subjects(self, user, password):
        client = imaplib.IMAP4("127.0.0.1", self.cluster.nginx_ports["imap"], timeout=30)
        try:
            client.login(user, password)
            typ, data = client.select("INBOX", readonly=True)
            self.assertEqual(typ, "OK")
            typ, data = client.fetch("1:*", "(BODY.PEEK[HEADER.FIELDS (SUBJECT)])")
            self.assertEqual(typ, "OK")
            return sorted(part[1].decode().strip() for part in data if isinstance(part, tuple))
        finally:
            try:
                client.logout()
            except (OSError, imaplib.IMAP4.error):
                pass

    def test_imap_login_reaches_the_bridge_holding_the_account(self):
        c = self.cluster
        try:
            subjects_a = wait_until(lambda: self.imap_subjects(USER_A, c.password_a), 60, "A's mail through nginx")
            subjects_b = wait_until(lambda: self.imap_subjects(USER_B, c.password_b), 60, "B's mail through nginx")
        except AssertionError as error:
            raise AssertionError(str(error) + self.diagnostics()) from None
        self.assertEqual(subjects_a, ["Subject: alpha message 1", "Subject: alpha message 2"])
        self.assertEqual(subjects_b, ["Subject: bravo message 1", "Subject: bravo message 2"])
        # B's password was checked by bridge 2 (asked by bridge 1) and its session runs there.
        c.bridges[0].wait_for_log(r"mail proxy auth query answered.*outcome=peer_ok")
        c.bridges[1].wait_for_log(r"mail proxy auth query answered.*outcome=ok")

    def test_wrong_password_is_refused(self):
        c = self.cluster
        client = imaplib.IMAP4("127.0.0.1", c.nginx_ports["imap"], timeout=30)
        with self.assertRaises(imaplib.IMAP4.error) as refused:
            client.login(USER_B, "not-the-bridge-password")
        self.assertIn("Invalid login or password", str(refused.exception))
        client.shutdown()
        with smtplib.SMTP("127.0.0.1", c.nginx_ports["smtp"], timeout=30) as smtp:
            smtp.ehlo("client.test")
            with self.assertRaises(smtplib.SMTPAuthenticationError) as smtp_refused:
                smtp.login(USER_A, "not-the-bridge-password")
            self.assertEqual(smtp_refused.exception.smtp_code, 535)

    def sent_records(self, user):
        status, records = self.cluster.emulator.control("GET", f"/users/{user}/sent")
        self.assertEqual(status, 200)
        return [base64.b64decode(record["mime_base64"]) for record in records]

    def test_smtp_through_nginx_sends_as_the_account_on_the_other_bridge(self):
        c = self.cluster
        token = "proxy-" + secrets.token_hex(6)
        message = (f"From: {USER_B}\r\nTo: dave@example.com\r\nSubject: {token}\r\n"
                   f"Date: Mon, 02 Mar 2026 10:00:00 +0000\r\n\r\nsent through nginx\r\n")
        try:
            with smtplib.SMTP("127.0.0.1", c.nginx_ports["smtp"], timeout=30) as smtp:
                smtp.ehlo("client.test")
                smtp.login(USER_B, c.password_b)
                refused = smtp.sendmail(USER_B, ["dave@example.com"], message)
                self.assertEqual(refused, {})
        except smtplib.SMTPException as error:
            raise AssertionError(f"{error!r}{self.diagnostics()}") from None
        wait_until(lambda: any(token.encode() in mime for mime in self.sent_records(USER_B)), 60,
                   f"{token} in B's sent records")
        time.sleep(1)  # a duplicate would show up by now
        self.assertEqual(sum(token.encode() in mime for mime in self.sent_records(USER_B)), 1)
        self.assertFalse(any(token.encode() in mime for mime in self.sent_records(USER_A)))
        c.bridges[1].wait_for_log(r"smtp authenticated by a trusted proxy \(XCLIENT\)")

    def test_xclient_from_other_clients_is_refused(self):
        c = self.cluster
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.settimeout(30)
        sock.bind(("127.0.0.2", 0))  # not in trusted_proxies (127.0.0.1)
        sock.connect(("127.0.0.1", c.ports[1]["smtp"]))
        reader = sock.makefile("rb")
        try:
            self.assertTrue(reader.readline().startswith(b"220 "))
            sock.sendall(b"EHLO mallory.test\r\n")
            capabilities = []
            while True:
                line = reader.readline()
                capabilities.append(line)
                if line[3:4] == b" ":
                    break
            self.assertFalse(any(b"XCLIENT" in line for line in capabilities), capabilities)
            sock.sendall(f"XCLIENT ADDR=192.0.2.1 LOGIN={USER_B}\r\n".encode())
            self.assertTrue(reader.readline().startswith(b"550 5.7.0 "))
            sock.sendall(f"MAIL FROM:<{USER_B}>\r\n".encode())
            self.assertTrue(reader.readline().startswith(b"530 "))
        finally:
            reader.close()
            sock.close()

    def test_endpoint_needs_the_key(self):
        c = self.cluster
        context = ssl.create_default_context(cafile=c.cert)
        url = f"https://127.0.0.1:{c.ports[0]['web']}/mail-proxy/auth"
        headers = {"Auth-Method": "plain", "Auth-User": USER_A, "Auth-Pass": c.password_a,
                   "Auth-Protocol": "imap", "Auth-Login-Attempt": "1", "Client-IP": "127.0.0.1"}

        def get(extra):
            request = urllib.request.Request(url, headers={**headers, **extra})
            try:
                with urllib.request.urlopen(request, context=context, timeout=30) as response:
                    return response.status, response.headers
            except urllib.error.HTTPError as error:
                return error.code, error.headers

        status, _ = get({})
        self.assertEqual(status, 403)
        status, _ = get({"X-Mailtrixy-Auth-Key": "0" * 64})
        self.assertEqual(status, 403)
        status, answer = get({"X-Mailtrixy-Auth-Key": c.auth_key})
        self.assertEqual(status, 200)
        self.assertEqual(answer["Auth-Status"], "OK")
        self.assertEqual(answer["Auth-Server"], "127.0.0.1")
        self.assertEqual(answer["Auth-Port"], str(c.ports[0]["imap"]))
        # Neither the bridge passwords nor the key reach a log line.
        for bridge in c.bridges:
            output = bridge.output()
            for secret in (c.password_a, c.password_b, c.auth_key):
                self.assertNotIn(secret, output)


if __name__ == "__main__":
    unittest.main()
