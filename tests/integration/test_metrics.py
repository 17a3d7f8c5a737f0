"""GET /metrics and /healthz of a running bridge driven over IMAP, SMTP and sync against the
emulator: every line of the exposition is checked by a strict parser (metrics_format.py), the
series an operator relies on exist and move, and docs/operations.md lists exactly the families
the bridge emits (so the reference cannot drift from the code).
"""

import json
import os
import smtplib
import socket
import time
import unittest

from harness import SOURCE_DIR, SharedWorldTestCase, TempHome, curl
import imap_harness as I
import metrics_format as M
import signin_harness as S


class MetricsFormatParserTest(unittest.TestCase):
    """The parser the other tests trust must itself reject what the format forbids."""

    GOOD = ('# HELP a_total A.\n# TYPE a_total counter\na_total{x="1"} 3\n'
            '# HELP h H.\n# TYPE h histogram\nh_bucket{le="0.1"} 1\nh_bucket{le="+Inf"} 2\nh_sum 0.5\nh_count 2\n')

    def test_accepts_a_valid_exposition(self):
        families = M.parse(self.GOOD)
        self.assertEqual(families["a_total"].value(x="1"), 3)
        self.assertEqual(families["h"].value("_count"), 2)

    def test_rejects_what_the_format_forbids(self):
        bad = {
            "sample before TYPE": "a 1\n",
            "bad name": "# TYPE 1a gauge\n1a 1\n",
            "bad escape": '# TYPE a gauge\na{x="\\t"} 1\n',
            "unterminated label": '# TYPE a gauge\na{x="1} 1\n',
            "not a number": "# TYPE a gauge\na one\n",
            "negative counter": "# TYPE a counter\na -1\n",
            "duplicate series": "# TYPE a gauge\na 1\na 2\n",
            "split family": "# TYPE a gauge\n# TYPE b gauge\na 1\nb 1\na{x=\"2\"} 1\n",
            "second TYPE": "# TYPE a gauge\n# TYPE a gauge\n",
            "no +Inf": "# TYPE h histogram\nh_bucket{le=\"1\"} 1\nh_sum 1\nh_count 1\n",
            "decreasing buckets": ("# TYPE h histogram\nh_bucket{le=\"1\"} 2\nh_bucket{le=\"2\"} 1\n"
                                   "h_bucket{le=\"+Inf\"} 2\nh_sum 1\nh_count 2\n"),
            "count differs": "# TYPE h histogram\nh_bucket{le=\"+Inf\"} 2\nh_sum 1\nh_count 3\n",
            "no trailing newline": "# TYPE a gauge\na 1",
        }
        for what, text in bad.items():
            with self.subTest(what):
                with self.assertRaises(M.FormatError):
                    M.parse(text)


def scrape(world):
    result = curl(world.public_url + "/metrics", cacert=world.home.file("certs", "server.crt"))
    if result.returncode != 0:
        raise AssertionError(f"curl /metrics failed: {result.stderr}")
    return result.stdout


class MetricsTest(SharedWorldTestCase):
    @classmethod
    def make_world(cls, home):
        return I.ImapWorld(home, emulator_args=["--seed", f"{S.USER}={I.seed(home, 3, 1)}"])

    @classmethod
    def start_world(cls, world):
        world.start()
        world.wait_for_messages("INBOX", 3)
        world.bridge.wait_for_log(r"smtp listening\W.*" + str(world.smtp_port))

    def families(self):
        return M.parse(scrape(self.world))

    def drive_imap(self):
        client = self.world.imaps()
        client.select("INBOX")
        client.fetch("1:*", "(FLAGS BODY.PEEK[HEADER.FIELDS (SUBJECT)])")
        client.logout()
        client = self.world.imap_starttls(login=False)
        with self.assertRaises(Exception):
            client.login(S.USER, "wrong-password")
        client.logout()
        raw = I.RawImap(self.world.imaps_port, self.world.ssl_context())
        self.assertEqual(raw.command("b1", "FROBNICATE")[0], "BAD")
        self.assertEqual(raw.command("b2", "SELECT INBOX")[0], "BAD")  # not logged in yet
        raw.close()
        # A client that never finishes the TLS handshake.
        plain = socket.create_connection(("127.0.0.1", self.world.imaps_port), timeout=10)
        plain.sendall(b"this is not TLS\r\n\r\n")
        try:
            plain.recv(100)
        except OSError:
            pass
        plain.close()

    def drive_smtp(self):
        message = I.message("metrics smtp").encode()
        with smtplib.SMTP("127.0.0.1", self.world.smtp_port, timeout=30) as client:
            client.starttls(context=self.world.ssl_context())
            with self.assertRaises(smtplib.SMTPAuthenticationError):
                client.login(S.USER, "wrong-password")
        with smtplib.SMTP("127.0.0.1", self.world.smtp_port, timeout=30) as client:
            client.starttls(context=self.world.ssl_context())
            client.login(S.USER, self.world.password)
            client.sendmail(S.USER, [S.USER], message)
        return len(message)

    def test_series_exist_move_and_parse(self):
        before = self.families()
        self.drive_imap()
        size = self.drive_smtp()
        # The sent message lands in the Inbox; the next rounds sync it.
        I.wait_until(lambda: self.families()["mailtrixy_sync_rounds_total"].total(result="ok")
                     > before["mailtrixy_sync_rounds_total"].total(result="ok"), 30, "a sync round")
        after = self.families()

        def moved(name, by=1, suffix="", **labels):
            old = before[name].total(suffix, **labels) if name in before else 0
            new = after[name].total(suffix, **labels)
            self.assertGreaterEqual(new - old, by, f"{name}{suffix}{labels}: {old} -> {new}")

        # IMAP
        moved("mailtrixy_imap_connections_accepted_total", 3, listener="imaps")
        moved("mailtrixy_imap_connections_accepted_total", 1, listener="imap")
        moved("mailtrixy_imap_commands_total", 1, command="LOGIN", result="OK")
        moved("mailtrixy_imap_commands_total", 1, command="LOGIN", result="NO")
        moved("mailtrixy_imap_commands_total", 1, command="SELECT", result="OK")
        moved("mailtrixy_imap_commands_total", 1, command="SELECT", result="BAD")
        moved("mailtrixy_imap_commands_total", 1, command="FETCH", result="OK")
        moved("mailtrixy_imap_commands_total", 1, result="BAD", command="(invalid)")
        moved("mailtrixy_imap_command_duration_seconds", 1, "_count", command="FETCH")
        moved("mailtrixy_imap_logins_total", 1, outcome="ok")
        moved("mailtrixy_imap_logins_total", 1, outcome="wrong_credentials")
        moved("mailtrixy_imap_tls_handshakes_failed_total", 1)
        self.assertNotIn("IDLE", {labels.get("command") for _, labels, _ in
                                  after["mailtrixy_imap_command_duration_seconds"].samples})
        # SMTP
        moved("mailtrixy_smtp_connections_accepted_total", 2, listener="smtp")
        moved("mailtrixy_smtp_auth_total", 1, outcome="ok")
        moved("mailtrixy_smtp_auth_total", 1, outcome="wrong_credentials")
        moved("mailtrixy_smtp_messages_accepted_total", 1)
        moved("mailtrixy_smtp_accepted_bytes_total", size - 10)  # give or take the final CRLF handling
        moved("mailtrixy_smtp_replies_total", 3, **{"class": "2xx"})
        moved("mailtrixy_smtp_replies_total", 1, **{"class": "5xx"})
        # Graph, sync, queue
        moved("mailtrixy_graph_requests_total", 1, method="GET", status="2xx")
        moved("mailtrixy_graph_request_duration_seconds", 1, "_count", method="GET")
        self.assertIn("mailtrixy_graph_requests_in_flight", after)
        self.assertIn("mailtrixy_graph_throttled_total", after)
        self.assertIn("mailtrixy_graph_retries_total", after)
        moved("mailtrixy_sync_rounds_total", 1, result="ok")
        self.assertLess(abs(after["mailtrixy_sync_last_success_timestamp_seconds"].value() - time.time()), 120)
        self.assertEqual(after["mailtrixy_sync_accounts_failing"].value(), 0)
        self.assertIn("mailtrixy_sync_size_learning_downloads_total", after)
        moved("mailtrixy_queue_enqueued_total", 1)
        # Process
        self.assertGreater(after["process_resident_memory_bytes"].value(), 1_000_000)
        self.assertGreater(after["process_open_fds"].value(), 3)
        # Memory parts: the database's parts exist (the memtables hold the writes since the last
        # flush), the structure cache holds the structures of the messages just fetched, and
        # the heap gauges are there (their values are glibc's; a sanitizer's allocator bypasses it).
        self.assertGreater(after["mailtrixy_store_memory_bytes"].total(part="memtables"), 0)
        self.assertEqual({labels["part"] for _, labels, _ in after["mailtrixy_store_memory_bytes"].samples},
                         {"block_cache", "memtables", "table_readers"})
        self.assertGreater(after["mailtrixy_imap_structure_cache_bytes"].value(), 0)
        self.assertEqual({labels["state"] for _, labels, _ in after["mailtrixy_heap_bytes"].samples},
                         {"in_use", "free"})
        self.assertLess(abs(after["process_start_time_seconds"].value() - time.time()), 3600)
        versions = [labels["version"] for _, labels, value in after["mailtrixy_build_info"].samples if value == 1]
        self.assertEqual(len(versions), 1)
        self.assertRegex(versions[0], r"^\d+\.\d+")
        # Connections close: the open gauges come back down once the clients are gone.
        I.wait_until(lambda: self.families()["mailtrixy_imap_connections"].total() == 0, 15, "IMAP connections closed")
        I.wait_until(lambda: self.families()["mailtrixy_smtp_connections"].total() == 0, 15, "SMTP connections closed")

    def test_every_series_is_documented_and_every_documented_series_exists(self):
        self.drive_imap()
        self.drive_smtp()
        emitted = set(self.families())
        with open(os.path.join(SOURCE_DIR, "docs", "operations.md")) as f:
            documented = M.documented_names(f.read())
        self.assertTrue(documented, "no metric table found in docs/operations.md")
        self.assertEqual(sorted(emitted - documented), [], "emitted but not in docs/operations.md")
        self.assertEqual(sorted(documented - emitted), [], "in docs/operations.md but not emitted")

    def test_healthz_is_ok_while_everything_works(self):
        result = curl(self.world.public_url + "/healthz", cacert=self.home.file("certs", "server.crt"))
        self.assertEqual(result.returncode, 0, result.stderr)
        body = json.loads(result.stdout)
        self.assertEqual(body["status"], "ok", body)
        self.assertEqual(body["reasons"], [])


class SyncFailureHealthTest(unittest.TestCase):
    """A sync that keeps failing for 3 poll intervals makes /healthz degraded (still 200) and
    shows in mailtrixy_sync_accounts_failing; both clear when Graph recovers."""

    def setUp(self):
        self.home = TempHome()
        self.addCleanup(self.home.cleanup)

    def test_failing_sync_degrades_health(self):
        world = I.ImapWorld(self.home, poll="1s", emulator_args=["--seed", f"{S.USER}={I.seed(self.home, 1, 0)}"])
        self.addCleanup(world.close)
        world.start()
        world.wait_for_messages("INBOX", 1)
        # Graph answers every GET with 500 (not retried by the client): every sync round fails.
        status, body = world.emulator.control("POST", "/faults", {"route": "^GET /v1\\.0/", "status": 500,
                                                                   "seconds": 120})
        self.assertEqual(status, 200, body)

        def degraded():
            result = curl(world.public_url + "/healthz", "--write-out", "\n%{http_code}",
                          cacert=self.home.file("certs", "server.crt"))
            body, _, code = result.stdout.rpartition("\n")
            data = json.loads(body)
            return (code, data) if any(S.USER in reason and "sync" in reason for reason in data["reasons"]) else None

        code, data = I.wait_until(degraded, 40, "a sync failure reason in /healthz")
        self.assertEqual(code, "200")
        self.assertEqual(data["status"], "degraded")
        families = M.parse(scrape(world))
        self.assertEqual(families["mailtrixy_sync_accounts_failing"].value(), 1)
        self.assertGreater(families["mailtrixy_sync_rounds_total"].total(result="failed"), 0)
        self.assertGreater(families["mailtrixy_graph_requests_total"].total(status="5xx"), 0)

        # Graph recovers: so do the sync, the gauge and /healthz.
        status, body = world.emulator.control("DELETE", "/faults")
        self.assertEqual(status, 200, body)
        I.wait_until(lambda: M.parse(scrape(world))["mailtrixy_sync_accounts_failing"].value() == 0, 30,
                     "the account's sync to recover")
        result = curl(world.public_url + "/healthz", cacert=self.home.file("certs", "server.crt"))
        self.assertEqual(json.loads(result.stdout)["status"], "ok", result.stdout)


if __name__ == "__main__":
    unittest.main()
