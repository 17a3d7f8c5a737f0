"""`mailtrixy serve` as a user runs it: TLS health endpoint, clean shutdown, files at rest."""

import json
import os
import signal
import stat
import time

from harness import TEST_SECRET, TestCase, curl, run_cli


class ServeTest(TestCase):
    def test_healthz_over_tls_with_generated_certificate(self):
        bridge = self.start_bridge()
        url = bridge.web_url()
        cert = self.home.file("certs", "server.crt")
        # Verified TLS: the generated certificate is its own trust anchor, for both names.
        result = curl(url + "/healthz", "--include", cacert=cert)
        self.assertEqual(result.returncode, 0, result.stderr)
        head, _, body = result.stdout.partition("\n\n")  # text mode folds CRLF
        self.assertIn("HTTP/1.1 200", head)
        self.assertRegex(head.lower(), r"content-type: application/json")
        self.assertRegex(head.lower(), r"x-content-type-options: nosniff")
        health = json.loads(body)
        self.assertIn(health["status"], ("ok", "degraded"))
        self.assertIsInstance(health["reasons"], list)
        port = url.rsplit(":", 1)[1]
        by_name = curl(f"https://localhost:{port}/healthz", cacert=cert)
        self.assertEqual(by_name.returncode, 0, by_name.stderr)
        # Without the certificate a client must refuse: nothing is trusted by accident.
        self.assertNotEqual(curl(url + "/healthz").returncode, 0)

    def test_sigterm_exits_zero_within_seconds(self):
        bridge = self.start_bridge()
        bridge.web_url()
        started = time.monotonic()
        self.assertEqual(bridge.stop(signal.SIGTERM), 0, bridge.output())
        self.assertLess(time.monotonic() - started, 5)
        self.assertIn("stopped cleanly", bridge.output())

    def test_sigint_exits_zero(self):
        bridge = self.start_bridge()
        bridge.web_url()
        self.assertEqual(bridge.stop(signal.SIGINT), 0, bridge.output())

    def test_secret_files_are_private(self):
        bridge = self.start_bridge()
        bridge.web_url()
        for path in (self.home.file("var", "master.key"), self.home.file("certs", "server.key")):
            mode = stat.S_IMODE(os.stat(path).st_mode)
            self.assertEqual(mode, 0o600, f"{path} has mode {oct(mode)}")
        self.assertEqual(os.path.getsize(self.home.file("var", "master.key")), 32)
        self.assertEqual(bridge.stop(), 0)

    def test_restart_reuses_master_key_and_certificate(self):
        bridge = self.start_bridge()
        bridge.web_url()
        self.assertEqual(bridge.stop(), 0)
        with open(self.home.file("var", "master.key"), "rb") as f:
            key_before = f.read()
        with open(self.home.file("certs", "server.crt")) as f:
            cert_before = f.read()
        again = self.start_bridge()
        again.web_url()
        self.assertEqual(again.stop(), 0, again.output())
        with open(self.home.file("var", "master.key"), "rb") as f:
            self.assertEqual(f.read(), key_before)
        with open(self.home.file("certs", "server.crt")) as f:
            self.assertEqual(f.read(), cert_before)

    def test_wrong_master_key_refuses_to_start_and_keeps_data(self):
        bridge = self.start_bridge()
        bridge.web_url()
        self.assertEqual(bridge.stop(), 0)
        wrong = "A" * 43 + "="  # base64 of 32 bytes, not this database's key
        result = run_cli("serve", "--config", self.home.file("mailtrixy.yaml"),
                         env={"MAILTRIXY_MASTER_KEY": wrong})
        self.assertEqual(result.returncode, 1, result.stderr)
        self.assertIn("master key does not match", result.stderr)
        # The right key still opens the untouched database.
        again = self.start_bridge()
        again.web_url()
        self.assertEqual(again.stop(), 0, again.output())

    def test_no_secret_in_logs_or_files_at_rest(self):
        bridge = self.start_bridge(self.home.write_config(log_format="json"))
        url = bridge.web_url()
        curl(url + "/healthz?client_secret=" + TEST_SECRET, cacert=self.home.file("certs", "server.crt"))
        self.assertEqual(bridge.stop(), 0)
        self.assertNotIn(TEST_SECRET, bridge.output())
        for line in bridge.output().splitlines():
            json.loads(line)  # every log line is one JSON object
        for root, _, files in os.walk(self.home.file("var")):
            for name in files:
                with open(os.path.join(root, name), "rb") as f:
                    self.assertNotIn(TEST_SECRET.encode(), f.read(), name)

    def test_listener_in_use_is_a_clear_error(self):
        bridge = self.start_bridge()
        port = bridge.web_url().rsplit(":", 1)[1]
        other = self.home.write_config()
        with open(other) as f:
            text = f.read().replace("127.0.0.1:0", f"127.0.0.1:{port}", 1).replace("data_dir: var", "data_dir: var2")
        with open(other, "w") as f:
            f.write(text)
        result = run_cli("serve", "--config", other)
        self.assertNotEqual(result.returncode, 0)
        self.assertIn(f"127.0.0.1:{port}", result.stderr)
        self.assertIn("in use", result.stderr)
        self.assertEqual(bridge.stop(), 0)


if __name__ == "__main__":
    import unittest
    unittest.main()
