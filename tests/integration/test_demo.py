"""`make demo` (scripts/demo.sh): starts the emulator with the demo mailbox (the emulator refuses to
start when a seed directory cannot be loaded) and the bridge configured for it, prints where to go
and how to sign in, lets that sign-in succeed, and Ctrl-C stops both."""

import os
import re
import signal
import subprocess
import threading
import time

from harness import EMULATOR_BIN, BIN, SOURCE_DIR, TestCase
import signin_harness as S


class DemoTest(TestCase):
    def test_demo_starts_both_prints_the_login_and_stops_on_ctrl_c(self):
        port = S.free_port()
        demo_dir = self.home.file("demo")
        env = dict(os.environ, DEMO_DIR=demo_dir, DEMO_WEB_PORT=str(port),
                   MAILTRIXY_BIN=BIN, MAILTRIXY_EMULATOR_BIN=EMULATOR_BIN,
                   # The default IMAP/SMTP ports may be taken on a shared machine.
                   MAILTRIXY_IMAP_LISTEN=f"127.0.0.1:{S.free_port()}",
                   MAILTRIXY_IMAP_TLS_LISTEN=f"127.0.0.1:{S.free_port()}",
                   MAILTRIXY_SMTP_LISTEN=f"127.0.0.1:{S.free_port()}",
                   MAILTRIXY_SMTP_TLS_LISTEN=f"127.0.0.1:{S.free_port()}")
        process = subprocess.Popen([os.path.join(SOURCE_DIR, "scripts", "demo.sh")], env=env,
                                   stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        lines = []
        reader = threading.Thread(target=lambda: lines.extend(process.stdout), daemon=True)
        reader.start()

        def stop():
            if process.poll() is None:
                process.send_signal(signal.SIGINT)
                try:
                    process.wait(timeout=20)
                except subprocess.TimeoutExpired:
                    process.kill()
                    process.wait()
            reader.join(timeout=5)
            process.stdout.close()
        self.addCleanup(stop)

        banner = f"Open https://localhost:{port}/ and sign in as demo@outlook.com / demo-password"
        deadline = time.monotonic() + 60
        while not any(banner in line for line in lines):
            self.assertIsNone(process.poll(), "".join(lines))
            self.assertLess(time.monotonic(), deadline, "no banner:\n" + "".join(lines))
            time.sleep(0.1)
        emulator_url = re.search(r"Microsoft at (https://[0-9.:]+)", "".join(lines)).group(1)

        public_url = f"https://localhost:{port}"
        browser = S.Browser({public_url: os.path.join(demo_dir, "certs", "server.crt"),
                             emulator_url: os.path.join(demo_dir, "emulator", "emulator.crt")})
        self.assertIn("Sign in with Outlook", browser.get(public_url + "/settings/email-accounts").text)
        start = browser.get(public_url + "/email-oauth/microsoft/start")
        self.assertEqual(start.status, 302)
        browser.get(start.location())
        answer = browser.post(start.location(), {"login": "demo@outlook.com", "password": "demo-password",
                                                 "consent": "accept"})
        self.assertEqual(answer.status, 302, answer.text)
        success = browser.get(answer.location())
        self.assertIn("Outlook connected successfully!", success.text)
        self.assertIn("demo@outlook.com", success.text)

        process.send_signal(signal.SIGINT)
        self.assertEqual(process.wait(timeout=20), 0, "".join(lines))
        reader.join(timeout=5)
        self.assertIn("demo: stopped", "".join(lines))
        # Nothing keeps running: the bridge released its port.
        self.assertTrue(_port_free(port))


def _port_free(port):
    import socket
    with socket.socket() as s:
        try:
            s.bind(("127.0.0.1", port))
            return True
        except OSError:
            return False
