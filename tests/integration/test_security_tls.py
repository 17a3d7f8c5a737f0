"""TLS policy of every listener (docs/security.md, "Network attackers"): TLS 1.0 and 1.1 are
refused, 1.2 and 1.3 work, and under 1.2 only forward-secret AEAD suites are accepted.

Driven with `openssl s_client`. The client is told `@SECLEVEL=0` so it is willing to offer old
protocols and weak suites: a refusal then comes from the bridge (it answers with a TLS alert),
not from Debian's client-side defaults.
"""

import re
import subprocess
import unittest

import harness

# Suites a TLS 1.2 server must never pick: CBC with SHA-1 or SHA-256 MACs (no AEAD, Lucky13-style
# padding oracles), no forward secrecy, anonymous key exchange (no authentication), NULL
# encryption, 3DES (Sweet32), RC4, export grade. The bridge's certificate is ECDSA, so the
# ECDSA variants are the ones that could otherwise be negotiated.
WEAK_TLS12_SUITES = [
    "ECDHE-ECDSA-AES128-SHA", "ECDHE-ECDSA-AES256-SHA",          # CBC-SHA1
    "ECDHE-ECDSA-AES128-SHA256", "ECDHE-ECDSA-AES256-SHA384",    # CBC, no AEAD
    "ECDHE-ECDSA-NULL-SHA", "NULL-SHA", "NULL-SHA256",            # no encryption
    "AECDH-AES128-SHA", "AECDH-NULL-SHA", "ADH-AES128-SHA", "ADH-AES256-GCM-SHA384",  # anonymous
    "AES128-GCM-SHA256", "AES128-SHA",                            # no forward secrecy
    "ECDHE-ECDSA-DES-CBC3-SHA", "DES-CBC3-SHA",                   # 3DES
    "ECDHE-ECDSA-RC4-SHA", "RC4-SHA", "RC4-MD5",                   # RC4
    "EXP-RC4-MD5", "EXP-DES-CBC-SHA",                             # export
]


def client_can_offer(suite):
    """True when this machine's OpenSSL knows the suite (Debian's 3.x has no RC4/3DES/export
    at all, so nothing on this host, the bridge included, can negotiate those)."""
    result = subprocess.run(["openssl", "ciphers", suite + "@SECLEVEL=0"], capture_output=True, text=True)
    return result.returncode == 0


def handshake(port, *options, starttls=None):
    """Runs one handshake; returns (negotiated protocol or None, cipher or None, output)."""
    command = ["openssl", "s_client", "-connect", f"127.0.0.1:{port}", "-servername", "localhost", *options]
    if starttls:
        command += ["-starttls", starttls]
    result = subprocess.run(command, stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=30)
    output = result.stdout + result.stderr
    match = re.search(r"New, (TLSv[\d.]+), Cipher is (\S+)", output)
    if not match:
        return None, None, output
    return match.group(1), match.group(2), output


class TlsPolicyTest(harness.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.home = harness.TempHome()
        bridge = harness.Bridge(cls.home.write_config(mail_listeners=True))
        cls.bridge = bridge
        web = int(bridge.web_url().rsplit(":", 1)[1])
        imap = int(bridge.wait_for_log(r"imap listening\W.*?address=127\.0\.0\.1:(\d+)").group(1))
        imaps = int(bridge.wait_for_log(r"imaps listening\W.*?address=127\.0\.0\.1:(\d+)").group(1))
        smtp = int(bridge.wait_for_log(r"smtp listening\W.*?address=127\.0\.0\.1:(\d+) tls=starttls").group(1))
        smtps = int(bridge.wait_for_log(r"smtp listening\W.*?address=127\.0\.0\.1:(\d+) tls=implicit").group(1))
        # (name, port, s_client -starttls protocol)
        cls.listeners = [("web", web, None), ("imaps", imaps, None), ("imap STARTTLS", imap, "imap"),
                         ("smtps", smtps, None), ("smtp STARTTLS", smtp, "smtp")]

    @classmethod
    def tearDownClass(cls):
        cls.bridge.stop()
        cls.home.cleanup()

    def setUp(self):
        pass  # the bridge is shared by the class

    def test_tls_1_0_and_1_1_are_refused_by_the_server(self):
        for name, port, starttls in self.listeners:
            for version in ("-tls1", "-tls1_1"):
                with self.subTest(listener=name, version=version):
                    protocol, cipher, output = handshake(port, version, "-cipher", "DEFAULT@SECLEVEL=0",
                                                         starttls=starttls)
                    self.assertIsNone(protocol, f"{name} accepted {version}: {cipher}\n{output}")
                    # The bridge's own alert, not a client-side refusal.
                    self.assertRegex(output, r"alert protocol version|unsupported protocol", output)

    def test_tls_1_2_and_1_3_work(self):
        for name, port, starttls in self.listeners:
            with self.subTest(listener=name, version="1.2"):
                protocol, cipher, output = handshake(port, "-tls1_2", starttls=starttls)
                self.assertEqual(protocol, "TLSv1.2", output)
                self.assertRegex(cipher, r"^ECDHE-(ECDSA|RSA)-(AES\d+-GCM-SHA\d+|CHACHA20-POLY1305)$")
            with self.subTest(listener=name, version="1.3"):
                protocol, cipher, output = handshake(port, "-tls1_3", starttls=starttls)
                self.assertEqual(protocol, "TLSv1.3", output)
                self.assertTrue(cipher.startswith("TLS_"), cipher)

    def test_no_weak_suite_is_accepted_under_tls_1_2(self):
        offerable = [suite for suite in WEAK_TLS12_SUITES if client_can_offer(suite)]
        # The test means something only if the client can offer the CBC, anonymous and NULL ones.
        for needed in ("ECDHE-ECDSA-AES128-SHA", "AECDH-AES128-SHA", "ECDHE-ECDSA-NULL-SHA"):
            self.assertIn(needed, offerable, "this OpenSSL cannot offer a suite the test relies on")
        for name, port, starttls in self.listeners:
            for suite in offerable:
                with self.subTest(listener=name, suite=suite):
                    protocol, cipher, output = handshake(port, "-tls1_2", "-cipher", suite + "@SECLEVEL=0",
                                                         starttls=starttls)
                    self.assertIsNone(protocol, f"{name} accepted {suite} ({cipher})")
                    self.assertRegex(output, r"handshake failure|no shared cipher|alert", output)
            # Offering every weak suite at once plus one good one: the server picks the good one.
            with self.subTest(listener=name, suite="mixed"):
                mixed = ":".join(offerable + ["ECDHE-ECDSA-AES128-GCM-SHA256"]) + "@SECLEVEL=0"
                protocol, cipher, output = handshake(port, "-tls1_2", "-cipher", mixed, starttls=starttls)
                self.assertEqual((protocol, cipher), ("TLSv1.2", "ECDHE-ECDSA-AES128-GCM-SHA256"), output)


if __name__ == "__main__":
    unittest.main()
