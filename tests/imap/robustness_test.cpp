// Randomised abuse of a logged-in session: valid commands mutated (bytes flipped, cut, inserted),
// fed in random chunk sizes, interleaved with changes from "elsewhere" and wake-ups. The session
// must never crash (the ASan build runs this too), must answer in whole CRLF-terminated lines,
// and must stay usable whenever it did not close the connection.
#include <gtest/gtest.h>

#include <random>

#include "harness.hpp"

namespace mailtrixy::imap {
namespace {

using testing::Harness;

const std::vector<std::string> kCorpus = {
    "a NOOP\r\n",
    "b FETCH 1:* (FLAGS UID RFC822.SIZE INTERNALDATE ENVELOPE)\r\n",
    "c UID FETCH 1:* (BODYSTRUCTURE BODY.PEEK[HEADER.FIELDS (Subject From)] BODY.PEEK[1]<0.10>)\r\n",
    "d FETCH 2 (BODY[] RFC822.HEADER RFC822.TEXT BODY[TEXT]<2.5>)\r\n",
    "e STORE 1:3 +FLAGS (\\Seen Work)\r\n",
    "f UID STORE 2 -FLAGS.SILENT (\\Seen)\r\n",
    "g SEARCH OR SEEN (UNSEEN FROM alice) NOT BODY hello SINCE 1-Jan-2020 UID 1:*\r\n",
    "h UID SEARCH CHARSET UTF-8 TEXT {5+}\r\nhello HEADER Subject x\r\n",
    "i COPY 1:2 Archive\r\n",
    "j UID MOVE 3 \"Junk Email\"\r\n",
    "k EXPUNGE\r\n",
    "l LIST \"\" * RETURN (SUBSCRIBED CHILDREN STATUS (MESSAGES UNSEEN))\r\n",
    "m LSUB \"\" %\r\n",
    "n STATUS INBOX (MESSAGES UIDNEXT UNSEEN SIZE)\r\n",
    "o APPEND INBOX (\\Seen) {31+}\r\nFrom: x@example.com\r\n\r\nHello!\r\n\r\n",
    "p CREATE Folder/Sub\r\n",
    "q RENAME Folder Other\r\n",
    "r DELETE Other\r\n",
    "s SELECT INBOX\r\n",
    "t EXAMINE Archive\r\n",
    "u IDLE\r\nDONE\r\n",
    "v UID EXPUNGE 1:4\r\n",
    "w SUBSCRIBE INBOX\r\n",
    "x CLOSE\r\n",
    "y UNSELECT\r\n",
    "z CAPABILITY\r\n",
    "A ID (\"name\" \"fuzz\")\r\n",
    "B NAMESPACE\r\n",
    "C ENABLE UTF8=ACCEPT\r\n",
    "D FETCH 1 (BODY[1.2.3.MIME] BODY[2.HEADER] BODY[99])\r\n",
};

std::string mutate(std::string text, std::mt19937& random) {
  std::uniform_int_distribution<int> what(0, 9);
  if (text.empty()) return text;
  std::uniform_int_distribution<std::size_t> at(0, text.size() - 1);
  switch (what(random)) {
    case 0: text[at(random)] = static_cast<char>(random() & 0xFF); break;
    case 1: text.erase(at(random), 1 + random() % 8); break;
    case 2: text.insert(at(random), std::string(1 + random() % 4, static_cast<char>("{}[]()<>*%\"\\ 0\r\n"[random() % 17]))); break;
    case 3: text = text.substr(0, at(random)); break;
    case 4: text += text; break;
    default: break;  // most commands stay valid
  }
  return text;
}

TEST(ImapSessionRobustness, RandomisedCommandStreamsNeverBreakTheSession) {
  std::mt19937 random(20260127);
  for (int round = 0; round < 150; ++round) {
    SessionOptions options;
    options.limits.max_line_length = 8192;
    options.limits.max_literal_size = 4096;
    Harness h({}, options);
    h.login();
    h.fill(5);
    (void)h.select();
    std::string stream;
    int commands = 1 + static_cast<int>(random() % 12);
    for (int i = 0; i < commands; ++i) stream += mutate(kCorpus[random() % kCorpus.size()], random);
    std::size_t pos = 0;
    while (pos < stream.size() && h.action != SessionAction::close) {
      std::size_t chunk = 1 + random() % 64;
      std::string out = h.send(std::string_view(stream).substr(pos, chunk));
      pos += chunk;
      if (!out.empty()) {
        EXPECT_TRUE(out.ends_with("\r\n")) << "round " << round << ": " << out;
      }
      switch (random() % 6) {
        case 0: (void)h.backend->deliver("INBOX", testing::simple_message("Elsewhere")); break;
        case 1: (void)h.backend->remove_outside("INBOX", mail::Uid{1 + static_cast<std::uint32_t>(random() % 8)}); break;
        case 2: (void)h.wake_up(); break;
        default: break;
      }
      if (h.action == SessionAction::start_tls) h.session->on_tls_started();
    }
    if (h.action == SessionAction::close) continue;
    // Whatever state the stream left (a literal half sent, IDLE, AUTHENTICATE), a fresh line-based
    // exchange must still get through once the client finishes what it started.
    std::string out = h.send("\r\nDONE\r\n*\r\nzz NOOP\r\n");
    if (h.action == SessionAction::close) continue;
    if (out.find("zz OK NOOP completed\r\n") == std::string::npos) {
      // A pending literal swallowed the probe; send enough to complete it and try again.
      out = h.send(std::string(4200, 'x') + "\r\nzz2 NOOP\r\n");
      if (h.action == SessionAction::close) continue;
      EXPECT_NE(out.find("zz2 OK NOOP completed\r\n"), std::string::npos) << "round " << round << ": " << out;
    }
  }
}

}  // namespace
}  // namespace mailtrixy::imap
