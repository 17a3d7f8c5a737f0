"""The `mailtrixy` command line: check-config, hash-password, version, usage errors."""

import os
import re

from harness import SOURCE_DIR, TestCase, run_cli


class CheckConfigTest(TestCase):
    def test_good_config_prints_redirect_uri_and_exits_zero(self):
        result = run_cli("check-config", "--config", self.home.write_config())
        self.assertEqual(result.returncode, 0, result.stdout + result.stderr)
        self.assertIn("https://localhost:8443/email-oauth/microsoft/callback", result.stdout)

    def test_shipped_config_is_valid(self):
        # The shipped file must start the bridge as is; only its listeners may be busy here, which
        # check-config reports as such, never as a config error.
        shipped = os.path.join(SOURCE_DIR, "config", "mailtrixy.yaml")
        result = run_cli("check-config", "--config", shipped)
        if result.returncode != 0:
            errors = [l for l in result.stdout.splitlines() if l.startswith("error:")]
            self.assertTrue(errors, result.stdout + result.stderr)
            for line in errors:
                self.assertIn("in use", line, result.stdout)

    def test_secret_id_pasted_instead_of_value(self):
        config = self.home.write_config(secret="a1b2c3d4-1111-2222-3333-444455556666")
        result = run_cli("check-config", "--config", config)
        self.assertEqual(result.returncode, 2, result.stdout)
        self.assertIn("this looks like the Secret ID; paste the secret Value", result.stdout)

    def test_malformed_yaml_names_the_line(self):
        path = self.home.write_config("public_url: https://localhost:8443\nweb:\n  listen: [unclosed\n")
        result = run_cli("check-config", "--config", path)
        self.assertEqual(result.returncode, 2)
        self.assertRegex(result.stderr, r"mailtrixy\.yaml:\d+")

    def test_unknown_key_names_key_and_line(self):
        path = self.home.write_config("public_url: https://localhost:8443\nimap:\n  listn: 127.0.0.1:1143\n")
        result = run_cli("check-config", "--config", path)
        self.assertEqual(result.returncode, 2)
        self.assertIn("imap.listn", result.stderr)
        self.assertIn(":3", result.stderr)

    def test_missing_config_file(self):
        result = run_cli("check-config", "--config", self.home.file("nope.yaml"))
        self.assertEqual(result.returncode, 2)
        self.assertIn("nope.yaml", result.stderr)

    def test_environment_override_is_applied(self):
        result = run_cli("check-config", "--config", self.home.write_config(),
                         env={"MAILTRIXY_PUBLIC_URL": "https://mail.example.org"})
        self.assertIn("https://mail.example.org/email-oauth/microsoft/callback", result.stdout)


class HashPasswordTest(TestCase):
    def test_hash_is_printed_and_salted(self):
        first = run_cli("hash-password", stdin="correct horse battery staple\n")
        second = run_cli("hash-password", stdin="correct horse battery staple\n")
        self.assertEqual(first.returncode, 0, first.stderr)
        self.assertTrue(first.stdout.startswith("$scrypt$"), first.stdout)
        self.assertNotEqual(first.stdout, second.stdout)
        self.assertNotIn("correct horse", first.stdout + first.stderr)

    def test_empty_password_is_refused(self):
        result = run_cli("hash-password", stdin="")
        self.assertEqual(result.returncode, 2)
        self.assertIn("no password", result.stderr)


class UsageTest(TestCase):
    def test_version_names_libraries(self):
        result = run_cli("version")
        self.assertEqual(result.returncode, 0)
        self.assertRegex(result.stdout, r"^mailtrixy \d+\.\d+\.\d+")
        for library in ("boost", "openssl", "rocksdb", "yaml-cpp"):
            self.assertRegex(result.stdout, re.escape(library) + r" \d")

    def test_unknown_command_is_a_usage_error(self):
        result = run_cli("frobnicate")
        self.assertEqual(result.returncode, 2)
        self.assertIn("unknown command 'frobnicate'", result.stderr)

    def test_no_command_prints_usage(self):
        result = run_cli()
        self.assertEqual(result.returncode, 2)
        self.assertIn("usage: mailtrixy", result.stderr)

    def test_config_without_path(self):
        result = run_cli("check-config", "--config")
        self.assertEqual(result.returncode, 2)
        self.assertIn("--config needs a path", result.stderr)


if __name__ == "__main__":
    import unittest
    unittest.main()
