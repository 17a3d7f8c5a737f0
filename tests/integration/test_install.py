"""Packaging: `cmake --install` into a temporary prefix, the installed binary, and the systemd unit.

- The install holds bin/mailtrixy (not the emulator, a test tool), lib/systemd/system/
  mailtrixy.service naming the installed binary, the sample config and the operator docs.
- The installed binary runs `version`, accepts the installed sample config (check-config), and
  a `serve` with it stops cleanly on SIGTERM well within the unit's TimeoutStopSec.
- systemd-sysusers creates the `mailtrixy` user from the installed lib/sysusers.d/mailtrixy.conf.
- `systemd-analyze verify` accepts the unit, and `systemd-analyze security --offline=yes` rates
  its exposure at 2.0 or better (the number is printed; docs/install.md quotes it).
"""

import os
import re
import shutil
import signal
import subprocess
import tempfile
import time
import unittest

from harness import BIN, SOURCE_DIR

BUILD_DIR = os.path.dirname(os.path.abspath(BIN))
CMAKE = os.environ.get("CMAKE_COMMAND") or shutil.which("cmake")
SYSTEMD_ANALYZE = shutil.which("systemd-analyze")


def install_into(prefix):
    result = subprocess.run([CMAKE, "--install", BUILD_DIR, "--prefix", prefix],
                            capture_output=True, text=True, timeout=120)
    if result.returncode != 0:
        raise AssertionError(f"cmake --install failed:\n{result.stdout}\n{result.stderr}")


@unittest.skipUnless(CMAKE, "cmake is not installed")
class InstallTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.temp = tempfile.mkdtemp(prefix="mailtrixy-install-")
        cls.prefix = os.path.join(cls.temp, "prefix")
        install_into(cls.prefix)
        cls.unit = os.path.join(cls.prefix, "lib/systemd/system/mailtrixy.service")
        cls.binary = os.path.join(cls.prefix, "bin/mailtrixy")
        cls.sample = os.path.join(cls.prefix, "share/mailtrixy/mailtrixy.yaml.sample")

    @classmethod
    def tearDownClass(cls):
        shutil.rmtree(cls.temp, ignore_errors=True)

    def unit_text(self):
        with open(self.unit) as f:
            return f.read()

    def test_installs_the_bridge_its_unit_sample_config_and_docs(self):
        self.assertTrue(os.access(self.binary, os.X_OK))
        self.assertFalse(os.path.exists(os.path.join(self.prefix, "bin/mailtrixy-emulator")))
        docs = os.path.join(self.prefix, "share/doc/mailtrixy")
        for name in ["install.md", "azure-setup.md", "troubleshooting.md", "clients.md", "configuration.md",
                     "clients/muttrc", "clients/mbsyncrc", "clients/msmtprc"]:
            self.assertTrue(os.path.isfile(os.path.join(docs, name)), name)
        with open(self.sample) as f:
            self.assertIn("data_dir: /var/lib/mailtrixy", f.read())

    def test_the_unit_names_the_installed_binary(self):
        text = self.unit_text()
        self.assertNotIn("@MAILTRIXY", text)
        exec_start = re.search(r"^ExecStart=(.*)$", text, re.M).group(1)
        self.assertEqual(exec_start, f"{self.binary} serve --config /etc/mailtrixy/mailtrixy.yaml")
        self.assertIn(f"Documentation=file://{self.prefix}/share/doc/mailtrixy/install.md", text)

    def test_installed_binary_prints_its_version(self):
        result = subprocess.run([self.binary, "version"], capture_output=True, text=True, timeout=30)
        self.assertEqual(result.returncode, 0, result.stderr)
        self.assertRegex(result.stdout, r"^mailtrixy \d+\.\d+\.\d+\n")

    def sample_environment(self, home):
        """The sample config as is, with its /var/lib paths and listeners moved into `home`."""
        return dict(os.environ,
                    MAILTRIXY_DATA_DIR=os.path.join(home, "var"),
                    MAILTRIXY_TLS_CERT=os.path.join(home, "certs/server.crt"),
                    MAILTRIXY_TLS_KEY=os.path.join(home, "certs/server.key"),
                    MAILTRIXY_WEB_LISTEN="127.0.0.1:0",
                    MAILTRIXY_IMAP_LISTEN="", MAILTRIXY_IMAP_TLS_LISTEN="",
                    MAILTRIXY_SMTP_LISTEN="", MAILTRIXY_SMTP_TLS_LISTEN="")

    def test_sample_config_passes_check_config_and_serve_stops_within_the_unit_timeout(self):
        home = tempfile.mkdtemp(prefix="mailtrixy-install-home-")
        self.addCleanup(shutil.rmtree, home, True)
        env = self.sample_environment(home)
        check = subprocess.run([self.binary, "check-config", "--config", self.sample], capture_output=True,
                               text=True, env=env, timeout=60)
        self.assertEqual(check.returncode, 0, check.stdout + check.stderr)

        stop_timeout = re.search(r"^TimeoutStopSec=(\d+)s$", self.unit_text(), re.M)
        self.assertIsNotNone(stop_timeout)
        bridge = subprocess.Popen([self.binary, "serve", "--config", self.sample], env=env,
                                  stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        self.addCleanup(lambda: bridge.poll() is None and bridge.kill())
        log = []
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            line = bridge.stdout.readline()
            if not line:
                break
            log.append(line)
            if "mailtrixy started" in line:
                break
        self.assertTrue(any("mailtrixy started" in line for line in log), "".join(log))
        self.assertEqual(os.stat(os.path.join(home, "var/master.key")).st_mode & 0o777, 0o600)
        started = time.monotonic()
        bridge.send_signal(signal.SIGTERM)
        remaining, _ = bridge.communicate(timeout=int(stop_timeout.group(1)))
        self.assertEqual(bridge.returncode, 0, "".join(log) + remaining)
        self.assertLess(time.monotonic() - started, int(stop_timeout.group(1)) / 2)

    @unittest.skipUnless(shutil.which("systemd-sysusers"), "systemd-sysusers is not installed (scripts/deps.sh)")
    def test_sysusers_creates_the_service_user(self):
        root = tempfile.mkdtemp(prefix="mailtrixy-sysusers-")
        self.addCleanup(shutil.rmtree, root, True)
        os.makedirs(os.path.join(root, "etc"))
        config = os.path.join(self.prefix, "lib/sysusers.d/mailtrixy.conf")
        result = subprocess.run(["systemd-sysusers", f"--root={root}", config], capture_output=True, text=True,
                                timeout=60)
        self.assertEqual(result.returncode, 0, result.stderr)
        with open(os.path.join(root, "etc/passwd")) as f:
            self.assertRegex(f.read(), r"(?m)^mailtrixy:x:\d+:\d+:[^:]*:/var/lib/mailtrixy:/usr/sbin/nologin$")
        self.assertIn("User=mailtrixy", self.unit_text())

    @unittest.skipUnless(SYSTEMD_ANALYZE, "systemd-analyze is not installed (scripts/deps.sh installs systemd)")
    def test_systemd_accepts_the_unit(self):
        result = subprocess.run([SYSTEMD_ANALYZE, "verify", "--man=no", self.unit], capture_output=True,
                                text=True, timeout=60)
        self.assertEqual(result.returncode, 0, result.stdout + result.stderr)
        self.assertNotIn("mailtrixy.service", result.stderr)

    @unittest.skipUnless(SYSTEMD_ANALYZE, "systemd-analyze is not installed (scripts/deps.sh installs systemd)")
    def test_systemd_rates_the_units_exposure_low(self):
        result = subprocess.run([SYSTEMD_ANALYZE, "security", "--offline=yes", "--no-pager", self.unit],
                                capture_output=True, text=True, timeout=60)
        self.assertEqual(result.returncode, 0, result.stdout + result.stderr)
        exposure = re.search(r"Overall exposure level for mailtrixy\.service: (\d+\.\d+)", result.stdout)
        self.assertIsNotNone(exposure, result.stdout)
        print(f"\nsystemd-analyze security exposure of mailtrixy.service: {exposure.group(1)}")
        self.assertLessEqual(float(exposure.group(1)), 2.0, result.stdout)


if __name__ == "__main__":
    unittest.main()
