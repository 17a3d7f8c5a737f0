#!/usr/bin/env python3
"""Load and soak test: the real `mailtrixy serve` against the real `mailtrixy-emulator`, loopback only.

N accounts are signed in (default 10) with a seeded Inbox (messages from tests/data/corpus) and a
folder "Soak". Then, for --seconds (default 600, env SOAK_SECONDS):

- --connections IMAP connections (default 1,000, env SOAK_CONNECTIONS) over implicit TLS, spread
  evenly over the accounts. 30% sit in IDLE on INBOX (re-issued every minute or two, as clients
  do); the rest loop over a mix of NOOP, UID FETCH (flags; envelope; BODY.PEEK[]), UID SEARCH,
  UID STORE +FLAGS/-FLAGS, APPEND into "Soak" and re-SELECT, with a random think time between
  commands (mean --think seconds), and now and then log out and reconnect.
- --smtp-senders SMTP clients (default 10, env SOAK_SMTP_SENDERS), STARTTLS + AUTH PLAIN, each
  sending as one account to other accounts and/or outside addresses, every message with a unique
  Message-ID, with a think time of mean --smtp-think seconds.
- The RSS (VmRSS) of the bridge and of the emulator is sampled every --rss-interval seconds.

Any tagged NO/BAD, unexpected SMTP reply, timeout or disconnect is an error. After the run the
script checks that every message is accounted for (docs/soak.md says precisely what that means):
1. the outbox drains (/metrics: mailtrixy_queue_messages 0, sent_total = the 250s we got);
2. every SMTP message answered 250 is in the sender's /_emulator/users/{email}/sent exactly once,
   with exactly the envelope recipients;
3. every one sent to an account is in that account's INBOX exactly once, seen through the bridge
   (UID SEARCH HEADER Message-ID);
4. every APPEND answered OK is in "Soak" exactly once (UID SEARCH HEADER Message-ID);
5. every IDLE connection, once the run is quiet, reports the EXISTS a fresh SELECT reports.
and that the bridge's RSS, less the caches RocksDB reports and bounds, is flat after warm-up
(see leak_verdict() and less_store_caches()).

Prints a report and, with --json PATH, writes it as JSON. Exits 1 on any error, loss, duplicate or
leak; 2 when the set-up itself fails.
"""

import argparse
import asyncio
import base64
import collections
import email
import email.utils
import email.policy
import json
import os
import random
import re
import resource
import shutil
import ssl
import sys
import time
import urllib.parse

HERE = os.path.dirname(os.path.abspath(__file__))
SOURCE_DIR = os.path.abspath(os.path.join(HERE, "..", ".."))
sys.path.insert(0, os.path.join(SOURCE_DIR, "tests", "integration"))
from percentiles import percentile  # noqa: E402 - found through the path set just above

CORPUS = os.path.join(SOURCE_DIR, "tests", "data", "corpus")
PASSWORD_RE = r'<code id="bridge-password"[^>]*>([^<]*)</code>'
COMMAND_TIMEOUT = 120.0  # a command that takes longer is an error (a hang), not a slow answer
IDLE_FRACTION = 0.3
APPEND_FOLDER = "Soak"

# Relative weights of the active connections' commands.
MIX = [("NOOP", 10), ("FETCH_FLAGS", 20), ("FETCH_ENVELOPE", 15), ("FETCH_BODY", 10),
       ("SEARCH", 15), ("STORE", 15), ("APPEND", 5), ("SELECT", 5), ("RECONNECT", 2)]

# The name under which the LOGOUTs of the run's end are timed (all connections at once).
LOGOUT_AT_STOP = "LOGOUT_AT_STOP"


def env_int(name, default):
    value = os.environ.get(name)
    return int(value) if value else default


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--build", default="build", help="build directory holding mailtrixy and mailtrixy-emulator")
    parser.add_argument("--seconds", type=float, default=env_int("SOAK_SECONDS", 600))
    parser.add_argument("--connections", type=int, default=env_int("SOAK_CONNECTIONS", 1000))
    parser.add_argument("--accounts", type=int, default=env_int("SOAK_ACCOUNTS", 10))
    parser.add_argument("--smtp-senders", type=int, default=env_int("SOAK_SMTP_SENDERS", 10))
    parser.add_argument("--messages", type=int, default=300, help="messages seeded into each Inbox")
    parser.add_argument("--think", type=float, default=5.0,
                        help="mean seconds between two commands of one active IMAP connection")
    parser.add_argument("--smtp-think", type=float, default=2.0, help="mean seconds between two SMTP messages")
    parser.add_argument("--ramp", type=float, default=None,
                        help="seconds over which the connections open (default: 5%% of the run, 5..30 s)")
    parser.add_argument("--rss-interval", type=float, default=2.0)
    parser.add_argument("--metrics-interval", type=float, default=10.0,
                        help="seconds between two samples of the bridge's memory parts from /metrics")
    parser.add_argument("--warmup", type=float, default=0.2, help="fraction of the run that is warm-up")
    parser.add_argument("--leak-mib-per-min", type=float, default=2.0,
                        help="RSS slope after warm-up above which the run fails (see leak_verdict)")
    parser.add_argument("--mix", default=",".join(f"{name}={weight}" for name, weight in MIX),
                        help="relative weights of the active connections' commands (NAME=WEIGHT,...; "
                             "weight 0 leaves one out; useful to find which command makes memory grow)")
    parser.add_argument("--json", help="also write the report as JSON to this path")
    parser.add_argument("--keep", action="store_true", help="keep the temp directory (logs, data)")
    args = parser.parse_args(argv)
    if args.connections < 1 or args.accounts < 1 or args.seconds <= 0:
        parser.error("--connections, --accounts and --seconds must be positive")
    try:
        weights = dict((name.strip().upper(), int(weight)) for name, weight in
                       (item.split("=", 1) for item in args.mix.split(",") if item.strip()))
    except ValueError:
        parser.error(f"--mix {args.mix!r}: write NAME=WEIGHT pairs separated by commas, e.g. NOOP=10,STORE=5")
    unknown = set(weights) - {name for name, _ in MIX}
    if unknown or not any(weights.values()):
        parser.error(f"--mix: unknown commands {sorted(unknown)} or all weights 0; known: {[n for n, _ in MIX]}")
    args.mix = [(name, weights.get(name, 0)) for name, _ in MIX]
    if args.ramp is None:
        args.ramp = min(30.0, max(5.0, args.seconds * 0.05))
    return args


# ---- statistics -----------------------------------------------------------------------------

def slope_per_minute(samples):
    """Least-squares slope of (seconds, MiB) samples, in MiB per minute."""
    if len(samples) < 2:
        return 0.0
    n = len(samples)
    mean_t = sum(t for t, _ in samples) / n
    mean_v = sum(v for _, v in samples) / n
    var = sum((t - mean_t) ** 2 for t, _ in samples)
    if var == 0:
        return 0.0
    cov = sum((t - mean_t) * (v - mean_v) for t, v in samples)
    return cov / var * 60.0


class Stats:
    def __init__(self):
        self.latencies = collections.defaultdict(list)
        self.errors = []
        self.error_count = 0
        self.counters = collections.Counter()

    def record(self, command, seconds):
        self.latencies[command].append((time.monotonic(), seconds))

    def error(self, text):
        self.error_count += 1
        if len(self.errors) < 200:  # the first ones tell the story; the count says how many
            self.errors.append(f"{time.strftime('%H:%M:%S')} {text}")


# ---- clients --------------------------------------------------------------------------------

class ProtocolError(Exception):
    pass


class Imap:
    """A small asyncio IMAP client: tagged commands, literals, untagged EXISTS tracked."""

    def __init__(self, reader, writer):
        self.reader = reader
        self.writer = writer
        self.tag = 0
        self.exists = None
        self.exists_events = 0

    @classmethod
    async def connect(cls, port, context):
        reader, writer = await asyncio.open_connection("127.0.0.1", port, ssl=context,
                                                       server_hostname="localhost", limit=1 << 22)
        client = cls(reader, writer)
        greeting = await client.read_line()
        if not greeting.startswith(b"* OK"):
            client.close()
            raise ProtocolError(f"greeting {greeting[:200]!r}")
        return client

    async def read_line(self):
        """One response line with any literals inlined (as bytes)."""
        line = await self.reader.readline()
        if not line:
            raise ProtocolError("connection closed by the bridge")
        while line.endswith(b"}\r\n"):
            match = re.search(rb"\{(\d+)\}\r\n$", line)
            if not match:
                break
            literal = await self.reader.readexactly(int(match.group(1)))
            rest = await self.reader.readline()
            if not rest:
                raise ProtocolError("connection closed inside a literal")
            line = line + literal + rest
        self.note(line)
        return line

    def note(self, line):
        match = re.match(rb"\* (\d+) EXISTS\r\n", line)
        if match:
            self.exists = int(match.group(1))
            self.exists_events += 1

    async def command(self, text, literal=None):
        """Sends one command; returns the untagged lines. A tagged NO/BAD raises."""
        self.tag += 1
        tag = f"s{self.tag}".encode()
        if literal is None:
            self.writer.write(tag + b" " + text.encode() + b"\r\n")
        else:
            self.writer.write(tag + b" " + text.encode() + f" {{{len(literal)}}}\r\n".encode())
            await self.writer.drain()
            while True:
                line = await self.read_line()
                if line.startswith(b"+"):
                    break
                if line.startswith(tag + b" "):
                    raise ProtocolError(f"{text} -> {line[:300]!r}")
            self.writer.write(literal + b"\r\n")
        await self.writer.drain()
        untagged = []
        while True:
            line = await self.read_line()
            if line.startswith(tag + b" "):
                if not line.startswith(tag + b" OK"):
                    raise ProtocolError(f"{text[:80]} -> {line[:300]!r}")
                return untagged
            untagged.append(line)

    def close(self):
        try:
            self.writer.close()
        except Exception:  # noqa: BLE001 - closing a broken socket
            pass


def search_uids(lines):
    for line in lines:
        if line.startswith(b"* SEARCH"):
            return [int(x) for x in line[len(b"* SEARCH"):].split()]
    return []


class Smtp:
    def __init__(self, reader, writer):
        self.reader = reader
        self.writer = writer

    @classmethod
    async def connect(cls, port, context, user, password):
        reader, writer = await asyncio.open_connection("127.0.0.1", port, limit=1 << 20)
        client = cls(reader, writer)
        await client.expect(220)
        await client.send_expect("EHLO soak.example", 250)
        await client.send_expect("STARTTLS", 220)
        await writer.start_tls(context, server_hostname="localhost")
        await client.send_expect("EHLO soak.example", 250)
        token = base64.b64encode(f"\0{user}\0{password}".encode()).decode()
        await client.send_expect("AUTH PLAIN " + token, 235, shown="AUTH PLAIN ***")
        return client

    async def reply(self):
        lines = []
        while True:
            line = await self.reader.readline()
            if not line:
                raise ProtocolError("SMTP connection closed by the bridge")
            lines.append(line.decode("utf-8", "replace").rstrip("\r\n"))
            if len(line) < 4 or line[3:4] != b"-":
                return int(lines[-1][:3]), lines

    async def expect(self, code, what="greeting"):
        got, lines = await self.reply()
        if got != code:
            raise ProtocolError(f"SMTP {what} -> {' | '.join(lines)[:300]}")
        return lines

    async def send_expect(self, text, code, shown=None):
        self.writer.write(text.encode() + b"\r\n")
        await self.writer.drain()
        return await self.expect(code, shown or text)

    async def send_message(self, sender, recipients, data):
        await self.send_expect(f"MAIL FROM:<{sender}>", 250)
        for recipient in recipients:
            await self.send_expect(f"RCPT TO:<{recipient}>", 250)
        await self.send_expect("DATA", 354)
        stuffed = re.sub(rb"(?m)^\.", b"..", data)
        if not stuffed.endswith(b"\r\n"):
            stuffed += b"\r\n"
        self.writer.write(stuffed + b".\r\n")
        await self.writer.drain()
        return await self.expect(250, "end of DATA")

    async def quit(self):
        try:
            await self.send_expect("QUIT", 221)
        finally:
            self.close()

    def close(self):
        try:
            self.writer.close()
        except Exception:  # noqa: BLE001
            pass


# ---- the world ------------------------------------------------------------------------------

def corpus_files():
    files = []
    with open(os.path.join(CORPUS, "MANIFEST.tsv")) as manifest:
        next(manifest)
        for line in manifest:
            name = line.split("\t", 1)[0]
            if name.endswith(".eml"):
                files.append(os.path.join(CORPUS, name))
    if not files:
        raise SystemExit(f"no messages listed in {CORPUS}/MANIFEST.tsv")
    return files


def account_address(i):
    return f"soak{i:02}@soak-mail.example"


def write_seed(root, files, messages, offset):
    os.makedirs(os.path.join(root, APPEND_FOLDER), exist_ok=True)
    for n in range(messages):
        shutil.copyfile(files[(n + offset) % len(files)], os.path.join(root, f"{n:05}.eml"))
    for n in range(5):
        shutil.copyfile(files[(n + offset) % len(files)], os.path.join(root, APPEND_FOLDER, f"{n:05}.eml"))


def make_world(args, home):
    import imap_harness as H

    class SoakWorld(H.ImapWorld):
        """ImapWorld with SMTP on a free port, info logging (debug lines for 1,000 connections
        would be most of the run's CPU) and a realistic IDLE poll."""

        def write_config(self):
            path = super().write_config()
            with open(path) as f:
                text = f.read()
            text = text.replace("  level: debug\n", "  level: info\n")
            text = re.sub(r"sync:\n(  .*\n)+", "sync:\n  poll_interval: 10s\n  idle_poll_interval: 2s\n", text)
            with open(path, "w") as f:
                f.write(text)
            return path

    files = corpus_files()
    emulator_args = ["--threads", "4"]
    for i in range(args.accounts):
        seed = home.file("seed", f"{i}")
        write_seed(seed, files, args.messages, i * 7)
        emulator_args += ["--user", f"{account_address(i)}:password-{i}", "--seed", f"{account_address(i)}={seed}"]
    return SoakWorld(home, emulator_args=emulator_args)


def sign_in_all(world, accounts):
    import signin_harness as S
    passwords = {}
    world.start_bridge()
    for i in range(accounts):
        address = account_address(i)
        page, _ = world.sign_in(world.browser(), login=address, password=f"password-{i}")
        if page.status != 200:
            raise SystemExit(f"signing {address} in failed: {page.status} {page.text[:500]}")
        passwords[address] = S.extract(PASSWORD_RE, page.text)
    world.imaps_port = int(world.bridge.wait_for_log(r"imaps listening\W.*?address=127\.0\.0\.1:(\d+)").group(1))
    return passwords


def rss_kib(pid):
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1])
    except OSError:
        pass
    return None


def wal_bytes(data_dir):
    """Bytes in the bridge's RocksDB write-ahead logs: what its memtables hold until a flush."""
    total = 0
    directory = os.path.join(data_dir, "db")
    try:
        for name in os.listdir(directory):
            if name.endswith(".log"):
                try:
                    total += os.path.getsize(os.path.join(directory, name))
                except OSError:
                    pass  # flushed and deleted in between
    except OSError:
        pass
    return total


def metrics(world):
    response = world.browser().get(world.public_url + "/metrics")
    if response.status != 200:
        raise ProtocolError(f"/metrics answered {response.status}")
    values = {}
    for line in response.text.splitlines():
        if line and not line.startswith("#"):
            name, _, value = line.rpartition(" ")
            try:
                values[name] = float(value)
            except ValueError:
                pass
    return values


# ---- the load ---------------------------------------------------------------------------------

class Soak:
    def __init__(self, args, world, passwords):
        self.args = args
        self.world = world
        self.passwords = passwords
        self.accounts = list(passwords)
        self.context = ssl.create_default_context(cafile=world.cert())
        self.stats = Stats()
        self.run_id = f"{int(time.time())}-{os.getpid()}"
        self.stop = asyncio.Event()        # the load phase is over
        self.idle_stop = asyncio.Event()   # the IDLE check is over
        self.appended = collections.defaultdict(list)   # account -> Message-IDs APPENDed (OK)
        self.smtp_accepted = []   # (sender, recipients, message-id)
        self.smtp_attempted = 0
        self.idlers = []          # (account, Imap) currently in IDLE
        self.rss = {"bridge": [], "emulator": [], "wal": []}
        self.connections_open = 0
        self.connections_peak = 0
        self.reconnects = 0

    # -- helpers --

    async def timed(self, name, coroutine):
        started = time.perf_counter()
        try:
            result = await asyncio.wait_for(coroutine, COMMAND_TIMEOUT)
        except asyncio.TimeoutError:
            raise ProtocolError(f"{name}: no answer within {COMMAND_TIMEOUT:.0f} s") from None
        self.stats.record(name, time.perf_counter() - started)
        return result

    async def open_imap(self, account):
        client = await self.timed("CONNECT", Imap.connect(self.world.imaps_port, self.context))
        try:
            await self.timed("LOGIN", client.command(f'LOGIN "{account}" "{self.passwords[account]}"'))
            await self.timed("SELECT", client.command("SELECT INBOX"))
        except BaseException:
            client.close()
            raise
        self.connections_open += 1
        self.connections_peak = max(self.connections_peak, self.connections_open)
        return client

    async def close_imap(self, client, logout=True, name="LOGOUT"):
        try:
            if logout:
                await self.timed(name, client.command("LOGOUT"))
        finally:
            self.connections_open -= 1
            client.close()

    async def think(self, mean):
        # Uniform on [0.2 mean, 1.8 mean]: the mean holds, no synchronised bursts.
        try:
            await asyncio.wait_for(self.stop.wait(), random.uniform(0.2 * mean, 1.8 * mean))
        except asyncio.TimeoutError:
            pass

    # -- active IMAP connections --

    async def active_connection(self, number, account, start_delay):
        await asyncio.sleep(start_delay)
        rng = random.Random(number)
        names = [name for name, _ in self.args.mix]
        weights = [weight for _, weight in self.args.mix]
        client = None
        try:
            client = await self.open_imap(account)
            uids = search_uids(await self.timed("SEARCH", client.command("UID SEARCH ALL")))
            appends = 0
            done = 0
            while not self.stop.is_set():
                await self.think(self.args.think)
                if self.stop.is_set():
                    break
                action = rng.choices(names, weights)[0]
                done += 1
                if done % 50 == 0 or not uids:
                    uids = search_uids(await self.timed("SEARCH", client.command("UID SEARCH ALL"))) or uids
                if not uids:
                    raise ProtocolError(f"INBOX of {account} is empty")
                uid = rng.choice(uids)
                if action == "NOOP":
                    await self.timed("NOOP", client.command("NOOP"))
                elif action == "FETCH_FLAGS":
                    await self.timed("FETCH_FLAGS", client.command(f"UID FETCH {uid}:{uid + 50} (UID FLAGS)"))
                elif action == "FETCH_ENVELOPE":
                    await self.timed("FETCH_ENVELOPE", client.command(
                        f"UID FETCH {uid}:{uid + 20} (UID FLAGS RFC822.SIZE INTERNALDATE ENVELOPE)"))
                elif action == "FETCH_BODY":
                    lines = await self.timed("FETCH_BODY", client.command(f"UID FETCH {uid} (BODY.PEEK[])"))
                    if not any(b"BODY[] {" in line or b"BODY[] \"" in line for line in lines):
                        raise ProtocolError(f"UID FETCH {uid} (BODY.PEEK[]) in {account} returned no body")
                elif action == "SEARCH":
                    query = rng.choice(["UNSEEN", "FLAGGED", 'SUBJECT "test"', "SINCE 1-Jan-2020",
                                        'FROM "example"', "LARGER 2000", f"UID {uid}:*"])
                    await self.timed("SEARCH", client.command("UID SEARCH " + query))
                elif action == "STORE":
                    sign = rng.choice("+-")
                    flag = rng.choice(["\\Flagged", "\\Seen", "$Soak"])
                    await self.timed("STORE", client.command(f"UID STORE {uid} {sign}FLAGS ({flag})"))
                elif action == "APPEND":
                    appends += 1
                    message_id = f"<append-{self.run_id}-{number}-{appends}@soak.example>"
                    body = (f"From: Soak <soak@soak.example>\r\nTo: {account}\r\n"
                            f"Subject: soak append {number}/{appends}\r\n"
                            f"Date: {email.utils.formatdate(localtime=False)}\r\n"
                            f"Message-ID: {message_id}\r\nMIME-Version: 1.0\r\n"
                            f"Content-Type: text/plain; charset=utf-8\r\n\r\n"
                            + f"appended by connection {number}\r\n" * rng.randint(1, 40)).encode()
                    await self.timed("APPEND", client.command(f"APPEND {APPEND_FOLDER} (\\Seen)", literal=body))
                    self.appended[account].append(message_id)
                elif action == "SELECT":
                    await self.timed("SELECT", client.command(f"EXAMINE {APPEND_FOLDER}"))
                    await self.timed("SELECT", client.command("SELECT INBOX"))
                elif action == "RECONNECT":
                    await self.close_imap(client)
                    client = None
                    self.reconnects += 1
                    client = await self.open_imap(account)
            # Every active connection logs out within the same second when the run stops: a burst
            # measured apart from the reconnects' LOGOUTs, which are spread over the run.
            await self.close_imap(client, name=LOGOUT_AT_STOP)
            client = None
        except Exception as error:  # noqa: BLE001 - any failure of a connection is an error of the run
            self.stats.error(f"imap #{number} ({account}): {error!r}")
        finally:
            if client is not None:
                self.connections_open -= 1
                client.close()

    # -- IDLE connections --

    async def idle_connection(self, number, account, start_delay):
        await asyncio.sleep(start_delay)
        rng = random.Random(number)
        client = None
        entry = None
        try:
            client = await self.open_imap(account)
            entry = [account, client]
            self.idlers.append(entry)
            while True:
                client.tag += 1
                tag = f"s{client.tag}".encode()
                started = time.perf_counter()
                client.writer.write(tag + b" IDLE\r\n")
                await client.writer.drain()
                line = await asyncio.wait_for(client.read_line(), COMMAND_TIMEOUT)
                while not line.startswith(b"+"):
                    if line.startswith(tag + b" "):
                        raise ProtocolError(f"IDLE -> {line[:300]!r}")
                    line = await asyncio.wait_for(client.read_line(), COMMAND_TIMEOUT)
                self.stats.record("IDLE", time.perf_counter() - started)
                # Stay in IDLE for a minute or two (clients re-issue it before 29 minutes; shorter
                # here so DONE gets exercised), reading whatever the bridge pushes meanwhile.
                until = time.monotonic() + rng.uniform(60, 120)
                reader = asyncio.ensure_future(self.read_idle(client))
                waiter = asyncio.ensure_future(self.idle_stop.wait())
                await asyncio.wait([reader, waiter], timeout=max(0.0, until - time.monotonic()),
                                   return_when=asyncio.FIRST_COMPLETED)
                if reader.done():
                    waiter.cancel()
                    reader.result()  # raises what ended it
                reader.cancel()
                waiter.cancel()
                try:
                    await reader
                except asyncio.CancelledError:
                    pass
                started = time.perf_counter()
                client.writer.write(b"DONE\r\n")
                await client.writer.drain()
                while True:
                    line = await asyncio.wait_for(client.read_line(), COMMAND_TIMEOUT)
                    if line.startswith(tag + b" "):
                        if not line.startswith(tag + b" OK"):
                            raise ProtocolError(f"IDLE DONE -> {line[:300]!r}")
                        break
                self.stats.record("DONE", time.perf_counter() - started)
                if self.idle_stop.is_set():
                    break
            self.idlers.remove(entry)
            entry = None
            await self.close_imap(client, name=LOGOUT_AT_STOP)
            client = None
        except Exception as error:  # noqa: BLE001 - any failure of a connection is an error of the run
            self.stats.error(f"idle #{number} ({account}): {error!r}")
        finally:
            if entry is not None:
                self.idlers.remove(entry)
            if client is not None:
                self.connections_open -= 1
                client.close()

    @staticmethod
    async def read_idle(client):
        while True:
            line = await client.read_line()
            if line.startswith(b"* BYE"):
                raise ProtocolError(f"BYE during IDLE: {line[:200]!r}")

    # -- SMTP senders --

    async def smtp_sender(self, number, start_delay):
        await asyncio.sleep(start_delay)
        rng = random.Random(10_000 + number)
        sender = self.accounts[number % len(self.accounts)]
        others = [a for a in self.accounts if a != sender]
        client = None
        sent = 0
        try:
            while not self.stop.is_set():
                await self.think(self.args.smtp_think)
                if self.stop.is_set():
                    break
                if client is None:
                    client = await self.timed("SMTP_CONNECT", Smtp.connect(
                        self.world.smtp_port, self.context, sender, self.passwords[sender]))
                sent += 1
                message_id = f"<smtp-{self.run_id}-{number}-{sent}@soak.example>"
                choice = rng.random()
                recipients = []
                if others and choice < 0.75:
                    recipients.append(rng.choice(others))
                if choice >= 0.5 or not others:
                    recipients.append(f"outside-{rng.randint(1, 50)}@elsewhere.example")
                data = (f"From: {sender}\r\nTo: {', '.join(recipients)}\r\n"
                        f"Subject: soak smtp {number}/{sent}\r\n"
                        f"Date: {email.utils.formatdate(localtime=False)}\r\n"
                        f"Message-ID: {message_id}\r\nMIME-Version: 1.0\r\n"
                        f"Content-Type: text/plain; charset=utf-8\r\n\r\n"
                        + f"line of soak message {sent}\r\n" * rng.randint(1, 200)
                        + ".leading dot survives stuffing\r\n").encode()
                self.smtp_attempted += 1
                await self.timed("SMTP_SEND", client.send_message(sender, recipients, data))
                self.smtp_accepted.append((sender, recipients, message_id))
                if sent % 25 == 0:  # clients reconnect now and then
                    await client.quit()
                    client = None
            if client is not None:
                await client.quit()
                client = None
        except Exception as error:  # noqa: BLE001 - any failure of a connection is an error of the run
            self.stats.error(f"smtp #{number} ({sender}): {error!r}")
        finally:
            if client is not None:
                client.close()

    # -- RSS --

    async def sample_rss(self, started):
        pids = {"bridge": self.world.bridge.process.pid, "emulator": self.world.emulator.process.pid}
        while not self.idle_stop.is_set():
            now = time.monotonic() - started
            for name, pid in pids.items():
                kib = rss_kib(pid)
                if kib is not None:
                    self.rss[name].append((now, kib / 1024.0))
            self.rss["wal"].append((now, wal_bytes(self.world.data_dir()) / 1048576.0))
            try:
                await asyncio.wait_for(self.idle_stop.wait(), self.args.rss_interval)
            except asyncio.TimeoutError:
                pass

    async def sample_memory_parts(self, started):
        """What the bridge says its memory is made of (/metrics): live heap, heap the allocator
        keeps after free, and RocksDB's parts. Against RSS, this tells a leak (in_use grows)
        from caches filling (store parts grow to their bounds) and from allocator retention."""
        loop = asyncio.get_running_loop()
        parts = {"heap_in_use": 'mailtrixy_heap_bytes{state="in_use"}',
                 "heap_free": 'mailtrixy_heap_bytes{state="free"}',
                 "store_block_cache": 'mailtrixy_store_memory_bytes{part="block_cache"}',
                 "store_memtables": 'mailtrixy_store_memory_bytes{part="memtables"}',
                 "store_table_readers": 'mailtrixy_store_memory_bytes{part="table_readers"}',
                 "structure_cache": "mailtrixy_imap_structure_cache_bytes"}
        while not self.idle_stop.is_set():
            now = time.monotonic() - started
            try:
                values = await loop.run_in_executor(None, metrics, self.world)
            except Exception as error:  # noqa: BLE001 - a missed sample is reported, not fatal
                self.stats.error(f"/metrics during the run: {error}")
                values = {}
            for name, series in parts.items():
                if series in values:
                    self.rss.setdefault(name, []).append((now, values[series] / 1048576.0))
            try:
                await asyncio.wait_for(self.idle_stop.wait(), self.args.metrics_interval)
            except asyncio.TimeoutError:
                pass

    # -- the run --

    async def run(self):
        args = self.args
        started = time.monotonic()
        self.run_started = started
        sampler = asyncio.ensure_future(self.sample_rss(started))
        parts_sampler = asyncio.ensure_future(self.sample_memory_parts(started))
        tasks = []
        idle_every = max(1, round(1 / IDLE_FRACTION)) if IDLE_FRACTION > 0 else 0
        for n in range(args.connections):
            account = self.accounts[n % len(self.accounts)]
            delay = args.ramp * n / args.connections
            # Every account gets its share of IDLE connections: n // accounts picks the role.
            is_idle = idle_every and (n // len(self.accounts)) % 10 < IDLE_FRACTION * 10
            tasks.append(asyncio.ensure_future(
                (self.idle_connection if is_idle else self.active_connection)(n, account, delay)))
        smtp_tasks = [asyncio.ensure_future(self.smtp_sender(n, args.ramp * n / max(1, args.smtp_senders)))
                      for n in range(args.smtp_senders)]
        await asyncio.sleep(args.seconds)
        self.load_ended = time.monotonic() - started
        self.stop.set()
        await asyncio.gather(*smtp_tasks)
        active = [t for t in tasks]  # IDLE tasks keep going until the IDLE check
        self.idle_tasks = tasks
        await self.wait_for_quiet()
        await self.check_idlers()
        self.idle_stop.set()
        await asyncio.gather(*active)
        await sampler
        await parts_sampler

    async def wait_for_quiet(self):
        """Waits for the outbox to drain (every 250 delivered to Microsoft)."""
        deadline = time.monotonic() + 180
        loop = asyncio.get_running_loop()
        self.queue_metrics = {}
        while True:
            try:
                values = await loop.run_in_executor(None, metrics, self.world)
            except Exception as error:  # noqa: BLE001
                self.stats.error(f"/metrics: {error}")
                return
            self.queue_metrics = {k: v for k, v in values.items() if k.startswith("mailtrixy_queue")}
            if (values.get("mailtrixy_queue_messages", -1) == 0
                    and values.get("mailtrixy_queue_sent_total", 0) + values.get("mailtrixy_queue_found_sent_total", 0)
                    >= len(self.smtp_accepted)):
                return
            if time.monotonic() > deadline:
                self.stats.error(f"the outbox did not drain within 180 s: {self.queue_metrics}")
                return
            await asyncio.sleep(1)

    async def inbox_count(self, account):
        client = await Imap.connect(self.world.imaps_port, self.context)
        try:
            await client.command(f'LOGIN "{account}" "{self.passwords[account]}"')
            await client.command("EXAMINE INBOX")
            await client.command("LOGOUT")
            return client.exists
        finally:
            client.close()

    async def check_idlers(self):
        """Once mail stops arriving, each IDLE connection must report what a fresh SELECT reports."""
        expected = {}
        deadline = time.monotonic() + 60
        while True:
            # The sync may still be bringing in the last deliveries: count until two reads agree.
            counts = {a: await self.inbox_count(a) for a in self.accounts}
            if counts == expected:
                break
            expected = counts
            if time.monotonic() > deadline:
                break
            await asyncio.sleep(3)
        self.inbox_counts = expected
        late = []
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            late = [(a, c.exists) for a, c in self.idlers if c.exists != expected.get(a)]
            if not late:
                break
            await asyncio.sleep(1)
        for account, exists in late[:20]:
            self.stats.error(f"an IDLE connection of {account} shows {exists} EXISTS, a fresh SELECT {expected.get(account)}")
        if len(late) > 20:
            self.stats.error(f"... and {len(late) - 20} more IDLE connections behind")
        self.idlers_checked = len(self.idlers)
        self.idle_exists_events = sum(c.exists_events for _, c in self.idlers)

    # -- accounting --

    async def find_by_message_id(self, account, folder, message_ids, what):
        """Errors for every Message-ID not found exactly once in `folder` (UID SEARCH HEADER)."""
        if not message_ids:
            return 0
        client = await Imap.connect(self.world.imaps_port, self.context)
        found = 0
        try:
            await client.command(f'LOGIN "{account}" "{self.passwords[account]}"')
            deadline = time.monotonic() + 60
            pending = list(message_ids)
            while True:
                await client.command(f"EXAMINE {folder}")
                missing = []
                for message_id in pending:
                    uids = search_uids(await client.command(f'UID SEARCH HEADER Message-ID "{message_id}"'))
                    if len(uids) == 1:
                        found += 1
                    elif len(uids) > 1:
                        found += 1
                        self.stats.error(f"{what} {message_id} is in {account}/{folder} {len(uids)} times")
                    else:
                        missing.append(message_id)
                if not missing or time.monotonic() > deadline:
                    break
                pending = missing  # the sync may still be on its way: look again
                await asyncio.sleep(3)
            for message_id in missing[:20]:
                self.stats.error(f"{what} {message_id} is missing from {account}/{folder}")
            if len(missing) > 20:
                self.stats.error(f"... and {len(missing) - 20} more {what} messages missing from {account}/{folder}")
            await client.command("LOGOUT")
        finally:
            client.close()
        return found

    async def account_for_everything(self):
        loop = asyncio.get_running_loop()
        self.accounting = {"smtp_attempted": self.smtp_attempted, "smtp_accepted": len(self.smtp_accepted),
                           "smtp_in_sent_exactly_once": 0, "smtp_to_accounts": 0,
                           "smtp_delivered_to_accounts": 0, "appended": 0, "appended_found": 0}
        # 1. Microsoft's record of what was sent, per sender.
        by_sender = collections.defaultdict(list)
        for sender, recipients, message_id in self.smtp_accepted:
            by_sender[sender].append((recipients, message_id))
        for sender, items in by_sender.items():
            status, records = await loop.run_in_executor(
                None, self.world.emulator.control, "GET", f"/users/{urllib.parse.quote(sender)}/sent")
            if status != 200:
                self.stats.error(f"/_emulator/users/{sender}/sent answered {status}")
                continue
            seen = collections.defaultdict(list)
            for record in records:
                mime = base64.b64decode(record["mime_base64"])
                parsed = email.message_from_bytes(mime, policy=email.policy.compat32)
                seen[(parsed["Message-ID"] or "").strip()].append(sorted(r.lower() for r in record["recipients"]))
            for recipients, message_id in items:
                copies = seen.get(message_id, [])
                if len(copies) == 1 and copies[0] == sorted(r.lower() for r in recipients):
                    self.accounting["smtp_in_sent_exactly_once"] += 1
                elif not copies:
                    self.stats.error(f"SMTP message {message_id} from {sender} was accepted but never sent")
                elif len(copies) > 1:
                    self.stats.error(f"SMTP message {message_id} from {sender} was sent {len(copies)} times")
                else:
                    self.stats.error(f"SMTP message {message_id} went to {copies[0]}, not {sorted(recipients)}")
        # 2. Delivery to the accounts, seen through the bridge; 3. APPENDs.
        to_account = collections.defaultdict(list)
        for _, recipients, message_id in self.smtp_accepted:
            for recipient in recipients:
                if recipient in self.passwords:
                    to_account[recipient].append(message_id)
        self.accounting["smtp_to_accounts"] = sum(len(v) for v in to_account.values())
        self.accounting["appended"] = sum(len(v) for v in self.appended.values())
        jobs = []
        for account in self.accounts:
            jobs.append(self.find_by_message_id(account, "INBOX", to_account.get(account, []), "SMTP message"))
            jobs.append(self.find_by_message_id(account, APPEND_FOLDER, self.appended.get(account, []), "APPENDed"))
        results = await asyncio.gather(*jobs, return_exceptions=True)
        for i, result in enumerate(results):
            if isinstance(result, BaseException):
                self.stats.error(f"accounting for {self.accounts[i // 2]}: {result!r}")
            elif i % 2 == 0:
                self.accounting["smtp_delivered_to_accounts"] += result
            else:
                self.accounting["appended_found"] += result


# ---- the verdict and the report -------------------------------------------------------------------

def leak_verdict(samples, load_started, load_ended, warmup, threshold):
    """RSS of the load phase after warm-up: slope of a least-squares line (MiB/min).

    Why the threshold (default 2 MiB/min) is where it is: the run makes on the order of 10,000
    IMAP commands, 300 connection set-ups and 300 SMTP messages a minute. A leak of 200 bytes per
    command, or 7 KiB per connection, or one 20-KiB message copy per SMTP message, is already
    2 MiB/min, so anything real shows; and a bridge with flat memory still moves by a few MiB over
    minutes (RocksDB memtables filling and flushing, allocator arenas, the caches growing with the
    thousands of messages the run adds), which is why the line is fit over all samples rather than
    end minus start, and why the window must be long enough (at least 60 s after warm-up) to be
    judged at all.
    """
    window = [(t, v) for t, v in samples if load_started + (load_ended - load_started) * warmup <= t <= load_ended]
    if not window:
        return {"judged": False, "reason": "no samples after warm-up"}
    span = window[-1][0] - window[0][0]
    slope = slope_per_minute(window)
    verdict = {"window_seconds": round(span, 1), "slope_mib_per_min": round(slope, 3),
               "threshold_mib_per_min": threshold, "after_warmup_mib": round(window[0][1], 1),
               "end_mib": round(window[-1][1], 1)}
    if span < 60:
        verdict.update(judged=False, reason="less than 60 s after warm-up: too short to judge a slope")
    else:
        verdict.update(judged=True, leak=slope > threshold)
    return verdict


def less_store_caches(rss, block_cache, memtables):
    """The bridge's RSS minus what RocksDB reports holding in its block cache and memtables, at
    each /metrics sample (paired with the nearest RSS sample).

    Why this is what the leak check judges: both parts are bounded and exactly accounted by
    RocksDB itself (an LRU cache of fixed capacity, 32 MiB; memtables flushed at
    db_write_buffer_size, 16 MiB), so neither can leak, but under a write load they take many
    minutes to reach their bounds: the block cache keeps blocks of table files that compaction
    has since replaced until capacity pushes them out. Everything else the process holds, our
    own code's memory included, stays in the series in full.
    """
    if not rss or not block_cache or not memtables:
        return []
    out = []
    for (t, cache), (_, tables) in zip(block_cache, memtables):
        nearest = min(rss, key=lambda sample: abs(sample[0] - t))
        if abs(nearest[0] - t) <= 5:
            out.append((t, nearest[1] - cache - tables))
    return out


def summarize(name, samples):
    values = [v for _, v in samples]
    if not values:
        return {}
    return {"start_mib": round(values[0], 1), "peak_mib": round(max(values), 1), "end_mib": round(values[-1], 1),
            "samples": len(values)}


def build_report(args, soak, emulator_stats, setup_seconds):
    # Whole run, and after warm-up: the ramp (1,000 TLS handshakes and scrypt-checked logins in
    # --ramp seconds) dominates the whole-run tail; the steady numbers are latency under load.
    steady_from = soak.run_started + soak.load_ended * args.warmup
    commands = {}
    for name, timed in sorted(soak.stats.latencies.items()):
        values = [seconds for _, seconds in timed]
        steady = [seconds for at, seconds in timed if at >= steady_from]
        commands[name] = {"count": len(values), "p50_ms": round(percentile(values, 50) * 1000, 1),
                          "p99_ms": round(percentile(values, 99) * 1000, 1),
                          "max_ms": round(max(values) * 1000, 1),
                          "steady_count": len(steady),
                          "steady_p50_ms": round(percentile(steady, 50) * 1000, 1),
                          "steady_p99_ms": round(percentile(steady, 99) * 1000, 1)}
    bridge_raw = leak_verdict(soak.rss["bridge"], 0.0, soak.load_ended, args.warmup, args.leak_mib_per_min)
    bridge_raw.pop("leak", None)  # informational: see less_store_caches()
    judged = less_store_caches(soak.rss["bridge"], soak.rss.get("store_block_cache"), soak.rss.get("store_memtables"))
    bridge_leak = leak_verdict(judged, 0.0, soak.load_ended, args.warmup, args.leak_mib_per_min)
    emulator_leak = leak_verdict(soak.rss["emulator"], 0.0, soak.load_ended, args.warmup, args.leak_mib_per_min)
    bridge_rss = summarize("bridge", soak.rss["bridge"])
    bridge_rss["after_warmup_mib"] = bridge_raw.get("after_warmup_mib")
    emulator_rss = summarize("emulator", soak.rss["emulator"])
    emulator_rss["after_warmup_mib"] = emulator_leak.get("after_warmup_mib")
    # What the bridge's memory is made of, after warm-up (informational: the verdict is RSS's).
    memory_parts = {}
    for name in ("heap_in_use", "heap_free", "store_block_cache", "store_memtables", "store_table_readers",
                 "structure_cache"):
        part = leak_verdict(soak.rss.get(name, []), 0.0, soak.load_ended, args.warmup, args.leak_mib_per_min)
        if "slope_mib_per_min" in part:
            memory_parts[name] = {key: part[key] for key in ("after_warmup_mib", "end_mib", "slope_mib_per_min")}
    acc = soak.accounting
    loss = []
    if acc["smtp_in_sent_exactly_once"] != acc["smtp_accepted"]:
        loss.append("SMTP messages not sent exactly once")
    if acc["smtp_delivered_to_accounts"] != acc["smtp_to_accounts"]:
        loss.append("SMTP messages not delivered to the accounts")
    if acc["appended_found"] != acc["appended"]:
        loss.append("APPENDed messages not found")
    failures = []
    if soak.stats.error_count:
        failures.append(f"{soak.stats.error_count} errors")
    failures += loss
    if bridge_leak.get("leak"):
        failures.append(f"bridge RSS less the store's caches grows {bridge_leak['slope_mib_per_min']} MiB/min "
                        "after warm-up")
    if soak.connections_peak < args.connections:
        failures.append(f"only {soak.connections_peak} of {args.connections} connections were open at once")
    total_commands = sum(len(v) for v in soak.stats.latencies.values())
    return {
        "parameters": {"seconds": args.seconds, "connections": args.connections, "accounts": args.accounts,
                       "smtp_senders": args.smtp_senders, "seeded_per_inbox": args.messages,
                       "think_s": args.think, "smtp_think_s": args.smtp_think, "ramp_s": args.ramp,
                       "idle_fraction": IDLE_FRACTION, "mix": dict(args.mix)},
        "setup_seconds": round(setup_seconds, 1),
        "load_seconds": round(soak.load_ended, 1),
        "load_average": os.getloadavg(),
        "connections": {"peak_open": soak.connections_peak, "reconnects": soak.reconnects,
                        "idle_checked": getattr(soak, "idlers_checked", 0),
                        "idle_exists_updates": getattr(soak, "idle_exists_events", 0)},
        "commands": commands,
        "commands_total": total_commands,
        "commands_per_second": round(total_commands / max(soak.load_ended, 0.001), 1),
        "errors": {"count": soak.stats.error_count, "first": soak.stats.errors[:50]},
        "messages": dict(acc, inbox_counts=getattr(soak, "inbox_counts", {})),
        "outbox": soak.queue_metrics,
        "rss": {"bridge": bridge_rss, "emulator": emulator_rss},
        "leak": {"bridge_less_store_caches": bridge_leak, "bridge_rss_informational": bridge_raw,
                 "emulator_informational": emulator_leak},
        "memory_parts": memory_parts,
        "samples": {name: [[round(t, 1), round(v, 2)] for t, v in values] for name, values in soak.rss.items()},
        "emulator_stats": emulator_stats,
        "failures": failures,
        "passed": not failures,
    }


def print_report(report):
    p = report["parameters"]
    print("\n==== mailtrixy soak report ====")
    print(f"load: {p['connections']} IMAP connections over {p['accounts']} accounts "
          f"({int(p['idle_fraction'] * 100)}% in IDLE), {p['smtp_senders']} SMTP senders, "
          f"{report['load_seconds']} s (set-up {report['setup_seconds']} s); "
          f"load average at the end {', '.join(f'{x:.2f}' for x in report['load_average'])}")
    c = report["connections"]
    print(f"connections: peak open {c['peak_open']}, reconnects {c['reconnects']}, IDLE connections checked "
          f"{c['idle_checked']} ({c['idle_exists_updates']} EXISTS updates received)")
    print(f"commands: {report['commands_total']} ({report['commands_per_second']}/s)")
    print(f"  {'':<16}{'whole run':>39}   {'after warm-up':>29}")
    print(f"  {'command':<16}{'count':>9}{'p50 ms':>10}{'p99 ms':>10}{'max ms':>10}   "
          f"{'count':>9}{'p50 ms':>10}{'p99 ms':>10}")
    for name, row in report["commands"].items():
        print(f"  {name:<16}{row['count']:>9}{row['p50_ms']:>10}{row['p99_ms']:>10}{row['max_ms']:>10}   "
              f"{row['steady_count']:>9}{row['steady_p50_ms']:>10}{row['steady_p99_ms']:>10}")
    m = report["messages"]
    print(f"messages: SMTP attempted {m['smtp_attempted']}, accepted (250) {m['smtp_accepted']}, "
          f"sent exactly once at Microsoft {m['smtp_in_sent_exactly_once']}; "
          f"to accounts {m['smtp_to_accounts']}, delivered (found once in INBOX) {m['smtp_delivered_to_accounts']}; "
          f"APPENDed {m['appended']}, found once {m['appended_found']}")
    print(f"outbox: {report['outbox']}")
    for name in ("bridge", "emulator"):
        r = report["rss"][name]
        if r:
            print(f"RSS {name}: start {r['start_mib']} MiB, after warm-up {r['after_warmup_mib']} MiB, "
                  f"end {r['end_mib']} MiB, peak {r['peak_mib']} MiB ({r['samples']} samples)")
    for name, leak in report["leak"].items():
        print(f"leak check {name}: {leak}")
    for name, part in report["memory_parts"].items():
        print(f"bridge {name}: after warm-up {part['after_warmup_mib']} MiB, end {part['end_mib']} MiB, "
              f"slope {part['slope_mib_per_min']} MiB/min")
    e = report["emulator_stats"] or {}
    print(f"emulator: graph_requests {e.get('graph_requests')}, batch_items {e.get('batch_items')}, "
          f"token_requests {e.get('token_requests')}, throttled {e.get('throttled')}, "
          f"max_in_flight {e.get('max_in_flight')}")
    top = sorted((e.get("by_route") or {}).items(), key=lambda kv: -kv[1])[:8]
    for route, count in top:
        print(f"  {count:>8}  {route}")
    errors = report["errors"]
    print(f"errors: {errors['count']}")
    for line in errors["first"][:20]:
        print(f"  {line}")
    print("PASSED" if report["passed"] else "FAILED: " + "; ".join(report["failures"]))


def raise_file_limit(connections):
    # Client sockets here and as many in the bridge (it inherits the limit), plus RocksDB's files.
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    wanted = min(hard, max(soft, 3 * connections + 1024))
    resource.setrlimit(resource.RLIMIT_NOFILE, (wanted, hard))
    if wanted < 2 * connections + 256:
        raise SystemExit(f"the open-file limit is {hard}; {connections} connections need about "
                         f"{2 * connections + 256}: raise it (ulimit -Hn) or use fewer --connections")


def main(argv=None):
    args = parse_args(argv)
    build = os.path.abspath(args.build)
    for binary in ("mailtrixy", "mailtrixy-emulator"):
        if not os.access(os.path.join(build, binary), os.X_OK):
            print(f"soak: {build}/{binary} does not exist; build it first "
                  f"(cmake --build {args.build} --target mailtrixy mailtrixy-emulator)", file=sys.stderr)
            return 2
    os.environ["MAILTRIXY_BIN"] = os.path.join(build, "mailtrixy")
    os.environ["MAILTRIXY_EMULATOR_BIN"] = os.path.join(build, "mailtrixy-emulator")
    os.environ.setdefault("MAILTRIXY_SOURCE_DIR", SOURCE_DIR)
    raise_file_limit(args.connections)

    import harness
    home = harness.TempHome()
    world = None
    report = None
    try:
        setup_started = time.monotonic()
        world = make_world(args, home)
        passwords = sign_in_all(world, args.accounts)
        print(f"soak: {args.accounts} accounts signed in; waiting for the initial sync", flush=True)
        soak = Soak(args, world, passwords)

        async def wait_for_sync():
            deadline = time.monotonic() + 300
            for account in soak.accounts:
                while await soak.inbox_count(account) != args.messages:
                    if time.monotonic() > deadline:
                        raise SystemExit(f"soak: the initial sync of {account} did not finish within 300 s")
                    await asyncio.sleep(1)
        asyncio.run(wait_for_sync())
        setup_seconds = time.monotonic() - setup_started
        world.emulator.control("POST", "/stats/reset")
        print(f"soak: running {args.connections} IMAP connections and {args.smtp_senders} SMTP senders "
              f"for {args.seconds:.0f} s", flush=True)

        async def whole_run():
            await soak.run()
            await soak.account_for_everything()
        asyncio.run(whole_run())
        _, emulator_stats = world.emulator.control("GET", "/stats")
        if world.bridge.process.poll() is not None:
            soak.stats.error(f"the bridge exited with {world.bridge.process.returncode}")
        report = build_report(args, soak, emulator_stats, setup_seconds)
        # The bridge's own complaints, for the reader (the client-side checks above decide).
        levels = collections.Counter()
        complaints = []
        for line in list(world.bridge.lines):
            match = re.match(r"\S+ (warn|error) ", line)
            if match:
                levels[match.group(1)] += 1
                if len(complaints) < 20:
                    complaints.append(line.rstrip()[:400])
        report["bridge_log"] = {"warn_lines": levels["warn"], "error_lines": levels["error"], "first": complaints}
        print_report(report)
        print(f"bridge log: {levels['error']} error and {levels['warn']} warn lines")
        for line in complaints[:10]:
            print(f"  {line}")
        if args.json:
            with open(args.json, "w") as f:
                json.dump(report, f, indent=2)
    finally:
        if world is not None:
            if args.keep and world.bridge is not None:
                with open(home.file("bridge.log"), "w") as f:
                    f.write(world.bridge.output())
            try:
                world.close()
            except AssertionError as error:  # a sanitizer report in the bridge's output
                print(f"soak: {error}", file=sys.stderr)
                report = None
        if args.keep:
            print(f"soak: kept {home.path}")
        else:
            home.cleanup()
    return 0 if report and report["passed"] else 1


if __name__ == "__main__":
    sys.exit(main())
