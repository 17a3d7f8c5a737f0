#!/usr/bin/env python3
"""How fast and how big mailtrixy-emulator is, so it never becomes what limits a benchmark of the
bridge.

Throughput, over keep-alive TLS with http_load (the project's own HTTPS client, one connection per
client, every client sending its next request as soon as the previous answer arrived):
  - list:   GET /v1.0/me/mailFolders/inbox/messages?$top=100&$select=id,subject,from,receivedDateTime,isRead,flag
            on a 10,000-message Inbox;
  - $value: GET /v1.0/me/messages/{id}/$value of a 50 KB message;
each measured (a) with 8 clients spread over 2 users' mailboxes, 4 each: Graph allows 4 requests in
flight per app and mailbox, and the emulator answers the 5th with 429 as Graph does, so this is
the realistic most; and (b) with 4 clients on one mailbox. Access tokens come from the real
authorize + token flow. Besides requests/s the CPU time per request of the emulator and of
http_load is reported: unlike requests/s it hardly depends on what else the machine is doing, and
the emulator's share shows whether it or the load generator sets the pace.

Memory: an emulator seeded with 100,000 messages (1-2 KB each); reports the seeding time (start
to ready line) and VmHWM/VmRSS from /proc, next to an emulator started with no mail as baseline.

Everything runs on loopback in one temp directory (on /dev/shm when there is room) that is
removed at the end, also on failure or SIGTERM; the whole run is bounded by --budget seconds
(default 170). Exit code 1 when anything failed or a request was answered outside 2xx (a 429 with
at most 4 requests in flight per mailbox is a bug: see THROTTLED_NOTE); never because of speed.

usage: emulator_bench.py [BUILD_DIR] [--seconds 8] [--messages 10000] [--memory-messages 100000]
"""

import argparse
import json
import os
import random
import resource
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import urllib.parse

HERE = os.path.dirname(os.path.abspath(__file__))
SOURCE_DIR = os.path.normpath(os.path.join(HERE, "..", ".."))

CLIENT_ID = "6731de76-14a6-49ae-97bc-6eba6914391e"
CLIENT_SECRET = "Qx48Q~bEnChSeCrEt.vAlUe-0123456789abcdefXY"
REDIRECT_URI = "https://localhost:8443/email-oauth/microsoft/callback"
PASSWORD = "Bench-Passw0rd!"
USERS = ("bench.one@example.com", "bench.two@example.com")
SCOPE = ("offline_access openid profile email https://graph.microsoft.com/Mail.ReadWrite "
         "https://graph.microsoft.com/User.Read")
FORM = {"Content-Type": "application/x-www-form-urlencoded"}
LIST_PATH = "/v1.0/me/mailFolders/inbox/messages?$top=100&$select=id,subject,from,receivedDateTime,isRead,flag"
BIG_SUBJECT = "Benchmark 50 KB message"
BIG_SIZE = 50 * 1024


# No client here ever has more than 4 requests in flight on one mailbox, so Graph's limit is never
# exceeded; a 429 means the emulator still counted a request whose answer the client already had.
THROTTLED_NOTE = ("      note: 429 although no client had more than 4 requests in flight per mailbox: the emulator "
                  "must free a request's slot before its answer can reach the client (HttpResponse::on_answered, "
                  "docs/adr/0003-http-server.md); this is a regression")


class BenchError(Exception):
    pass


class OutOfTime(BaseException):
    pass


# ---- mail generation ---------------------------------------------------------------------------

FIRST_NAMES = ["Alice", "Bob", "Chloé", "Daniel", "Eva", "Farid", "Grace", "Hiroshi", "Ingrid", "Jonas",
               "Katarzyna", "Liam", "María", "Noah", "Olga", "Pierre", "Quinn", "Rosa", "Sven", "Tariq"]
LAST_NAMES = ["Smith", "Müller", "García", "Nakamura", "Okafor", "Rossi", "Novak", "Dubois", "Larsen",
              "Kowalski", "Silva", "Nguyen", "Johansson", "Petrov", "O'Brien"]
DOMAINS = ["contoso.com", "fabrikam.net", "example.org", "northwind.io", "mail.tailspin.de", "adatum.co.uk"]
SUBJECT_HEADS = ["Quarterly report", "Re: Meeting notes", "Invoice", "Fwd: Travel plans", "Build failed on main",
                 "Lunch on Friday?", "Your order has shipped", "Re: Re: Budget 2025", "Welcome aboard",
                 "Security alert", "Weekly newsletter", "Pull request review", "Offsite agenda",
                 "Contract draft", "Über die Präsentation", "Password expiry notice", "Photos from the trip"]
WORDS = ("the of and to in is for on that with as was at by be this from or have an are not but we you "
         "all can has more one will about if out so up which their there what would when your been "
         "project meeting schedule review budget team release customer invoice report draft update "
         "please thanks regards deadline tomorrow attached document question answer office quarter "
         "server mailbox calendar folder message weekend holiday travel contract proposal summary").split()


def text_pool(rng, size):
    """One long run of words and line breaks; bodies are slices of it, so generating is cheap."""
    lines, line, total = [], [], 0
    while total < size:
        word = rng.choice(WORDS)
        line.append(word)
        total += len(word) + 1
        if len(line) >= rng.randint(8, 14):
            lines.append(" ".join(line).capitalize() + ".")
            line = []
            if rng.random() < 0.15:
                lines.append("")
    return "\r\n".join(lines)


class MailGenerator:
    def __init__(self, seed):
        self.rng = random.Random(seed)
        self.pool = text_pool(self.rng, 256 * 1024)
        self.now = int(time.time())

    def body(self, size):
        start = self.rng.randrange(0, len(self.pool) - size - 1)
        start = self.pool.find("\r\n", start) + 2  # begin on a line boundary
        return self.pool[start:start + size]

    def person(self):
        first, last = self.rng.choice(FIRST_NAMES), self.rng.choice(LAST_NAMES)
        address = f"{first.lower()}.{last.lower()}@{self.rng.choice(DOMAINS)}".encode("ascii", "ignore").decode()
        address = address.replace("'", "")
        return f'"{first} {last}" <{address}>' if first.isascii() and last.isascii() else address

    def message(self, index, size, recipient, when=None):
        when = when if when is not None else self.now - self.rng.randrange(60, 2 * 365 * 86400)
        date = time.strftime("%a, %d %b %Y %H:%M:%S +0000", time.gmtime(when))
        subject = f"{self.rng.choice(SUBJECT_HEADS)} #{index}"
        headers = (f"Received: from mx{self.rng.randint(1, 9)}.example.net by mx.example.com; {date}\r\n"
                   f"From: {self.person()}\r\nTo: {recipient}\r\nSubject: {subject}\r\nDate: {date}\r\n"
                   f"Message-ID: <bench-{index}-{self.rng.getrandbits(48):x}@example.net>\r\nMIME-Version: 1.0\r\n")
        text = self.body(max(64, size - len(headers) - 200))
        if self.rng.random() < 0.3:  # a third as text + HTML, like much real mail
            half = text[:len(text) // 2]
            return (headers + 'Content-Type: multipart/alternative; boundary="b1"\r\n\r\n'
                    '--b1\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n' + half +
                    '\r\n--b1\r\nContent-Type: text/html; charset=utf-8\r\n\r\n<html><body><p>' +
                    half.replace("\r\n\r\n", "</p><p>") + "</p></body></html>\r\n--b1--\r\n").encode()
        return (headers + "Content-Type: text/plain; charset=utf-8\r\n\r\n" + text + "\r\n").encode()

    def big_message(self, recipient):
        """Text plus a base64 attachment, BIG_SIZE bytes in all, the newest in the mailbox."""
        date = time.strftime("%a, %d %b %Y %H:%M:%S +0000", time.gmtime(self.now))
        head = (f"From: \"Grace Okafor\" <grace.okafor@fabrikam.net>\r\nTo: {recipient}\r\n"
                f"Subject: {BIG_SUBJECT}\r\nDate: {date}\r\nMessage-ID: <bench-big@example.net>\r\n"
                'MIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary="mixed"\r\n\r\n'
                "--mixed\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n" + self.body(2000) + "\r\n"
                "--mixed\r\nContent-Type: application/pdf; name=\"report.pdf\"\r\n"
                "Content-Disposition: attachment; filename=\"report.pdf\"\r\nContent-Transfer-Encoding: base64\r\n\r\n")
        tail = "\r\n--mixed--\r\n"
        alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"
        needed = BIG_SIZE - len(head.encode()) - len(tail)
        lines = ["".join(self.rng.choices(alphabet, k=76)) for _ in range(needed // 78 + 1)]
        attachment = "\r\n".join(lines)[:needed]
        if attachment.endswith("\r"):
            attachment = attachment[:-1] + "A"
        return (head + attachment + tail).encode()


def write_mailbox(directory, count, low, high, recipient, seed, big=False):
    """count .eml files (big: one of them the 50 KB message); returns (total bytes, seconds)."""
    started = time.monotonic()
    os.makedirs(directory)
    generator = MailGenerator(seed)
    total = 0
    small = count - 1 if big else count
    for index in range(small):
        data = generator.message(index, generator.rng.randint(low, high), recipient)
        with open(os.path.join(directory, f"{index:06d}.eml"), "wb") as f:
            f.write(data)
        total += len(data)
    if big:
        data = generator.big_message(recipient)
        with open(os.path.join(directory, "big.eml"), "wb") as f:
            f.write(data)
        total += len(data)
    return total, time.monotonic() - started


# ---- the emulator --------------------------------------------------------------------------------

def proc_status(pid):
    values = {}
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            key, _, rest = line.partition(":")
            if key in ("VmHWM", "VmRSS"):
                values[key] = int(rest.split()[0]) * 1024
    return values


def cpu_seconds(pid):
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")  # utime + stime


def start_emulator(Emulator, directory, users, seeds=(), timeout=120):
    """(emulator, seconds from start to the ready line)."""
    os.makedirs(directory, exist_ok=True)
    args = []
    for address, seed_dir in seeds:
        args += ["--seed", f"{address}={seed_dir}"]
    started = time.monotonic()
    emulator = Emulator(directory, clients=[(CLIENT_ID, CLIENT_SECRET, [REDIRECT_URI])],
                        users=[(address, PASSWORD) for address in users], args=args, timeout=timeout)
    return emulator, time.monotonic() - started


def access_token(emulator, user):
    """The real sign-in: POST the authorize form, follow the code to the token endpoint."""
    query = urllib.parse.urlencode({"client_id": CLIENT_ID, "response_type": "code", "redirect_uri": REDIRECT_URI,
                                    "scope": SCOPE, "state": "bench"})
    form = urllib.parse.urlencode({"login": user, "password": PASSWORD, "consent": "accept"})
    status, headers, body = emulator.request("POST", "/common/oauth2/v2.0/authorize?" + query, form, FORM)
    if status != 302:
        raise BenchError(f"signing in {user} answered {status} instead of a redirect: {body[:300]!r}")
    code = urllib.parse.parse_qs(urllib.parse.urlsplit(headers["Location"]).query)["code"][0]
    fields = {"client_id": CLIENT_ID, "client_secret": CLIENT_SECRET, "grant_type": "authorization_code",
              "code": code, "redirect_uri": REDIRECT_URI}
    status, _, body = emulator.request("POST", "/common/oauth2/v2.0/token", urllib.parse.urlencode(fields), FORM)
    if status != 200:
        raise BenchError(f"redeeming the code of {user} answered {status}: {body[:300]!r}")
    return json.loads(body)["access_token"]


def graph_get(emulator, path, token):
    status, _, body = emulator.request("GET", path, headers={"Authorization": f"Bearer {token}"})
    if status != 200:
        raise BenchError(f"GET {path.split('?')[0]} answered {status}: {body[:300]!r}")
    return body


# ---- measuring -----------------------------------------------------------------------------------

def run_load(http_load, emulator, targets, concurrency, seconds):
    """targets: [(path, token)]; workers take them round-robin. Returns http_load's JSON plus the
    emulator's CPU seconds during the run."""
    command = [http_load, "--ca", emulator.cert, "--concurrency", str(concurrency), "--seconds", str(seconds),
               "--json"]
    for path, token in targets:
        command += ["--url", emulator.url + path, "--header", f"Authorization: Bearer {token}"]
    cpu_before = cpu_seconds(emulator.process.pid)
    children_before = resource.getrusage(resource.RUSAGE_CHILDREN)  # only finished children: http_load
    result = subprocess.run(command, capture_output=True, text=True, timeout=seconds + 60)
    cpu_used = cpu_seconds(emulator.process.pid) - cpu_before
    children_after = resource.getrusage(resource.RUSAGE_CHILDREN)
    load_cpu = (children_after.ru_utime + children_after.ru_stime -
                children_before.ru_utime - children_before.ru_stime)
    try:
        report = json.loads(result.stdout)
    except ValueError:
        raise BenchError(f"http_load exited {result.returncode} without a report: {result.stderr.strip()}")
    report["emulator_cpu_seconds"] = cpu_used
    report["load_cpu_seconds"] = load_cpu
    report["exit_code"] = result.returncode
    report["stderr"] = result.stderr.strip()
    return report


def print_load(label, report):
    requests = max(report["requests"], 1)
    cpu_us = report["emulator_cpu_seconds"] / requests * 1e6
    load_us = report["load_cpu_seconds"] / requests * 1e6
    statuses = " ".join(f"{status}x{count}" for status, count in sorted(report["statuses"].items()))
    print(f"  {label}: {report['requests_per_second']:.0f} requests/s "
          f"({report['requests']} in {report['seconds']:.1f} s), p50 {report['p50_ms']:.2f} ms, "
          f"p99 {report['p99_ms']:.2f} ms, {report['body_bytes_per_second'] / 1e6:.1f} MB/s, "
          f"CPU per request: emulator {cpu_us:.0f} us, http_load {load_us:.0f} us")
    print(f"      statuses {statuses or 'none'}, non-2xx {report['non_2xx']}, failed {report['failed']}, "
          f"{report['connections_opened']} connections for {report['concurrency']} clients "
          f"(max {report['max_in_flight']} in flight, {report['client_threads']} client I/O threads)", flush=True)
    if report["statuses"].get("429"):
        print(THROTTLED_NOTE, flush=True)
    if report["exit_code"] != 0:
        raise BenchError(f"{label}: http_load reported failures: {report['stderr']}")


def scratch_parent():
    """/dev/shm when it has room: creating 100,000 seed files there takes a second, not a busy disk's
    half minute. tmpfs pages are not the emulator's, so its VmRSS/VmHWM stay unaffected."""
    try:
        stats = os.statvfs("/dev/shm")
        if stats.f_bavail * stats.f_frsize > 1024 ** 3 and os.access("/dev/shm", os.W_OK):
            return "/dev/shm"
    except OSError:
        pass
    return None


def mib(n):
    return n / (1024 * 1024)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("build_dir", nargs="?", default="build")
    parser.add_argument("--seconds", type=int, default=8, help="duration of each load run")
    parser.add_argument("--messages", type=int, default=10000, help="messages per mailbox for the load runs")
    parser.add_argument("--memory-messages", type=int, default=100000, help="messages seeded for the memory run")
    parser.add_argument("--emulator-threads", type=int, help="pass --threads N (default: the emulator's default)")
    parser.add_argument("--budget", type=int, default=170, help="give up after this many seconds")
    options = parser.parse_args()

    build_dir = os.path.abspath(options.build_dir)
    os.environ["MAILTRIXY_EMULATOR_BIN"] = os.path.join(build_dir, "mailtrixy-emulator")
    http_load = os.path.join(build_dir, "http_load")
    for binary in (os.environ["MAILTRIXY_EMULATOR_BIN"], http_load):
        if not os.access(binary, os.X_OK):
            raise BenchError(f"{binary} is missing; build the targets mailtrixy-emulator and http_load first")
    sys.path.insert(0, os.path.join(SOURCE_DIR, "tests", "integration"))
    from harness import Emulator  # after MAILTRIXY_EMULATOR_BIN is set: harness reads it on import

    def out_of_time(signum, frame):
        raise OutOfTime()

    signal.signal(signal.SIGALRM, out_of_time)
    signal.signal(signal.SIGTERM, lambda signum, frame: sys.exit(143))
    signal.alarm(options.budget)

    workdir = tempfile.mkdtemp(prefix="mailtrixy-emulator-bench-", dir=scratch_parent())
    emulators = []
    extra_args = ["--threads", str(options.emulator_threads)] if options.emulator_threads else []

    def EmulatorWithArgs(directory, clients, users, args, timeout):
        emulator = Emulator(directory, clients=clients, users=users, args=list(args) + extra_args, timeout=timeout)
        emulators.append(emulator)
        return emulator

    try:
        threads = (f"--threads {options.emulator_threads}" if options.emulator_threads
                   else "default --threads (4, docs/emulator.md)")
        print(f"  emulator: {threads}; load: http_load, keep-alive TLS 1.2+, {options.seconds} s per run; "
              f"{os.cpu_count()} CPUs shared with everything else running "
              f"(load average {os.getloadavg()[0]:.1f} at the start)", flush=True)

        # -- throughput --
        seed_dir = os.path.join(workdir, "seed")
        seed_bytes, generated_in = write_mailbox(seed_dir, options.messages, 2048, 5120, USERS[0], seed=1, big=True)
        emulator, ready_in = start_emulator(EmulatorWithArgs, os.path.join(workdir, "load"), USERS,
                                            seeds=[(user, seed_dir) for user in USERS])
        print(f"  2 mailboxes x {options.messages} messages ({mib(seed_bytes):.1f} MiB of .eml, "
              f"avg {seed_bytes / options.messages / 1024:.1f} KiB; generated in {generated_in:.1f} s), "
              f"emulator ready in {ready_in:.1f} s", flush=True)

        tokens = [access_token(emulator, user) for user in USERS]
        listing = json.loads(graph_get(emulator, LIST_PATH, tokens[0]))
        if len(listing.get("value", [])) != 100:
            raise BenchError(f"the list call returned {len(listing.get('value', []))} messages instead of 100")
        found = json.loads(graph_get(emulator, "/v1.0/me/mailFolders/inbox/messages?$select=id,subject&$filter=" +
                                     urllib.parse.quote(f"subject eq '{BIG_SUBJECT}'"), tokens[0]))["value"]
        big_ids = [found[0]["id"] if found else None]
        found_two = json.loads(graph_get(emulator, "/v1.0/me/mailFolders/inbox/messages?$select=id,subject&$filter=" +
                                         urllib.parse.quote(f"subject eq '{BIG_SUBJECT}'"), tokens[1]))["value"]
        big_ids.append(found_two[0]["id"] if found_two else None)
        if None in big_ids:
            raise BenchError(f"no message with the subject '{BIG_SUBJECT}' in a seeded mailbox")
        value_paths = [f"/v1.0/me/messages/{urllib.parse.quote(big_id, safe='')}/$value" for big_id in big_ids]
        big_length = len(graph_get(emulator, value_paths[0], tokens[0]))
        print(f"  the 50 KB message: $value is {big_length} bytes", flush=True)

        runs = [
            ("list $top=100, 8 clients over 2 mailboxes", [(LIST_PATH, tokens[0]), (LIST_PATH, tokens[1])], 8),
            ("list $top=100, 4 clients on 1 mailbox", [(LIST_PATH, tokens[0])], 4),
            ("$value 50 KB, 8 clients over 2 mailboxes", [(value_paths[0], tokens[0]), (value_paths[1], tokens[1])], 8),
            ("$value 50 KB, 4 clients on 1 mailbox", [(value_paths[0], tokens[0])], 4),
        ]
        for label, targets, concurrency in runs:
            print_load(label, run_load(http_load, emulator, targets, concurrency, options.seconds))
        after_load = proc_status(emulator.process.pid)
        print(f"  that emulator (20,000 messages) after the runs: VmHWM {mib(after_load['VmHWM']):.0f} MiB, "
              f"VmRSS {mib(after_load['VmRSS']):.0f} MiB", flush=True)
        emulator.kill()
        shutil.rmtree(seed_dir, ignore_errors=True)

        # -- memory --
        empty, empty_ready = start_emulator(EmulatorWithArgs, os.path.join(workdir, "empty"), USERS[:1])
        baseline = proc_status(empty.process.pid)
        empty.kill()
        memory_dir = os.path.join(workdir, "memory-seed")
        memory_bytes, memory_generated = write_mailbox(memory_dir, options.memory_messages, 1024, 2048, USERS[0],
                                                       seed=2)
        full, full_ready = start_emulator(EmulatorWithArgs, os.path.join(workdir, "memory"), USERS[:1],
                                          seeds=[(USERS[0], memory_dir)])
        loaded = proc_status(full.process.pid)
        full.kill()
        per_message = (loaded["VmHWM"] - baseline["VmHWM"]) / options.memory_messages
        print(f"  no mail: ready in {empty_ready:.2f} s, VmHWM {mib(baseline['VmHWM']):.1f} MiB, "
              f"VmRSS {mib(baseline['VmRSS']):.1f} MiB", flush=True)
        print(f"  {options.memory_messages} messages ({mib(memory_bytes):.0f} MiB of .eml, "
              f"avg {memory_bytes / options.memory_messages / 1024:.2f} KiB; generated in {memory_generated:.1f} s): "
              f"seeded and ready in {full_ready:.1f} s, VmHWM {mib(loaded['VmHWM']):.0f} MiB, "
              f"VmRSS {mib(loaded['VmRSS']):.0f} MiB, "
              f"{per_message / 1024:.2f} KiB per message above the empty emulator", flush=True)
        signal.alarm(0)
        return 0
    except BenchError as error:
        print(f"emulator_bench: {error}", file=sys.stderr)
        return 1
    except OutOfTime:
        print(f"emulator_bench: gave up after the {options.budget} s budget", file=sys.stderr)
        return 1
    finally:
        signal.alarm(0)
        for emulator in emulators:
            emulator.kill()
        shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
