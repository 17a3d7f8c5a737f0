"""The bridge's message structure answers equal Dovecot's, byte for byte, on the whole corpus.

For every message of tests/data/corpus (see its MANIFEST.tsv), Dovecot (dovecot.py) is asked for
ENVELOPE, BODYSTRUCTURE, BODY, RFC822.SIZE, BODY[], BODY[HEADER], BODY[TEXT], header field
subsets, a partial, and BODY[n], BODY[n.MIME], BODY[n.HEADER], BODY[n.TEXT] for every part number
present; mailtrixy-render-tool (tests/imap_render/render_tool.cpp, path in
MAILTRIXY_RENDER_TOOL) renders the same items with the bridge's code. Every difference fails the
test, except those listed in DELIBERATE_DIFFERENCES (each explained in docs/imap-structure.md).
"""

import csv
import imaplib
import os
import shutil
import subprocess
import sys
import tempfile
import unittest

sys.path.insert(0, os.path.dirname(__file__))
from dovecot import DovecotServer  # noqa: E402

SOURCE_DIR = os.environ.get("MAILTRIXY_SOURCE_DIR", os.path.join(os.path.dirname(__file__), "../.."))
CORPUS = os.path.join(SOURCE_DIR, "tests", "data", "corpus")
TOOL = os.environ.get("MAILTRIXY_RENDER_TOOL",
                      os.path.join(SOURCE_DIR, "build", "mailtrixy-render-tool"))

# (corpus file, item) pairs where the bridge deliberately answers differently from Dovecot; each
# is explained in docs/imap-structure.md. Empty: no difference on the corpus.
DELIBERATE_DIFFERENCES = set()

# Hand-made messages for what the corpus covers thinly: broken and unusual MIME. Compared with
# Dovecot exactly like the corpus.
EDGE_MESSAGES = [
    # 0: multipart whose end boundary is missing
    b"MIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=XX\r\n\r\npreamble\r\n--XX\r\n"
    b"Content-Type: text/plain\r\n\r\none\r\n--XX\r\n\r\ntwo\r\n",
    # 1: nested multiparts, the inner one never closed, an epilogue after the outer end
    b"MIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=\"outer\"\r\n\r\n--outer\r\n"
    b"Content-Type: multipart/alternative; boundary=inner\r\n\r\n--inner\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n"
    b"plain\r\n--inner\r\nContent-Type: text/html\r\n\r\n<b>html</b>\r\n--outer\r\nContent-Type: application/pdf; name=a.pdf\r\n"
    b"Content-Transfer-Encoding: base64\r\nContent-Disposition: attachment; filename=\"a.pdf\"\r\n\r\nAAAA\r\n--outer--\r\nepilogue\r\n",
    # 2: message/rfc822 holding a multipart, then a nested non-multipart message/rfc822
    b"MIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=b1\r\nSubject: outer\r\n\r\n--b1\r\nContent-Type: text/plain\r\n\r\nsee attached\r\n"
    b"--b1\r\nContent-Type: message/rfc822\r\n\r\nFrom: Inner <inner@example.com>\r\nSubject: inner\r\nMIME-Version: 1.0\r\n"
    b"Content-Type: multipart/alternative; boundary=b2\r\n\r\n--b2\r\nContent-Type: text/plain\r\n\r\ninner text\r\n--b2\r\n"
    b"Content-Type: message/rfc822\r\n\r\nSubject: innermost\r\n\r\ndeep body\r\n--b2--\r\n--b1--\r\n",
    # 3: multipart/digest with typeless parts (message/rfc822 by default)
    b"MIME-Version: 1.0\r\nContent-Type: multipart/digest; boundary=d\r\n\r\n--d\r\n\r\nSubject: one\r\n\r\nfirst\r\n--d\r\n"
    b"Content-Type: text/plain\r\n\r\nnot a message\r\n--d--\r\n",
    # 4: message/global, RFC 2231 parameters, Content-Language/Location/MD5/ID/Description
    b"MIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=g\r\n\r\n--g\r\nContent-Type: message/global\r\n\r\n"
    b"Subject: global\r\n\r\nbody\r\n--g\r\nContent-Type: application/octet-stream;\r\n title*0*=us-ascii'en'This%20is%20;\r\n"
    b" title*1*=%2A%2A%2Afun%2A%2A%2A; title*2=\"isn't it!\"; name*=utf-8''%E2%82%AC.txt; part*1=b; part*3=d\r\n"
    b"Content-Language: en, de-CH\r\nContent-Location: http://example.com/\r\n a/b\r\nContent-MD5: Q2hlY2sgSW50ZWdyaXR5IQ==\r\n"
    b"Content-ID: <id@example.com>\r\nContent-Description: a \"quoted\" thing\r\nContent-Disposition: inline\r\n"
    b"Content-Disposition: attachment; filename=x\r\n\r\ndata\r\n--g--\r\n",
    # 5: 8-bit header bytes, a long subject full of quotes
    b"Subject: caf\xe9 \"a\" \"b\" \"c\"\r\nFrom: J\xf6rg <joerg@example.com>\r\nTo: \"a\\\\b\" <x@y>, group: a@b, (comment) c@d;, user\r\n"
    b"Cc: <>, @r1,@r2:a@b, <@r1:x@y>, Name (comment) <n@m>\r\nMIME-Version: 1.0\r\n"
    b"Content-Type: text/plain; name=\"f\xfc\xdf.txt\"\r\n\r\nbody\r\n",
    # 6: bare LF line endings
    b"MIME-Version: 1.0\nContent-Type: multipart/mixed; boundary=lf\n\n--lf\nContent-Type: text/plain\n\nline\n--lf--\n",
    # 7: multipart without boundary parameter, and one whose boundary never appears
    b"MIME-Version: 1.0\r\nContent-Type: multipart/mixed\r\n\r\nno parts here\r\n",
    b"MIME-Version: 1.0\r\nContent-Type: multipart/related; boundary=nowhere\r\n\r\njust text\r\n",
    # 9: broken Content-Type values
    b"MIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=c\r\n\r\n--c\r\nContent-Type: text\r\n\r\na\r\n"
    b"--c\r\nContent-Type: text/\r\n\r\nb\r\n--c\r\nContent-Type: /plain\r\n\r\nc\r\n--c\r\nContent-Type: text/plain garbage\r\n\r\nd\r\n"
    b"--c\r\nContent-Type: TEXT/PLAIN; CHARSET=UTF-8; Format=flowed\r\nContent-Transfer-Encoding: base64 junk\r\n\r\ne\r\n"
    b"--c\r\nContent-Type: image/png; name==?utf-8?b?w6Q=?=\r\nContent-Transfer-Encoding: BASE64\r\n\r\nf\r\n--c--\r\n",
    # 10: boundary prefixes: inner boundary extends the outer one
    b"MIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=abc\r\n\r\n--abc\r\nContent-Type: multipart/mixed; boundary=abcdef\r\n\r\n"
    b"--abcdef\r\n\r\nx\r\n--abcdef--\r\n--abc\r\n\r\ny\r\n--abc--\r\n",
    # 11: part headers cut short by a boundary, also for a message/rfc822 part
    b"MIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=h\r\n\r\n--h\r\nContent-Type: text/plain\r\n--h\r\n"
    b"Content-Type: message/rfc822\r\n--h\r\nContent-Type: text/plain\r\n\r\nlast\r\n--h--\r\n",
    # 12: no MIME-Version: Content-* fields other than Content-Type are ignored
    b"Subject: plain\r\nContent-Transfer-Encoding: quoted-printable\r\nContent-Disposition: inline\r\n\r\ntext=\r\n",
    # 13: a top-level message/rfc822 holding a non-multipart message
    b"MIME-Version: 1.0\r\nContent-Type: message/rfc822\r\n\r\nSubject: wrapped\r\nContent-Type: message/rfc822\r\n\r\n"
    b"Subject: twice\r\n\r\nbody\r\n",
    # 14: degenerate messages
    b"\r\nbody only\r\n",
    b"Subject: header only, no line break",
    b"Subject: x\r\n\r\n",
    # 17: a boundary line without a line break at the very end, a NUL in a body
    b"MIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=e\r\n\r\n--e\r\n\r\nnul \x00 here\r\n--e",
    # 18: folded and odd header fields
    b"Subject:\r\n folded\r\n\t twice  \r\nFrom : a@b\r\nnocolon line\r\nMessage-ID:\r\n <x@y>\r\nDate: Mon, 1 Jan 2024 00:00:00 +0000\r\n"
    b"In-Reply-To: <a@b>\r\n <c@d>\r\nTo: undisclosed-recipients:;\r\nBcc: Some Body\r\n\r\nb\r\n",
    # 19: empty part bodies right before a boundary, also of a message/rfc822 part
    b"MIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=q\r\n\r\n--q\r\nContent-Type: message/rfc822\r\n\r\n"
    b"--q\r\nContent-Type: text/plain\r\n\r\n--q\r\n\r\n--q--\r\n",
    # 20: NUL bytes and lone CRs in header values, lenient dots in addresses
    b"Subject: one\r\x00\x00irst\r\nFrom: A\x00B <a@b>, .dot.@x..y\r\nTo: g: .txt; x=y;\r\nMIME-Version: 1.0\r\n"
    b"Content-Type: text/plain; name=\"x\x00y\"; charset=a\x00b\r\nContent-ID: <\x00>\r\n\r\nb\r\n",
    # 21: a lone "multipart" type, broken parameters, Dovecot's limit on parameter attempts
    b"MIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=p\r\n\r\n--p\r\nContent-Type: multipart\r\n\r\nx\r\n"
    b"--p\r\nContent-Type: text/plain; a\x19=1; b=2; c; d=4\r\n\r\ny\r\n"
    b"--p\r\nContent-Type: text/plain; t\x19=%2A" + b"x" * 130 + b"; z=9\r\n\r\nz\r\n"
    b"--p\r\nContent-Type\r\n : text/html\r\nContent-ID\r\n\r\nw\r\n--p--\r\n",
]

FIXED_ITEMS = [
    "ENVELOPE", "BODYSTRUCTURE", "BODY", "RFC822.SIZE",
    "BODY[]", "BODY[HEADER]", "BODY[TEXT]",
    "BODY[HEADER.FIELDS (FROM TO SUBJECT CONTENT-TYPE)]",
    "BODY[HEADER.FIELDS.NOT (RECEIVED CONTENT-TYPE)]",
    "BODY[]<0.100>", "BODY[TEXT]<10.20>",
]


def corpus_files():
    with open(os.path.join(CORPUS, "MANIFEST.tsv"), newline="") as f:
        return [row["file"] for row in csv.DictReader(f, delimiter="\t")]


def run_tool(path, items):
    """Returns {item: bytes} as mailtrixy-render-tool renders them."""
    out = subprocess.run([TOOL, path] + items, check=True, stdout=subprocess.PIPE, timeout=60).stdout
    result = {}
    pos = 0
    for item in items:
        newline = out.index(b"\n", pos)
        length = int(out[pos:newline])
        result[item] = out[newline + 1:newline + 1 + length]
        pos = newline + 1 + length + 1
    return result


def raw_fetch_item(client, number, item):
    """FETCH one item; returns the item as it appears on the wire ("BODY[1] {5}\\r\\nhello")."""
    peek_item = item.replace("BODY[", "BODY.PEEK[", 1) if item.startswith("BODY[") else item
    typ, data = client.fetch(str(number), f"({peek_item})")
    if typ != "OK":
        raise AssertionError(f"FETCH {number} ({peek_item}) failed: {data}")
    raw = b""
    for piece in data:
        if isinstance(piece, tuple):
            raw += piece[0] + b"\r\n" + piece[1]
        else:
            raw += piece
    prefix = f"{number} (".encode()
    if not raw.startswith(prefix) or not raw.endswith(b")"):
        raise AssertionError(f"unexpected FETCH response {raw[:200]!r}")
    return raw[len(prefix):-1]


@unittest.skipUnless(DovecotServer.available(), "dovecot-imapd is not installed (scripts/deps.sh)")
class MimeStructureMatchesDovecot(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.files = corpus_files()
        cls.tempdir = tempfile.mkdtemp(prefix="mailtrixy-mime-")
        cls.paths = [os.path.join(CORPUS, name) for name in cls.files]
        for i, message in enumerate(EDGE_MESSAGES):
            path = os.path.join(cls.tempdir, f"edge-{i:02d}.eml")
            with open(path, "wb") as f:
                f.write(message)
            cls.files.append(f"edge-{i:02d}")
            cls.paths.append(path)
        messages = []
        for path in cls.paths:
            with open(path, "rb") as f:
                messages.append(f.read())
        cls.server = DovecotServer()
        port, user, password = cls.server.start(messages)
        cls.client = imaplib.IMAP4("127.0.0.1", port)
        cls.client.login(user, password)
        typ, data = cls.client.select("INBOX", readonly=True)
        if typ != "OK" or int(data[0]) != len(messages):
            raise AssertionError(f"Dovecot holds {data} messages, expected {len(messages)}")

    @classmethod
    def tearDownClass(cls):
        try:
            cls.client.logout()
        finally:
            cls.server.stop()
            shutil.rmtree(cls.tempdir, ignore_errors=True)

    def test_corpus_has_messages(self):
        self.assertGreater(len(corpus_files()), 100)

    def test_every_item_of_every_message_equals_dovecot(self):
        differences = []
        compared = 0
        for number, (name, path) in enumerate(zip(self.files, self.paths), start=1):
            parts = run_tool(path, ["PARTS"])["PARTS"].decode().split()
            # Also a part that does not exist, below an existing one and at the top.
            parts += [(parts[-1] if parts else "1") + ".99", "99"] + ([] if "1" in parts else ["1"])
            items = list(FIXED_ITEMS)
            for part in parts:
                items += [f"BODY[{part}]", f"BODY[{part}.MIME]", f"BODY[{part}.HEADER]", f"BODY[{part}.TEXT]"]
            ours = run_tool(path, items)
            for item in items:
                theirs = raw_fetch_item(self.client, number, item)
                compared += 1
                if ours[item] != theirs and (name, item) not in DELIBERATE_DIFFERENCES:
                    differences.append((name, item, theirs, ours[item]))
        report = "\n".join(
            f"{name} {item}:\n  dovecot: {theirs[:600]!r}\n  bridge:  {ours[:600]!r}"
            for name, item, theirs, ours in differences[:40])
        self.assertGreater(compared, 1000)
        self.assertEqual(differences, [], f"{len(differences)} of {compared} items differ:\n{report}")


if __name__ == "__main__":
    unittest.main()
