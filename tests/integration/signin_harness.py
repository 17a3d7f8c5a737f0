"""The sign-in set-up shared by the sign-in tests: the emulator as Microsoft, the bridge pointed at it
over real TLS, and a browser-like client (cookie jar, redirects inspected, never followed blindly).

The bridge's public_url must equal the redirect URI registered in the emulator, and the port is part
of it, so a free loopback port is picked first (bind port 0, read it, close) and both are configured
with it. The tiny window in which another process could take the port is acceptable for tests.
"""

import http.cookiejar
import os
import re
import socket
import ssl
import subprocess
import textwrap
import urllib.error
import urllib.parse
import urllib.request

from harness import BIN, Bridge, Emulator, TempHome, run_cli

CLIENT_ID = "3f2b8c1e-7d38-4a65-9f0e-0a3d2b8c1e77"
# Shaped like a real Azure secret Value (not a GUID) and unique enough to search for in files.
CLIENT_SECRET = "Zq58Q~sIgNiNsEcReT.vAlUe-9876543210fedcbaQW"
ADMIN_PASSWORD = "admin-password-for-tests"
USER = "alice.smith@outlook.com"
USER_PASSWORD = "alice-password"
WORK_USER = "bob@contoso.onmicrosoft.com"
WORK_PASSWORD = "bob-password"


_ports_handed_out = set()


def free_port():
    """A loopback port nothing listens on now, never one this process handed out before: the
    kernel may give a just-closed port again, and two listeners of one config on the same port
    make the bridge refuse to start."""
    while True:
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
            s.bind(("127.0.0.1", 0))
            port = s.getsockname()[1]
        if port not in _ports_handed_out:
            _ports_handed_out.add(port)
            return port


class NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, req, fp, code, msg, headers, newurl):
        return None


class Response:
    def __init__(self, status, headers, body, url):
        self.status = status
        self.headers = headers
        self.body = body
        self.url = url

    @property
    def text(self):
        return self.body.decode("utf-8", "replace")

    def location(self):
        return self.headers.get("Location")


class Browser:
    """A cookie-keeping HTTPS client that trusts the bridge's and the emulator's certificates and
    returns redirects instead of following them.

    `trust` maps a URL prefix to the certificate that site uses. Each site gets its own TLS context:
    both certificates are self-signed with the same subject name, and one store holding both would
    let OpenSSL pick the wrong one as issuer."""

    def __init__(self, trust):
        self.jar = http.cookiejar.CookieJar()
        self.openers = []
        for prefix, cafile in trust.items():
            context = ssl.create_default_context(cafile=cafile)
            opener = urllib.request.build_opener(
                urllib.request.HTTPCookieProcessor(self.jar),
                urllib.request.HTTPSHandler(context=context),
                NoRedirect())
            self.openers.append((prefix, opener))

    def _opener(self, url):
        for prefix, opener in self.openers:
            if url.startswith(prefix):
                return opener
        raise AssertionError(f"no certificate is trusted for {url}")

    def request(self, method, url, form=None, headers=None):
        data = None
        all_headers = dict(headers or {})
        if form is not None:
            data = urllib.parse.urlencode(form).encode()
            all_headers.setdefault("Content-Type", "application/x-www-form-urlencoded")
        req = urllib.request.Request(url, data=data, method=method, headers=all_headers)
        try:
            with self._opener(url).open(req, timeout=60) as response:
                return Response(response.status, response.headers, response.read(), url)
        except urllib.error.HTTPError as error:
            return Response(error.code, error.headers, error.read(), url)

    def get(self, url, headers=None):
        return self.request("GET", url, headers=headers)

    def post(self, url, form, headers=None):
        return self.request("POST", url, form=form, headers=headers)

    def cookies(self):
        return {cookie.name: cookie for cookie in self.jar}


def extract(pattern, text):
    match = re.search(pattern, text, re.S)
    if not match:
        raise AssertionError(f"{pattern!r} not found in:\n{text[:4000]}")
    return match.group(1)


def csrf_token(page_text):
    return extract(r'name="csrf_token" value="([^"]+)"', page_text)


def hash_password(password):
    result = run_cli("hash-password", stdin=password + "\n")
    if result.returncode != 0:
        raise AssertionError(result.stderr)
    return result.stdout.strip()


class SignInWorld:
    """One emulator and one bridge configured for each other, in `home`.

    `registered_redirect` overrides the redirect URI registered in the emulator (to test a
    mismatch); `secret` is what the bridge is configured with; `emulator_args` go to the emulator
    (e.g. --access-token-lifetime 5).
    """

    def __init__(self, home, secret=CLIENT_SECRET, registered_redirect=None, emulator_args=(),
                 admin=True, bridge_env=None):
        self.home = home
        self.port = free_port()
        # Shown on the success page; the IMAP/SMTP servers are not in this build, but start-up
        # checks that these ports are free, so pick free ones.
        self.imap_port, self.imap_tls_port, self.smtp_port = free_port(), free_port(), free_port()
        self.public_url = f"https://localhost:{self.port}"
        self.redirect_uri = self.public_url + "/email-oauth/microsoft/callback"
        os.makedirs(home.file("emulator"), exist_ok=True)
        self.emulator = Emulator(
            home.file("emulator"),
            clients=[(CLIENT_ID, CLIENT_SECRET, [registered_redirect or self.redirect_uri])],
            users=[(USER, USER_PASSWORD), (WORK_USER, WORK_PASSWORD)],
            args=list(emulator_args))
        self.secret = secret
        self.admin_hash = hash_password(ADMIN_PASSWORD) if admin else ""
        self.bridge_env = bridge_env or {}
        self.config_path = self.write_config()
        self.bridge = None

    def write_config(self):
        text = textwrap.dedent(f"""\
            public_url: {self.public_url}
            data_dir: var
            web:
              listen: 127.0.0.1:{self.port}
            imap:
              listen: 127.0.0.1:{self.imap_port}
              tls_listen: 127.0.0.1:{self.imap_tls_port}
            smtp:
              listen: 127.0.0.1:{self.smtp_port}
              tls_listen: ""
            tls:
              cert: certs/server.crt
              key: certs/server.key
            microsoft:
              client_id: {CLIENT_ID}
              client_secret: "{self.secret}"
              login_url: {self.emulator.url}
              graph_url: {self.emulator.url}
              ca_file: {self.emulator.cert}
            admin:
              username: admin
              password_hash: "{self.admin_hash}"
            log:
              level: debug
            """)
        path = self.home.file("mailtrixy.yaml")
        with open(path, "w") as f:
            f.write(text)
        return path

    def start_bridge(self):
        self.bridge = Bridge(self.config_path, env=self.bridge_env)
        url = self.bridge.web_url()
        assert url.endswith(f":{self.port}"), url
        return self.bridge

    def stop_bridge(self):
        code = self.bridge.stop()
        return code

    def browser(self):
        return Browser({self.public_url: self.home.file("certs", "server.crt"),
                        self.emulator.url: self.emulator.cert})

    def data_dir(self):
        return self.home.file("var")

    def cli(self, *args, stdin=None):
        return run_cli(*args, "--config", self.config_path, stdin=stdin)

    # ---- the user's journey -------------------------------------------------------------------

    def begin(self, browser, path="/email-oauth/microsoft/start"):
        """Opens the accounts page and follows the tile to Microsoft's sign-in form."""
        page = browser.get(self.public_url + "/settings/email-accounts")
        assert page.status == 200, page.text
        start = browser.get(self.public_url + path)
        assert start.status == 302, (start.status, start.text)
        authorize_url = start.location()
        assert authorize_url.startswith(self.emulator.url), authorize_url
        return authorize_url

    def consent(self, browser, authorize_url, login=USER, password=USER_PASSWORD, consent="accept"):
        """Fills Microsoft's form; returns the emulator's answer (302 to the callback when accepted)."""
        form_page = browser.get(authorize_url)
        assert form_page.status == 200, form_page.text
        return browser.post(authorize_url, {"login": login, "password": password, "consent": consent})

    def sign_in(self, browser, login=USER, password=USER_PASSWORD):
        """The whole flow; returns the callback page (Response) and the callback URL."""
        authorize_url = self.begin(browser)
        answer = self.consent(browser, authorize_url, login, password)
        assert answer.status == 302, (answer.status, answer.text)
        callback_url = answer.location()
        assert callback_url.startswith(self.redirect_uri + "?"), callback_url
        return browser.get(callback_url), callback_url

    def close(self):
        """Stops both; a sanitizer report in the bridge's output fails the test that used it."""
        try:
            if self.bridge and self.bridge.process.poll() is None:
                self.bridge.stop()
        finally:
            if self.bridge:
                self.bridge.kill()
            self.emulator.kill()
        if self.bridge:
            output = self.bridge.output()
            for marker in ("ERROR: AddressSanitizer", "ERROR: LeakSanitizer", "runtime error:"):
                if marker in output:
                    raise AssertionError(f"the bridge reported '{marker}':\n{output[-6000:]}")
