"""The whole path (emulator Graph -> sync -> IMAP session -> listener) against Dovecot, on the corpus.

Every message of tests/data/corpus is seeded into the emulator's Inbox and into Dovecot's
(dovecot.py). Messages are paired by their content (line ends normalised, since Dovecot serves a
LF-only file with CRLF), then ENVELOPE, BODYSTRUCTURE, RFC822.SIZE, BODY[], BODY[HEADER],
BODY[TEXT] and BODY[1] fetched through the bridge over imaps:// must equal Dovecot's answer byte
for byte, except for the differences listed in KNOWN_DIFFERENCES and explained in
docs/imap-server.md ("Compared with Dovecot").
"""

import hashlib
import imaplib
import os
import shutil
import unittest

from dovecot import DovecotServer
from harness import TestCase
import imap_harness as H
from test_mime_dovecot import CORPUS, corpus_files, raw_fetch_item

ITEMS = ["ENVELOPE", "BODYSTRUCTURE", "RFC822.SIZE", "BODY[]", "BODY[HEADER]", "BODY[TEXT]", "BODY[1]"]

# (corpus file, item) -> why; see docs/imap-server.md ("Compared with Dovecot"). Every other
# ENVELOPE difference must be one envelope_difference() explains.
_DECODED_SUBJECT = "Graph decodes RFC 2047 in subject; the bridge serves the decoded text"
_GRAPH_NAME = "an address without '@' gets its text as display name from Graph"
KNOWN_DIFFERENCES = {
    ("enmime/mail/qp-ascii-header.eml", "ENVELOPE"): _DECODED_SUBJECT,
    ("enmime/mail/qp-utf8-header.eml", "ENVELOPE"): _DECODED_SUBJECT,
    ("enmime/mail/qp-utf8-header-no-break.eml", "ENVELOPE"): _DECODED_SUBJECT,
    ("enmime/mail/qp-utf8-header-recursed.eml", "ENVELOPE"): _DECODED_SUBJECT,
    ("python-test_email/msg_05.eml", "ENVELOPE"): _GRAPH_NAME,
    ("python-test_email/msg_15.eml", "ENVELOPE"): _GRAPH_NAME,
    ("python-test_email/msg_43.eml", "ENVELOPE"): "a From without any address is dropped, Dovecot shows MISSING_MAILBOX",
    ("enmime/mail/malformed-multiple-address-header-values.eml", "ENVELOPE"):
        "a From holding two name-addr pairs without a comma is read differently",
}


def parse_sexp(data):
    """An IMAP response value: lists, NIL (None), strings (quoted, literal or atom) as bytes."""
    pos = 0

    def value():
        nonlocal pos
        while data[pos:pos + 1] == b" ":
            pos += 1
        c = data[pos:pos + 1]
        if c == b"(":
            pos += 1
            items = []
            while True:
                while data[pos:pos + 1] == b" ":
                    pos += 1
                if data[pos:pos + 1] == b")":
                    pos += 1
                    return items
                items.append(value())
        if c == b'"':
            pos += 1
            out = bytearray()
            while data[pos:pos + 1] != b'"':
                if data[pos:pos + 1] == b"\\":
                    pos += 1
                out += data[pos:pos + 1]
                pos += 1
            pos += 1
            return bytes(out)
        if c == b"{":
            end = data.index(b"}", pos)
            size = int(data[pos + 1:end].rstrip(b"+"))
            start = end + 3  # "}\r\n"
            pos = start + size
            return data[start:pos]
        end = pos
        while end < len(data) and data[end:end + 1] not in (b" ", b"(", b")"):
            end += 1
        atom = data[pos:end]
        pos = end
        return None if atom.upper() == b"NIL" else atom

    return value()


def envelope_difference(mine, theirs):
    """Why two ENVELOPE values differ beyond what docs/imap-server.md explains, or None.

    The bridge builds ENVELOPE from Graph's metadata of the message, which (as Exchange does)
    keeps the date as an instant in UTC, gives a missing Date the time the message arrived, a
    missing Message-ID the one Exchange generates, an address without a display name the address
    as its name, and has no place for RFC 5322 group syntax."""
    import email.utils
    ours, expected = parse_sexp(mine[len(b"ENVELOPE "):]), parse_sexp(theirs[len(b"ENVELOPE "):])
    if expected[0] is not None:
        if ours[0] is None:
            return "date missing"
        try:
            if email.utils.parsedate_to_datetime(ours[0].decode()) != email.utils.parsedate_to_datetime(
                    expected[0].decode()):
                return f"date {ours[0]!r} is not the instant {expected[0]!r}"
        except (TypeError, ValueError):
            if ours[0] != expected[0]:
                return f"date {ours[0]!r} != {expected[0]!r}"
    if ours[1] != expected[1]:
        return f"subject {ours[1]!r} != {expected[1]!r}"
    for index, field in enumerate(("from", "sender", "reply-to", "to", "cc", "bcc"), start=2):
        wanted = [a for a in (expected[index] or []) if a[3] is not None]  # groups: no host
        got = ours[index] or []
        if [(a[2], a[3]) for a in got] != [(a[2], a[3]) for a in wanted]:
            return f"{field} addresses {got!r} != {wanted!r}"
        for a, b in zip(got, wanted):
            if a[0] != b[0] and not (b[0] is None and a[0] == a[2] + b"@" + a[3]):
                return f"{field} name {a[0]!r} != {b[0]!r}"
    if ours[8] != expected[8]:
        return f"in-reply-to {ours[8]!r} != {expected[8]!r}"
    if expected[9] is not None and ours[9] != expected[9]:
        return f"message-id {ours[9]!r} != {expected[9]!r}"
    return None


def normalised(message):
    return hashlib.sha256(message.replace(b"\r\n", b"\n")).hexdigest()


def bodies_by_number(client, count):
    """{sequence number: BODY[] bytes} of the selected folder."""
    typ, data = client.fetch(f"1:{count}", "(BODY.PEEK[])")
    if typ != "OK":
        raise AssertionError(data)
    result = {}
    for piece in data:
        if isinstance(piece, tuple):
            result[int(piece[0].split()[0])] = piece[1]
    return result


@unittest.skipUnless(DovecotServer.available(), "dovecot-imapd is not installed (scripts/deps.sh)")
class ImapMatchesDovecot(TestCase):
    def test_corpus_through_the_bridge_equals_dovecot(self):
        files = corpus_files()
        messages = []
        for name in files:
            with open(os.path.join(CORPUS, name), "rb") as f:
                messages.append(f.read())
        seed = self.home.file("seed")
        os.makedirs(seed)
        for i, message in enumerate(messages):
            with open(os.path.join(seed, f"{i:04}.eml"), "wb") as f:
                f.write(message)
        world = H.ImapWorld(self.home, emulator_args=["--seed", f"{H.S.USER}={seed}"])
        self.addCleanup(world.close)
        world.start()
        world.wait_for_messages("INBOX", len(messages), timeout=120)

        dovecot = DovecotServer()
        self.addCleanup(dovecot.stop)
        port, user, password = dovecot.start(messages)
        theirs = imaplib.IMAP4("127.0.0.1", port, timeout=60)
        theirs.login(user, password)
        theirs.select("INBOX", readonly=True)
        ours = world.imaps()
        ours.select("INBOX", readonly=True)

        name_of = {normalised(m): name for name, m in zip(files, messages)}
        our_numbers = {normalised(body): n for n, body in bodies_by_number(ours, len(messages)).items()}
        their_numbers = {normalised(body): n for n, body in bodies_by_number(theirs, len(messages)).items()}
        differences = []
        unmatched = [name_of[key] for key in name_of if key not in our_numbers]
        compared = 0
        for key, their_number in their_numbers.items():
            if key not in our_numbers:
                continue
            name = name_of.get(key, f"dovecot #{their_number}")
            for item in ITEMS:
                mine = raw_fetch_item(ours, our_numbers[key], item)
                expected = raw_fetch_item(theirs, their_number, item)
                compared += 1
                if mine == expected or (name, item) in KNOWN_DIFFERENCES:
                    continue
                why = envelope_difference(mine, expected) if item == "ENVELOPE" else "differs"
                if why:
                    differences.append(f"{name} {item}: {why}\n  bridge  {mine[:300]!r}\n  dovecot {expected[:300]!r}")
        ours.logout()
        theirs.logout()
        self.assertGreater(compared, 500)
        self.assertEqual(unmatched, [], "messages whose BODY[] through the bridge differs from the seeded bytes")
        self.assertEqual(differences, [], f"{len(differences)} of {compared} items differ:\n" + "\n".join(differences[:40]))


if __name__ == "__main__":
    unittest.main()
