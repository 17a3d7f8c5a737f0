#include "mailtrixy/imap/parser.hpp"

#include <gtest/gtest.h>

#include <chrono>
#include <string>
#include <vector>

#include "describe.hpp"

namespace mailtrixy::imap {
namespace {

using testing::describe;

// Feeds `input` in pieces of `chunk` bytes, draining events after each piece, and behaves like
// the session: a raw line is expected after IDLE and after AUTHENTICATE without initial response.
std::vector<std::string> run(std::string_view input, std::size_t chunk, ParserLimits limits = {}) {
  CommandParser parser(limits);
  std::vector<std::string> out;
  for (std::size_t at = 0; at < input.size(); at += chunk) {
    parser.feed(input.substr(at, chunk));
    while (auto event = parser.next()) {
      out.push_back(describe(*event));
      if (event->kind == ParseEvent::Kind::command) {
        EXPECT_EQ(event->tag, event->command.tag);
        const auto* auth = std::get_if<AuthenticateArgs>(&event->command.arguments);
        if (event->command.kind == CommandKind::idle || (auth != nullptr && !auth->initial_response)) {
          parser.expect_line();
        }
      }
    }
  }
  return out;
}

// Every input gives the same events whole, byte by byte and in odd-sized pieces.
std::vector<std::string> events(std::string_view input, ParserLimits limits = {}) {
  const auto whole = run(input, input.size() + 1, limits);
  EXPECT_EQ(whole, run(input, 1, limits)) << "byte-at-a-time differs for: " << input;
  EXPECT_EQ(whole, run(input, 7, limits)) << "7-byte chunks differ for: " << input;
  return whole;
}

std::string one(std::string_view input) {
  const auto all = events(input);
  EXPECT_EQ(all.size(), 1U) << input;
  return all.empty() ? std::string() : all.back();
}

// The message of a BAD answer, or the event itself when it is not a BAD.
std::string bad(std::string_view input) {
  const std::string event = one(input);
  const std::string prefix = "bad: ";
  return event.rfind(prefix, 0) == 0 ? event.substr(event.find(' ', prefix.size()) + 1) : "not bad: " + event;
}

Command parse(std::string_view input) {
  CommandParser parser;
  parser.feed(input);
  auto event = parser.next();
  while (event && event->kind == ParseEvent::Kind::continuation) event = parser.next();
  EXPECT_TRUE(event.has_value());
  if (!event) return {};
  EXPECT_EQ(event->kind, ParseEvent::Kind::command) << describe(*event);
  return event->command;
}

// ---- RFC 3501 section 8 and the examples of section 6 ------------------------------------------

TEST(ImapParser, Rfc3501SampleSession) {
  EXPECT_EQ(events("a001 login mrc secret\r\n"
                   "a002 select inbox\r\n"
                   "a003 fetch 12 full\r\n"
                   "a004 fetch 12 body[header]\r\n"
                   "a005 store 12 +flags \\deleted\r\n"
                   "a006 logout\r\n"),
            (std::vector<std::string>{
                "command: a001 LOGIN \"mrc\" \"secret\"",
                "command: a002 SELECT \"inbox\"",
                "command: a003 FETCH 12 (FLAGS INTERNALDATE RFC822.SIZE ENVELOPE BODY)",
                "command: a004 FETCH 12 (BODY[HEADER])",
                "command: a005 STORE 12 +FLAGS (\\deleted)",
                "command: a006 LOGOUT",
            }));
}

TEST(ImapParser, Rfc3501CommandExamples) {
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"abcd CAPABILITY\r\n", "command: abcd CAPABILITY"},
      {"a047 NOOP\r\n", "command: a047 NOOP"},
      {"A023 LOGOUT\r\n", "command: A023 LOGOUT"},
      {"a002 STARTTLS\r\n", "command: a002 STARTTLS"},
      {"A001 AUTHENTICATE GSSAPI\r\n", "command: A001 AUTHENTICATE GSSAPI"},
      {"a001 LOGIN SMITH SESAME\r\n", "command: a001 LOGIN \"SMITH\" \"SESAME\""},
      {"A142 SELECT INBOX\r\n", "command: A142 SELECT \"INBOX\""},
      {"A932 EXAMINE blurdybloop\r\n", "command: A932 EXAMINE \"blurdybloop\""},
      {"A003 CREATE owatagusiam/\r\n", "command: A003 CREATE \"owatagusiam/\""},
      {"A683 DELETE blurdybloop\r\n", "command: A683 DELETE \"blurdybloop\""},
      {"A682 RENAME blurdybloop sarasoop\r\n", "command: A682 RENAME \"blurdybloop\" \"sarasoop\""},
      {"A002 SUBSCRIBE #news.comp.mail.mime\r\n", "command: A002 SUBSCRIBE \"#news.comp.mail.mime\""},
      {"A002 UNSUBSCRIBE #news.comp.mail.mime\r\n", "command: A002 UNSUBSCRIBE \"#news.comp.mail.mime\""},
      {"A101 LIST \"\" \"\"\r\n", "command: A101 LIST \"\" [\"\"]"},
      {"A102 LIST #news.comp.mail.misc \"\"\r\n", "command: A102 LIST \"#news.comp.mail.misc\" [\"\"]"},
      {"A103 LIST /usr/staff/jones \"\"\r\n", "command: A103 LIST \"/usr/staff/jones\" [\"\"]"},
      {"A202 LIST ~/Mail/ %\r\n", "command: A202 LIST \"~/Mail/\" [\"%\"]"},
      {"A002 LSUB \"#news.\" \"comp.mail.*\"\r\n", "command: A002 LSUB \"#news.\" [\"comp.mail.*\"]"},
      {"A042 STATUS blurdybloop (UIDNEXT MESSAGES)\r\n", "command: A042 STATUS \"blurdybloop\" (UIDNEXT MESSAGES)"},
      {"FXXZ CHECK\r\n", "command: FXXZ CHECK"},
      {"A341 CLOSE\r\n", "command: A341 CLOSE"},
      {"A202 EXPUNGE\r\n", "command: A202 EXPUNGE"},
      {"A282 SEARCH FLAGGED SINCE 1-Feb-1994 NOT FROM \"Smith\"\r\n",
       "command: A282 SEARCH FLAGGED SINCE 1994-2-1 NOT(FROM \"Smith\")"},
      {"A283 SEARCH TEXT \"string not in mailbox\"\r\n", "command: A283 SEARCH TEXT \"string not in mailbox\""},
      {"A654 FETCH 2:4 (FLAGS BODY[HEADER.FIELDS (DATE FROM)])\r\n",
       "command: A654 FETCH 2:4 (FLAGS BODY[HEADER.FIELDS (DATE FROM)])"},
      {"A003 STORE 2:4 +FLAGS (\\Deleted)\r\n", "command: A003 STORE 2:4 +FLAGS (\\Deleted)"},
      {"A003 COPY 2:4 MEETING\r\n", "command: A003 COPY 2:4 \"MEETING\""},
      {"A999 UID FETCH 4827313:4828442 FLAGS\r\n", "command: A999 UID FETCH 4827313:4828442 (FLAGS)"},
      {"A003 UID EXPUNGE 3000:3002\r\n", "command: A003 UID EXPUNGE 3000:3002"},
      {"a UID MOVE 42:69 foo\r\n", "command: a UID MOVE 42:69 \"foo\""},
      {"a1 MOVE 1:* Archive\r\n", "command: a1 MOVE 1:* \"Archive\""},
      {"a2 UNSELECT\r\n", "command: a2 UNSELECT"},
      {"a3 NAMESPACE\r\n", "command: a3 NAMESPACE"},
      {"A002 IDLE\r\n", "command: A002 IDLE"},
      {"t2 ENABLE CONDSTORE X-GOOD-IDEA\r\n", "command: t2 ENABLE CONDSTORE X-GOOD-IDEA"},
      {"a042 ID NIL\r\n", "command: a042 ID NIL"},
      {"a023 ID (\"name\" \"sodr\" \"version\" \"19.34\" \"vendor\" \"Pink Floyd Music Limited\")\r\n",
       "command: a023 ID (\"name\"=\"sodr\";\"version\"=\"19.34\";\"vendor\"=\"Pink Floyd Music Limited\";)"},
      {"a024 ID (\"name\" \"x\" \"os\" NIL)\r\n", "command: a024 ID (\"name\"=\"x\";\"os\"=NIL;)"},
      {"a001 AUTHENTICATE PLAIN dGVzdAB0ZXN0AHRlc3Q=\r\n",
       "command: a001 AUTHENTICATE PLAIN \"dGVzdAB0ZXN0AHRlc3Q=\""},
      {"a001 authenticate plain =\r\n", "command: a001 AUTHENTICATE PLAIN \"=\""},
  };
  for (const auto& [input, expected] : cases) EXPECT_EQ(one(input), expected) << input;
}

TEST(ImapParser, SearchWithCharsetAndLiteral) {
  EXPECT_EQ(events("A284 SEARCH CHARSET UTF-8 TEXT {6}\r\nXX\xc3\xa4XX\r\n"),
            (std::vector<std::string>{"continuation: A284",
                                      "command: A284 SEARCH CHARSET UTF-8 TEXT \"XX\xc3\xa4XX\""}));
}

TEST(ImapParser, Rfc9051SearchReturnOptions) {
  EXPECT_EQ(one("A282 SEARCH RETURN (MIN COUNT) FLAGGED SINCE 1-Feb-1994 NOT FROM \"Smith\"\r\n"),
            "command: A282 SEARCH RETURN (MIN COUNT) FLAGGED SINCE 1994-2-1 NOT(FROM \"Smith\")");
  EXPECT_EQ(one("A283 SEARCH RETURN () FLAGGED\r\n"), "command: A283 SEARCH RETURN () FLAGGED");
  EXPECT_EQ(one("A284 SEARCH RETURN (ALL) CHARSET utf-8 ALL\r\n"),
            "command: A284 SEARCH RETURN (ALL) CHARSET UTF-8 ALL");
  EXPECT_EQ(bad("A285 SEARCH RETURN (SAVE) ALL\r\n"),
            "Unknown SEARCH return option: SAVE (use MIN, MAX, ALL or COUNT).");
  EXPECT_EQ(bad("A301 SEARCH $ SMALLER 4096\r\n"),
            "The saved search result ($) is not supported; send the sequence set itself.");
}

// ---- Literals ------------------------------------------------------------------------------------

TEST(ImapParser, SynchronisingLiteralsInLogin) {
  EXPECT_EQ(events("A001 LOGIN {11}\r\nFRED FOOBAR {7}\r\nfat man\r\n"),
            (std::vector<std::string>{"continuation: A001", "continuation: A001",
                                      "command: A001 LOGIN \"FRED FOOBAR\" \"fat man\""}));
}

TEST(ImapParser, NonSynchronisingLiteralsNeedNoContinuation) {
  EXPECT_EQ(one("A001 LOGIN {11+}\r\nFRED FOOBAR {7+}\r\nfat man\r\n"),
            "command: A001 LOGIN \"FRED FOOBAR\" \"fat man\"");
}

TEST(ImapParser, LiteralsMayHoldAnyByteButNul) {
  EXPECT_EQ(one("a LOGIN u {6+}\r\n\"(\r\n)\\\r\n"), "command: a LOGIN \"u\" \"\"(\r\n)\\\"");
}

TEST(ImapParser, AppendWithFlagsDateAndLiteral) {
  const std::string message =
      "Date: Mon, 7 Feb 1994 21:52:25 -0800 (PST)\r\nFrom: Fred Foobar <foobar@Blurdybloop.example>\r\n"
      "Subject: afternoon meeting\r\n\r\nHello Joe, do you think we can meet at 3:30 tomorrow?\r\n";
  const std::string input = "A003 APPEND saved-messages (\\Seen) {" + std::to_string(message.size()) + "}\r\n" +
                            message + "\r\n";
  EXPECT_EQ(events(input), (std::vector<std::string>{
                               "continuation: A003",
                               "command: A003 APPEND \"saved-messages\" (\\Seen) " +
                                   std::to_string(message.size()) + ":\"" + message + "\""}));

  const Command dated = parse("a APPEND INBOX (\\Seen $Forwarded Work) \"17-Jul-1996 02:44:25 -0700\" {3+}\r\nabc\r\n");
  const auto& args = std::get<AppendArgs>(dated.arguments);
  EXPECT_EQ(args.flags, (std::vector<std::string>{"\\Seen", "$Forwarded", "Work"}));
  using namespace std::chrono;
  ASSERT_TRUE(args.internal_date.has_value());
  EXPECT_EQ(*args.internal_date, sys_days{1996y / July / 17} + 9h + 44min + 25s);
  EXPECT_EQ(args.message, "abc");

  const Command padded = parse("a APPEND INBOX \" 7-Jul-1996 02:44:25 +0130\" {1+}\r\nx\r\n");
  EXPECT_EQ(*std::get<AppendArgs>(padded.arguments).internal_date, sys_days{1996y / July / 7} + 1h + 14min + 25s);
  const Command bare = parse("a APPEND INBOX {0+}\r\n\r\n");
  EXPECT_EQ(std::get<AppendArgs>(bare.arguments).message, "");
  const Command literal_mailbox = parse("a APPEND {5+}\r\nINBOX () {2+}\r\nhi\r\n");
  EXPECT_EQ(std::get<AppendArgs>(literal_mailbox.arguments).mailbox, "INBOX");
}

TEST(ImapParser, AppendMessageMayContainNul) {
  const Command command = parse(std::string("a APPEND INBOX {3+}\r\na\0b\r\n", 26));
  EXPECT_EQ(std::get<AppendArgs>(command.arguments).message, std::string("a\0b", 3));
}

TEST(ImapParser, ManyLiteralsInOneCommand) {
  // Past the cap on prefix checks the command is still read and parsed as a whole.
  std::string input = "a ID (";
  std::string expected = "command: a ID (";
  for (int i = 0; i < 100; ++i) {
    input += (i ? " " : "") + std::string("{1}\r\nk {1}\r\nv");
    expected += "\"k\"=\"v\";";
  }
  input += ")\r\n";
  const auto out = events(input);
  ASSERT_EQ(out.size(), 201U);
  EXPECT_EQ(out.back(), expected + ")");
}

TEST(ImapParser, ByteAtATimeStaysLinear) {
  // 60,000 ranges in one 64 KiB-class line plus 20,000 pipelined commands, one byte per feed():
  // quadratic rescanning would take minutes here.
  std::string set = "1";
  while (set.size() < 60000) set += ",1:*";
  std::string input = "a UID FETCH " + set + " (FLAGS)\r\n";
  for (int i = 0; i < 20000; ++i) input += "b NOOP\r\n";
  CommandParser parser;
  std::size_t commands = 0;
  const auto started = std::chrono::steady_clock::now();
  for (char c : input) {
    parser.feed(std::string_view(&c, 1));
    while (auto event = parser.next()) {
      ASSERT_EQ(event->kind, ParseEvent::Kind::command);
      ++commands;
    }
  }
  EXPECT_EQ(commands, 20001U);
  EXPECT_LT(std::chrono::steady_clock::now() - started, std::chrono::seconds(20));
}

TEST(ImapParser, LargeAppendLiteralIsKeptWhole) {
  const std::size_t size = 50 * 1024 * 1024;
  CommandParser parser;
  parser.feed("a APPEND INBOX {" + std::to_string(size) + "}\r\n");
  auto event = parser.next();
  ASSERT_TRUE(event);
  EXPECT_EQ(event->kind, ParseEvent::Kind::continuation);
  const std::string block(64 * 1024, 'x');
  for (std::size_t sent = 0; sent < size; sent += block.size()) {
    parser.feed(std::string_view(block).substr(0, std::min(block.size(), size - sent)));
    EXPECT_FALSE(parser.next().has_value());
  }
  parser.feed("\r\n");
  event = parser.next();
  ASSERT_TRUE(event);
  ASSERT_EQ(event->kind, ParseEvent::Kind::command) << event->message;
  const auto& args = std::get<AppendArgs>(event->command.arguments);
  EXPECT_EQ(args.message.size(), size);
  EXPECT_EQ(args.message.find_first_not_of('x'), std::string::npos);
  EXPECT_EQ(parser.buffered(), 0U);
}

TEST(ImapParser, MalformedCommandIsRefusedBeforeItsSynchronisingLiteral) {
  // The client gets BAD instead of "+", so it never uploads the message.
  EXPECT_EQ(events("a APPEND INBOX \"31-Feb-2020 00:00:00 +0000\" {100000}\r\nb NOOP\r\n"),
            (std::vector<std::string>{
                "bad: a Invalid date-time \"31-Feb-2020 00:00:00 +0000\": no such day (expected \"17-Jul-1996 "
                "02:44:25 -0700\").",
                "command: b NOOP"}));
  EXPECT_EQ(events("a FOO {5}\r\nb NOOP\r\n"),
            (std::vector<std::string>{"bad: a Unknown command: FOO.", "command: b NOOP"}));
  EXPECT_EQ(events("a NOOP {5}\r\nb NOOP\r\n"),
            (std::vector<std::string>{"bad: a Too many arguments for NOOP: found a literal.", "command: b NOOP"}));
}

TEST(ImapParser, BadNonSynchronisingLiteralIsSkippedWithItsCommand) {
  EXPECT_EQ(events("a FETCH {3+}\r\n1:3 FLAGS\r\nb NOOP\r\n"),
            (std::vector<std::string>{
                "bad: a Invalid sequence set: expected numbers, ranges or '*', found a literal.",
                "command: b NOOP"}));
}

TEST(ImapParser, LiteralOverTheLimit) {
  ParserLimits limits;
  limits.max_literal_size = 10;
  // Synchronising: refused at once, the client sends nothing more of it.
  EXPECT_EQ(events("a APPEND INBOX {11}\r\nb NOOP\r\n", limits),
            (std::vector<std::string>{"too_big: a Literal too big: 11 bytes, the limit is 10 bytes.",
                                      "command: b NOOP"}));
  // Non-synchronising: refused, and its bytes and the rest of its command are skipped.
  EXPECT_EQ(events("a APPEND INBOX {11+}\r\n01234567890 {3+}\r\nabc\r\nb NOOP\r\n", limits),
            (std::vector<std::string>{"too_big: a Literal too big: 11 bytes, the limit is 10 bytes.",
                                      "command: b NOOP"}));
  EXPECT_EQ(events("a APPEND INBOX {10}\r\n0123456789\r\n", limits),
            (std::vector<std::string>{"continuation: a", "command: a APPEND \"INBOX\" () 10:\"0123456789\""}));
  // A length that does not fit in 64 bits is just as big.
  EXPECT_EQ(events("a LOGIN {99999999999999999999999}\r\n", limits),
            (std::vector<std::string>{
                "too_big: a Literal too big: the limit is 10 bytes."}));
}

TEST(ImapParser, CommandSizeLimitCountsLinesAndLiterals) {
  ParserLimits limits;
  limits.max_command_size = 40;
  EXPECT_EQ(events("a LOGIN {10+}\r\n0123456789 {20+}\r\n01234567890123456789\r\nb NOOP\r\n", limits),
            (std::vector<std::string>{"too_big: a Command too big: the limit is 40 bytes.", "command: b NOOP"}));
}

TEST(ImapParser, LineCrossingTheCommandSizeIsBad) {
  ParserLimits limits;
  limits.max_command_size = 30;
  EXPECT_EQ(events("a LOGIN {5+}\r\nabcde " + std::string(30, 'x') + "\r\nb NOOP\r\n", limits),
            (std::vector<std::string>{"bad: a Command too long: the limit is 30 bytes.", "command: b NOOP"}));
}

TEST(ImapParser, LineTooLongIsFatal) {
  ParserLimits limits;
  limits.max_line_length = 32;
  EXPECT_EQ(one("a NOOP\r\n").substr(0, 9), "command: ");
  const auto out = events("a SEARCH " + std::string(40, '1') + "\r\nb NOOP\r\n", limits);
  ASSERT_EQ(out.size(), 1U);
  EXPECT_EQ(out[0], "fatal bad: * Line too long: the limit is 32 bytes; split the command or the sequence set.");
  // Exactly at the limit is fine, with CRLF or LF.
  EXPECT_EQ(events("a SEARCH " + std::string(23, '1') + "\r\n", limits).size(), 1U);
  EXPECT_EQ(events("a SEARCH " + std::string(23, '1') + "\n", limits).size(), 1U);
  // A never-ending line is refused as soon as it passes the limit, not buffered.
  CommandParser parser(limits);
  parser.feed(std::string(100, 'a'));
  auto event = parser.next();
  ASSERT_TRUE(event);
  EXPECT_TRUE(event->fatal);
  parser.feed("b NOOP\r\n");
  EXPECT_FALSE(parser.next().has_value());
}

// ---- Tolerance for real clients -----------------------------------------------------------------

TEST(ImapParser, ToleratesSloppyClients) {
  EXPECT_EQ(one("a1 noop\n"), "command: a1 NOOP");
  EXPECT_EQ(one("a2 select INBOX  \r\n"), "command: a2 SELECT \"INBOX\"");
  EXPECT_EQ(one("a3  fetch  1:2   (flags  uid)\r\n"), "command: a3 FETCH 1:2 (FLAGS UID)");
  EXPECT_EQ(one("1.1 ID (\"name\" \"iPhone Mail\")\r\n"), "command: 1.1 ID (\"name\"=\"iPhone Mail\";)");
  EXPECT_EQ(one("A00000001 uid Fetch 1:* (Uid Flags)\r\n"), "command: A00000001 UID FETCH 1:* (UID FLAGS)");
  EXPECT_EQ(events("\r\n\r\na NOOP\r\n  \r\n"), (std::vector<std::string>{"command: a NOOP"}));
  EXPECT_EQ(one("a ID ()\r\n"), "command: a ID ()");
  EXPECT_EQ(one("a STORE 1 FLAGS ( \\Seen )\r\n"), "command: a STORE 1 FLAGS (\\Seen)");
}

TEST(ImapParser, PipelinedCommandsAndRawLines) {
  EXPECT_EQ(events("a IDLE\r\nDONE\r\nb NOOP\r\nc AUTHENTICATE PLAIN\r\nAGZyZWQAc2VjcmV0\r\nd LOGOUT\r\n"),
            (std::vector<std::string>{"command: a IDLE", "line: DONE", "command: b NOOP",
                                      "command: c AUTHENTICATE PLAIN", "line: AGZyZWQAc2VjcmV0",
                                      "command: d LOGOUT"}));
  // A raw line is returned as sent, even when it would not parse.
  EXPECT_EQ(events("a IDLE\r\ndone {5}\r\n"),
            (std::vector<std::string>{"command: a IDLE", "line: done {5}"}));
}

TEST(ImapParser, DiscardBufferedForgetsPlaintextInjection) {
  CommandParser parser;
  parser.feed("a STARTTLS\r\nb LOGIN evil evil\r\nc APPEND INBOX {5+}\r\nab");
  auto event = parser.next();
  ASSERT_TRUE(event);
  EXPECT_EQ(describe(*event), "command: a STARTTLS");
  EXPECT_GT(parser.buffered(), 0U);
  parser.discard_buffered();
  EXPECT_EQ(parser.buffered(), 0U);
  EXPECT_FALSE(parser.next().has_value());
  parser.feed("d NOOP\r\n");
  event = parser.next();
  ASSERT_TRUE(event);
  EXPECT_EQ(describe(*event), "command: d NOOP");
}

TEST(ImapParser, BufferedCountsPartialCommands) {
  CommandParser parser;
  parser.feed("a LOGIN {3+}\r\nab");
  EXPECT_FALSE(parser.next().has_value());
  EXPECT_EQ(parser.buffered(), std::string("a LOGIN {3+}").size() + 2);
}

// ---- Every command's arguments ---------------------------------------------------------------

TEST(ImapParser, ListExtended) {
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"A01 LIST \"\" %\r\n", "command: A01 LIST \"\" [\"%\"]"},
      {"X1 XLIST \"\" \"%/%\"\r\n", "command: X1 LIST \"\" [\"%/%\"] xlist"},
      {"A02 LIST (SUBSCRIBED) \"\" \"*\"\r\n", "command: A02 LIST \"\" [\"*\"] sel=S ret="},
      {"A03 LIST () \"\" \"%\" RETURN (CHILDREN)\r\n", "command: A03 LIST \"\" [\"%\"] sel= ret=C"},
      {"A04 LIST (REMOTE) \"\" \"%\" RETURN (CHILDREN)\r\n", "command: A04 LIST \"\" [\"%\"] sel=R ret=C"},
      {"A05 LIST (REMOTE SUBSCRIBED) \"\" \"*\"\r\n", "command: A05 LIST \"\" [\"*\"] sel=SR ret="},
      {"A06 LIST (SUBSCRIBED RECURSIVEMATCH) \"\" \"%\"\r\n", "command: A06 LIST \"\" [\"%\"] sel=SM ret="},
      {"A07 list \"\" (\"INBOX\" Drafts \"Sent Items/*\")\r\n",
       "command: A07 LIST \"\" [\"INBOX\"\"Drafts\"\"Sent Items/*\"]"},
      {"A08 LIST \"\" % RETURN (STATUS (MESSAGES UNSEEN))\r\n",
       "command: A08 LIST \"\" [\"%\"] sel= ret=(MESSAGES UNSEEN)"},
      {"t1 LIST \"\" \"%\" RETURN (SPECIAL-USE)\r\n", "command: t1 LIST \"\" [\"%\"] sel= ret=U"},
      {"t2 LIST (SPECIAL-USE) \"\" \"*\"\r\n", "command: t2 LIST \"\" [\"*\"] sel=U ret="},
      {"e LIST \"\" \"*\" RETURN (CHILDREN SUBSCRIBED STATUS (MESSAGES UNSEEN UIDVALIDITY UIDNEXT) SPECIAL-USE)\r\n",
       "command: e LIST \"\" [\"*\"] sel= ret=SCU(MESSAGES UNSEEN UIDVALIDITY UIDNEXT)"},
      {"f LIST \"\" INBOX]x\r\n", "command: f LIST \"\" [\"INBOX]x\"]"},
      {"g LIST {0+}\r\n {1+}\r\n*\r\n", "command: g LIST \"\" [\"*\"]"},
  };
  for (const auto& [input, expected] : cases) EXPECT_EQ(one(input), expected) << input;
  EXPECT_EQ(bad("a LIST (RECURSIVEMATCH) \"\" *\r\n"),
            "RECURSIVEMATCH needs another selection option such as SUBSCRIBED.");
  EXPECT_EQ(bad("a LIST (FOO) \"\" *\r\n"), "Unknown LIST selection option: FOO.");
  EXPECT_EQ(bad("a LIST \"\" * RETURN (FOO)\r\n"), "Unknown LIST return option: FOO.");
  EXPECT_EQ(bad("a LIST \"\" * RETURN (STATUS (FOO))\r\n"),
            "Unknown STATUS item: FOO (use MESSAGES, RECENT, UIDNEXT, UIDVALIDITY, UNSEEN, SIZE or DELETED).");
  EXPECT_EQ(bad("a LIST \"\" ()\r\n"), "The LIST pattern list is empty; give at least one pattern.");
  EXPECT_EQ(bad("a LIST \"\"\r\n"), "Missing mailbox pattern.");
  EXPECT_EQ(bad("a LIST \"\" * EXTRA\r\n"), "Unexpected EXTRA after the LIST pattern; expected RETURN.");
  EXPECT_EQ(bad("a LSUB \"\" * RETURN (CHILDREN)\r\n"), "Too many arguments for LSUB: found \"RETURN\".");
}

TEST(ImapParser, SelectParameters) {
  EXPECT_EQ(one("a SELECT INBOX (CONDSTORE)\r\n"), "command: a SELECT \"INBOX\" (CONDSTORE)");
  EXPECT_EQ(one("a SELECT INBOX (QRESYNC (67890007 20050715194045000 41,43:211,214:541))\r\n"),
            "command: a SELECT \"INBOX\" (QRESYNC)");
  EXPECT_EQ(one("a EXAMINE \"Sent Items\" (condstore qresync)\r\n"),
            "command: a EXAMINE \"Sent Items\" (CONDSTORE QRESYNC)");
  EXPECT_EQ(one("a CREATE Archive (USE (\\Archive))\r\n"), "command: a CREATE \"Archive\" (USE)");
  EXPECT_EQ(bad("a SELECT INBOX (CONDSTORE\r\n"), "Unterminated parameter list: missing ')'.");
  EXPECT_EQ(bad("a DELETE INBOX (CONDSTORE)\r\n"), "Too many arguments for DELETE: found \"(CONDSTORE)\".");
}

TEST(ImapParser, StatusItems) {
  EXPECT_EQ(one("a status \"Sent Items\" (messages recent uidnext uidvalidity unseen size deleted)\r\n"),
            "command: a STATUS \"Sent Items\" (MESSAGES RECENT UIDNEXT UIDVALIDITY UNSEEN SIZE DELETED)");
  EXPECT_EQ(bad("a STATUS INBOX ()\r\n"), "The STATUS item list is empty; name at least one item.");
  EXPECT_EQ(bad("a STATUS INBOX (HIGHESTMODSEQ)\r\n"),
            "Unknown STATUS item: HIGHESTMODSEQ (use MESSAGES, RECENT, UIDNEXT, UIDVALIDITY, UNSEEN, SIZE or DELETED).");
  EXPECT_EQ(bad("a STATUS INBOX MESSAGES\r\n"),
            "Expected '(' to open the STATUS item list, found \"MESSAGES\".");
}

TEST(ImapParser, FetchAttributes) {
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"a FETCH 1 ALL\r\n", "command: a FETCH 1 (FLAGS INTERNALDATE RFC822.SIZE ENVELOPE)"},
      {"a FETCH 1 fast\r\n", "command: a FETCH 1 (FLAGS INTERNALDATE RFC822.SIZE)"},
      {"a FETCH 1:* (ENVELOPE FLAGS INTERNALDATE UID RFC822 RFC822.HEADER RFC822.SIZE RFC822.TEXT BODY "
       "BODYSTRUCTURE)\r\n",
       "command: a FETCH 1:* (ENVELOPE FLAGS INTERNALDATE UID RFC822 RFC822.HEADER RFC822.SIZE RFC822.TEXT BODY "
       "BODYSTRUCTURE)"},
      {"a FETCH 1 (BODY[] BODY.PEEK[] BODY[]<0.65536> BODY.PEEK[TEXT]<0.2048>)\r\n",
       "command: a FETCH 1 (BODY[] BODY.PEEK[] BODY[]<0.65536> BODY.PEEK[TEXT]<0.2048>)"},
      {"a FETCH 1 (BODY.PEEK[1.2]<0.393216> BODY[1.MIME] BODY[2.1.HEADER] BODY[3.TEXT] BODY[4])\r\n",
       "command: a FETCH 1 (BODY.PEEK[1.2]<0.393216> BODY[1.MIME] BODY[2.1.HEADER] BODY[3.TEXT] BODY[4])"},
      {"a UID FETCH 5:7,9 (UID FLAGS INTERNALDATE ENVELOPE BODYSTRUCTURE BODY.PEEK[HEADER.FIELDS (REFERENCES "
       "THREAD-TOPIC)])\r\n",
       "command: a UID FETCH 5:7,9 (UID FLAGS INTERNALDATE ENVELOPE BODYSTRUCTURE BODY.PEEK[HEADER.FIELDS "
       "(REFERENCES THREAD-TOPIC)])"},
      {"a FETCH 2 body.peek[header.fields.not (\"Received\" {4+}\r\nX-Me)]\r\n",
       "command: a FETCH 2 (BODY.PEEK[HEADER.FIELDS.NOT (Received X-Me)])"},
      {"a FETCH 3 BODY\r\n", "command: a FETCH 3 (BODY)"},
      {"a FETCH 3 BODY[]\r\n", "command: a FETCH 3 (BODY[])"},
      {"a FETCH 4:2,*,7:* (FLAGS)\r\n", "command: a FETCH 4:2,*,7:* (FLAGS)"},
  };
  for (const auto& [input, expected] : cases) EXPECT_EQ(one(input), expected) << input;

  const Command fetch = parse("a FETCH 1 BODY[1.2.3.HEADER.FIELDS (From)]<10.20>\r\n");
  const auto& attribute = std::get<FetchArgs>(fetch.arguments).attributes.at(0);
  EXPECT_EQ(attribute.section.part, (std::vector<std::uint32_t>{1, 2, 3}));
  EXPECT_EQ(attribute.section.text, SectionSpec::Text::header_fields);
  EXPECT_EQ(attribute.section.fields, (std::vector<std::string>{"From"}));
  ASSERT_TRUE(attribute.partial);
  EXPECT_EQ(attribute.partial->offset, 10U);
  EXPECT_EQ(attribute.partial->length, 20U);

  EXPECT_EQ(bad("a FETCH 1 (FLAGS ALL)\r\n"),
            "The macro ALL cannot be combined with other FETCH attributes; send it alone.");
  EXPECT_EQ(bad("a FETCH 1 (FLAGS X-GM-LABELS)\r\n"), "Unknown FETCH attribute: X-GM-LABELS.");
  EXPECT_EQ(bad("a FETCH 1 ()\r\n"), "The FETCH attribute list is empty; name at least one attribute.");
  EXPECT_EQ(bad("a FETCH 1 (FLAGS\r\n"), "Unterminated FETCH attribute list: missing ')'.");
  EXPECT_EQ(bad("a FETCH 1 BODY[MIME]\r\n"), "Invalid section: MIME needs a part number, as in BODY[1.MIME].");
  EXPECT_EQ(bad("a FETCH 1 BODY[0]\r\n"), "Invalid section part number 0 in 0.");
  EXPECT_EQ(bad("a FETCH 1 BODY[1.]\r\n"), "Invalid section: 1. ends with a dot.");
  EXPECT_EQ(bad("a FETCH 1 BODY[FOO]\r\n"),
            "Invalid section: FOO (use HEADER, HEADER.FIELDS, HEADER.FIELDS.NOT, TEXT, MIME or part numbers).");
  EXPECT_EQ(bad("a FETCH 1 BODY[HEADER.FIELDS ()]\r\n"), "The header field list is empty; name at least one field.");
  EXPECT_EQ(bad("a FETCH 1 BODY[HEADER.FIELDS]\r\n"), "Expected a space before the header field list, found \"]\".");
  EXPECT_EQ(bad("a FETCH 1 BODY[TEXT\r\n"), "Invalid section: expected ']', found the end of the command.");
  EXPECT_EQ(bad("a FETCH 1 BODY[]<0.0>\r\n"), "Invalid partial fetch: the length must be at least 1.");
  EXPECT_EQ(bad("a FETCH 1 BODY[]<5>\r\n"), "Expected '.' between the partial offset and length, found \">\".");
  EXPECT_EQ(bad("a FETCH 1 BODY[]<0.99999999999>\r\n"), "The partial length 99999999999 is too large.");
  EXPECT_EQ(bad("a FETCH 1 BODY.PEEK\r\n"), "BODY.PEEK must be followed by a section such as BODY.PEEK[].");
  EXPECT_EQ(bad("a FETCH 1\r\n"), "Missing FETCH attributes.");
  EXPECT_EQ(bad("a FETCH 1 (FLAGS) (CHANGEDSINCE 12345)\r\n"),
            "Too many arguments for FETCH: found \"(CHANGEDSINCE\".");
}

TEST(ImapParser, SequenceSets) {
  const Command fetch = parse("a UID FETCH 1,3:5,7:*,*:2,4294967295 FLAGS\r\n");
  const auto& set = std::get<FetchArgs>(fetch.arguments).set;
  ASSERT_EQ(set.ranges.size(), 5U);
  EXPECT_EQ(set.ranges[0], (SequenceRange{SequenceBound::number(1), SequenceBound::number(1)}));
  EXPECT_EQ(set.ranges[2], (SequenceRange{SequenceBound::number(7), SequenceBound::largest()}));
  EXPECT_EQ(set.ranges[3], (SequenceRange{SequenceBound::largest(), SequenceBound::number(2)}));
  EXPECT_EQ(set.ranges[4].first.value, 4294967295U);

  const std::string hint = " (use numbers from 1 to 4294967295, 'n:m' ranges and '*', separated by commas).";
  EXPECT_EQ(bad("a FETCH 0:3 FLAGS\r\n"), "Invalid sequence set: 0:3" + hint);
  EXPECT_EQ(bad("a FETCH 0 FLAGS\r\n"), "Invalid sequence set: 0" + hint);
  EXPECT_EQ(bad("a UID FETCH 1:0 FLAGS\r\n"), "Invalid sequence set: 1:0" + hint);
  EXPECT_EQ(bad("a FETCH 4294967296 FLAGS\r\n"), "Invalid sequence set: 4294967296" + hint);
  EXPECT_EQ(bad("a FETCH 1,,2 FLAGS\r\n"), "Invalid sequence set: 1,,2" + hint);
  EXPECT_EQ(bad("a FETCH 1, FLAGS\r\n"), "Invalid sequence set: 1," + hint);
  EXPECT_EQ(bad("a FETCH 1:2:3 FLAGS\r\n"), "Invalid sequence set: 1:2:3" + hint);
  EXPECT_EQ(bad("a FETCH ** FLAGS\r\n"), "Invalid sequence set: **" + hint);
  EXPECT_EQ(bad("a FETCH 1a FLAGS\r\n"), "Invalid sequence set: 1 followed by \"a\".");
  EXPECT_EQ(bad("a FETCH FLAGS\r\n"),
            "Invalid sequence set: expected numbers, ranges or '*', found \"FLAGS\".");
  EXPECT_EQ(bad("a UID EXPUNGE\r\n"), "Missing sequence set.");
  EXPECT_EQ(bad("a SEARCH UID 0:*\r\n"), "Invalid sequence set: 0:*" + hint);
}

TEST(ImapParser, SearchKeys) {
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"a SEARCH ALL ANSWERED DELETED DRAFT FLAGGED NEW OLD RECENT SEEN UNANSWERED UNDELETED UNDRAFT UNFLAGGED "
       "UNSEEN\r\n",
       "command: a SEARCH ALL ANSWERED DELETED DRAFT FLAGGED NEW OLD RECENT SEEN UNANSWERED UNDELETED UNDRAFT "
       "UNFLAGGED UNSEEN"},
      {"a SEARCH KEYWORD $Forwarded UNKEYWORD Junk\r\n", "command: a SEARCH KEYWORD \"$Forwarded\" UNKEYWORD \"Junk\""},
      {"a SEARCH BCC b CC \"c d\" FROM f SUBJECT {2+}\r\nhi TEXT t TO x BODY y\r\n",
       "command: a SEARCH BCC \"b\" CC \"c d\" FROM \"f\" SUBJECT \"hi\" TEXT \"t\" TO \"x\" BODY \"y\""},
      {"a UID SEARCH HEADER Message-ID \"<id@x>\"\r\n", "command: a UID SEARCH HEADER \"Message-ID\" \"<id@x>\""},
      {"a SEARCH HEADER X-OfflineIMAP \"\"\r\n", "command: a SEARCH HEADER \"X-OfflineIMAP\" \"\""},
      {"a SEARCH BEFORE 01-Feb-1994 ON \"1-feb-1994\" SINCE \"29-Feb-2024\"\r\n",
       "command: a SEARCH BEFORE 1994-2-1 ON 1994-2-1 SINCE 2024-2-29"},
      {"a SEARCH SENTBEFORE 1-Jan-2000 SENTON 31-Dec-1999 SENTSINCE 15-Jun-2010\r\n",
       "command: a SEARCH SENTBEFORE 2000-1-1 SENTON 1999-12-31 SENTSINCE 2010-6-15"},
      {"a SEARCH LARGER 1024 SMALLER 9999999999\r\n", "command: a SEARCH LARGER 1024 SMALLER 9999999999"},
      {"a UID SEARCH 1176:1200 NOT DELETED\r\n", "command: a UID SEARCH SET 1176:1200 NOT(DELETED)"},
      {"a UID SEARCH UID 500:*\r\n", "command: a UID SEARCH UID 500:*"},
      {"a SEARCH OR SEEN (FLAGGED OR FROM a (NOT TO b 2:4)) UNSEEN\r\n",
       "command: a SEARCH OR(SEEN AND(FLAGGED OR(FROM \"a\" AND(NOT(TO \"b\") SET 2:4)))) UNSEEN"},
      {"a search not not seen\r\n", "command: a SEARCH NOT(NOT(SEEN))"},
      {"a SEARCH (SEEN)\r\n", "command: a SEARCH AND(SEEN)"},
      {"a SEARCH CHARSET US-ASCII FROM x\r\n", "command: a SEARCH CHARSET US-ASCII FROM \"x\""},
  };
  for (const auto& [input, expected] : cases) EXPECT_EQ(one(input), expected) << input;

  EXPECT_EQ(bad("a SEARCH\r\n"), "Missing search criteria.");
  EXPECT_EQ(bad("a SEARCH FOO\r\n"), "Unknown search key: FOO.");
  EXPECT_EQ(bad("a SEARCH FROM\r\n"), "Missing text to search for after FROM.");
  EXPECT_EQ(bad("a SEARCH OR SEEN\r\n"), "Missing second search key after OR.");
  EXPECT_EQ(bad("a SEARCH NOT\r\n"), "Missing search key after NOT.");
  EXPECT_EQ(bad("a SEARCH (SEEN\r\n"), "Unbalanced parentheses in the search criteria: missing ')'.");
  EXPECT_EQ(bad("a SEARCH SEEN)\r\n"), "Unbalanced parentheses: ')' without a matching '('.");
  EXPECT_EQ(bad("a SEARCH ()\r\n"), "Empty parentheses in the search criteria.");
  EXPECT_EQ(bad("a SEARCH SINCE 30-Feb-2020\r\n"), "Invalid date after SINCE: 30-Feb-2020 is not a day of the calendar.");
  EXPECT_EQ(bad("a SEARCH SINCE 29-Feb-2023\r\n"), "Invalid date after SINCE: 29-Feb-2023 is not a day of the calendar.");
  EXPECT_EQ(bad("a SEARCH SINCE 1-Foo-2020\r\n"), "Invalid date after SINCE: 1-Foo-2020 (expected a date like 1-Feb-1994).");
  EXPECT_EQ(bad("a SEARCH SINCE 2020-01-01\r\n"), "Invalid date after SINCE: 2020-01 (expected a date like 1-Feb-1994).");
  EXPECT_EQ(bad("a SEARCH SINCE 001-Jan-2020\r\n"), "Invalid date after SINCE: 001-Jan-2020 (expected a date like 1-Feb-1994).");
  EXPECT_EQ(bad("a SEARCH SINCE \"1-Jan-2020\r\n"), "Invalid date after SINCE: missing closing quote.");
  EXPECT_EQ(bad("a SEARCH LARGER x\r\n"), "Invalid size after LARGER: expected a number, found \"x\".");
  EXPECT_EQ(bad("a SEARCH LARGER 99999999999999999999\r\n"), "The size after LARGER 99999999999999999999 is too large.");
  EXPECT_EQ(bad("a SEARCH KEYWORD \\Seen\r\n"), "Invalid keyword after KEYWORD: expected an atom, found \"\\Seen\".");
  EXPECT_EQ(bad("a SEARCH HEADER Subject\r\n"), "Missing text to search for in the header.");
  EXPECT_EQ(bad("a SEARCH CHARSET\r\n"), "Unknown search key: CHARSET.");
  EXPECT_EQ(bad("a SEARCH " + std::string(200, '(') + "SEEN" + std::string(200, ')') + "\r\n"),
            "Search criteria are nested too deeply.");
  EXPECT_EQ(bad("a SEARCH " + [] {
              std::string deep;
              for (int i = 0; i < 5000; ++i) deep += "NOT ";
              return deep;
            }() + "SEEN\r\n"),
            "Search criteria are nested too deeply.");
}

TEST(ImapParser, Store) {
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"a STORE 1:3 FLAGS (\\Seen \\Flagged)\r\n", "command: a STORE 1:3 FLAGS (\\Seen \\Flagged)"},
      {"a STORE 1 +FLAGS.SILENT (\\Deleted)\r\n", "command: a STORE 1 +FLAGS.SILENT (\\Deleted)"},
      {"a STORE 1 -flags.silent \\Seen $Junk\r\n", "command: a STORE 1 -FLAGS.SILENT (\\Seen $Junk)"},
      {"a UID STORE 7 +FLAGS \\Answered\r\n", "command: a UID STORE 7 +FLAGS (\\Answered)"},
      {"a STORE 1 FLAGS ()\r\n", "command: a STORE 1 FLAGS ()"},
  };
  for (const auto& [input, expected] : cases) EXPECT_EQ(one(input), expected) << input;
  EXPECT_EQ(bad("a STORE 1 +FLAGS\r\n"), "Missing flags.");
  EXPECT_EQ(bad("a STORE 1 LABELS (x)\r\n"),
            "Invalid STORE item: LABELS (use FLAGS, +FLAGS or -FLAGS, optionally with .SILENT).");
  EXPECT_EQ(bad("a STORE 1 FLAGS (\\Seen\r\n"), "Unterminated flag list: missing ')'.");
  EXPECT_EQ(bad("a STORE 1 FLAGS \\*\r\n"), "Invalid flag: '\\' must be followed by a flag name such as \\Seen.");
  EXPECT_EQ(bad("a STORE 1 (UNCHANGEDSINCE 5) FLAGS \\Seen\r\n"),
            "Invalid STORE item: expected an atom, found \"(UNCHANGEDSINCE\".");
}

TEST(ImapParser, MissingAndExtraArguments) {
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"a LOGIN\r\n", "Missing user name."},
      {"a LOGIN user\r\n", "Missing password."},
      {"a LOGIN user pass extra\r\n", "Too many arguments for LOGIN: found \"extra\"."},
      {"a SELECT\r\n", "Missing mailbox name."},
      {"a SELECT \r\n", "Missing mailbox name."},
      {"a RENAME a\r\n", "Missing new mailbox name."},
      {"a COPY 1\r\n", "Missing mailbox name."},
      {"a APPEND INBOX\r\n", "Missing message literal."},
      {"a APPEND INBOX \"message\"\r\n",
       "Invalid date-time \"message\": bad day (expected \"17-Jul-1996 02:44:25 -0700\")."},
      {"a APPEND INBOX (\\Seen) message\r\n",
       "The APPEND message must be sent as a literal ({size} or {size+}), found \"message\"."},
      {"a APPEND INBOX {1+}\r\nx {1+}\r\ny\r\n", "Too many arguments for APPEND: found a literal."},
      {"a AUTHENTICATE\r\n", "Missing authentication mechanism."},
      {"a AUTHENTICATE PLAIN not*base64\r\n", "Invalid initial response: send it base64-encoded, or '=' for an empty one."},
      {"a ENABLE\r\n", "Missing capability to enable."},
      {"a ID\r\n", "Missing ID parameter list or NIL."},
      {"a ID (\"name\")\r\n", "Expected a space before the ID field value, found \")\"."},
      {"a ID (\"name\" \"x\"\r\n", "Unterminated ID parameter list: missing ')'."},
      {"a ID foo\r\n", "Invalid ID parameters: expected a parenthesised list or NIL."},
      {"a NOOP extra\r\n", "Too many arguments for NOOP: found \"extra\"."},
      {"a STATUS INBOX\r\n", "Missing STATUS item list."},
      {"a UID\r\n", "Missing command after UID."},
      {"a UID LOGIN a b\r\n", "UID must be followed by FETCH, SEARCH, STORE, COPY, MOVE or EXPUNGE, not LOGIN."},
      {"a FOO\r\n", "Unknown command: FOO."},
      {"a XLIST \"\"\r\n", "Missing mailbox pattern."},
      {"a\r\n", "Missing command name."},
      {"a LOGIN \"unterminated\r\n", "Unterminated quoted string in the user name."},
      {"a LOGIN \"bad\\escape\" x\r\n", "Invalid escape in the quoted user name: only \\\" and \\\\ may be escaped."},
  };
  for (const auto& [input, expected] : cases) EXPECT_EQ(bad(input), expected) << input;
}

TEST(ImapParser, BadTagsAndBytes) {
  EXPECT_EQ(one("+ NOOP\r\n"),
            "bad: * Invalid tag: a command starts with a tag made of letters, digits or punctuation.");
  EXPECT_EQ(one("(a NOOP\r\n"),
            "bad: * Invalid tag: a command starts with a tag made of letters, digits or punctuation.");
  EXPECT_EQ(one(" a NOOP\r\n"),
            "bad: * Invalid tag: a command starts with a tag made of letters, digits or punctuation.");
  EXPECT_EQ(one(std::string("a NO\0OP\r\n", 9)), "bad: a The command contains a NUL byte, which IMAP does not allow.");
  EXPECT_EQ(one(std::string("a LOGIN {3+}\r\na\0b x\r\n", 21)),
            "bad: a The literal user name contains a NUL byte, which IMAP does not allow.");
  EXPECT_EQ(one("a NO\rOP\r\n"), "bad: a The command contains a CR that does not end a line.");
  EXPECT_EQ(one("a SELECT Entw\xc3\xbcrfe\r\n"),
            "bad: a Invalid mailbox name: 8-bit characters must be sent in a quoted string or a literal.");
  EXPECT_EQ(one("a SELECT \"Entw\xc3\xbcrfe\"\r\n"), "command: a SELECT \"Entw\xc3\xbcrfe\"");
  EXPECT_EQ(one("a \xff\r\n"), "bad: a Invalid command name: 8-bit characters must be sent in a quoted string or a literal.");
  // After a BAD the next command is read cleanly.
  EXPECT_EQ(events("a FETCH 0 FLAGS\r\nb NOOP\r\n").back(), "command: b NOOP");
}

TEST(ImapParser, CommandNames) {
  EXPECT_EQ(command_name(CommandKind::namespace_), "NAMESPACE");
  EXPECT_EQ(command_name(CommandKind::delete_), "DELETE");
  EXPECT_EQ(command_name(CommandKind::fetch), "FETCH");
  EXPECT_EQ(command_name(CommandKind::move), "MOVE");
  EXPECT_EQ(command_name(CommandKind::unselect), "UNSELECT");
}

TEST(ImapParser, DateTimeValidation) {
  const std::string hint = " (expected \"17-Jul-1996 02:44:25 -0700\").";
  EXPECT_EQ(bad("a APPEND INBOX \"17-Jul-1996 24:00:00 +0000\" {1+}\r\nx\r\n"),
            "Invalid date-time \"17-Jul-1996 24:00:00 +0000\": no such time" + hint);
  EXPECT_EQ(bad("a APPEND INBOX \"17-Jul-1996 02:44:25 0700\" {1+}\r\nx\r\n"),
            "Invalid date-time \"17-Jul-1996 02:44:25 0700\": the time zone must start with + or -" + hint);
  EXPECT_EQ(bad("a APPEND INBOX \"17-Jul-1996 02:44:25 +0760\" {1+}\r\nx\r\n"),
            "Invalid date-time \"17-Jul-1996 02:44:25 +0760\": bad time zone" + hint);
  EXPECT_EQ(bad("a APPEND INBOX \"17-Jul-96 02:44:25 +0000\" {1+}\r\nx\r\n"),
            "Invalid date-time \"17-Jul-96 02:44:25 +0000\": bad year" + hint);
  EXPECT_EQ(bad("a APPEND INBOX \"17-Jul-1996\" {1+}\r\nx\r\n"),
            "Invalid date-time \"17-Jul-1996\": missing time" + hint);
}

}  // namespace
}  // namespace mailtrixy::imap
