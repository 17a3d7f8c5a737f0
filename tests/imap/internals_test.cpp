// Tests of the module's private helpers (src/imap/*.hpp): text decoding for SEARCH, sequence
// sets, the structure cache, error translation and formatting.
#include "mailtrixy/imap/structure_cache.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <thread>

#include "format.hpp"
#include "reply.hpp"
#include "selected_folder.hpp"
#include "text_search.hpp"

namespace mailtrixy::imap::detail {
namespace {

SequenceSet set_of(std::vector<std::pair<std::int64_t, std::int64_t>> ranges) {
  SequenceSet set;
  for (auto [a, b] : ranges) {
    auto bound = [](std::int64_t v) { return v < 0 ? SequenceBound::largest() : SequenceBound::number(static_cast<std::uint32_t>(v)); };
    set.ranges.push_back({bound(a), bound(b)});
  }
  return set;
}

std::vector<mail::Uid> view_of(std::vector<std::uint32_t> uids) {
  std::vector<mail::Uid> view;
  for (auto uid : uids) view.emplace_back(uid);
  return view;
}

TEST(ImapSessionInternals, DecodeHeaderValue) {
  EXPECT_EQ(decode_header_value("=?utf-8?q?J=C3=BCrgen?= M\xC3\xBCller"), "J\xC3\xBCrgen M\xC3\xBCller");
  EXPECT_EQ(decode_header_value("=?ISO-8859-1?Q?Gr=FC=DFe?="), "Gr\xC3\xBC\xC3\x9F" "e");
  EXPECT_EQ(decode_header_value("=?utf-8?B?SGVsbG8gV29ybGQ=?="), "Hello World");
  // Whitespace between adjacent encoded words disappears; between a word and text it stays.
  EXPECT_EQ(decode_header_value("=?utf-8?q?a?= =?utf-8?q?b?= c"), "ab c");
  EXPECT_EQ(decode_header_value("=?utf-8?q?under_score?="), "under score");
  EXPECT_EQ(decode_header_value("=?bogus"), "=?bogus");
  EXPECT_EQ(decode_header_value("=?utf-8?x?abc?="), "=?utf-8?x?abc?=");
  EXPECT_EQ(decode_header_value("=?windows-1252?q?=80uro?="), "\xE2\x82\xAC" "uro");
  EXPECT_EQ(decode_header_value("plain text"), "plain text");
}

TEST(ImapSessionInternals, DecodeTransferEncodings) {
  EXPECT_EQ(decode_transfer_encoding("a=3Db=\r\nc", "Quoted-Printable"), "a=bc");
  EXPECT_EQ(decode_transfer_encoding("a=\nb", "quoted-printable"), "ab");
  EXPECT_EQ(decode_transfer_encoding("=ZZ", "quoted-printable"), "=ZZ");
  EXPECT_EQ(decode_transfer_encoding("SGVs\r\nbG8=", "BASE64"), "Hello");
  EXPECT_EQ(decode_transfer_encoding("raw", "8bit"), "raw");
  EXPECT_EQ(to_utf8("\xE9t\xE9", "latin1"), "\xC3\xA9t\xC3\xA9");
  EXPECT_EQ(to_utf8("\x93q\x94", "cp1252"), "\xE2\x80\x9Cq\xE2\x80\x9D");
  EXPECT_EQ(to_utf8("\xC3\xA9", "utf-8"), "\xC3\xA9");
}

TEST(ImapSessionInternals, FoldCase) {
  EXPECT_EQ(fold_case("HeLLo"), "hello");
  EXPECT_EQ(fold_case("\xC3\x9C" "BER"), "\xC3\xBC" "ber");            // Ü
  EXPECT_EQ(fold_case("\xC3\x9F"), "\xC3\x9F");                        // ß stays
  EXPECT_EQ(fold_case("\xD0\x9C\xD0\x98\xD0\xA0"), "\xD0\xBC\xD0\xB8\xD1\x80");  // МИР -> мир
  EXPECT_EQ(fold_case("\xCE\xA3"), "\xCF\x83");                        // Σ -> σ
  EXPECT_EQ(fold_case("\xC5\x81\xC3\xB3\x64\xC5\xBA"), "\xC5\x82\xC3\xB3\x64\xC5\xBA");  // Łódź
  EXPECT_EQ(fold_case("\xFF\xFE bad"), "\xFF\xFE bad");
}

TEST(ImapSessionInternals, SearchableBody) {
  std::string message =
      "Content-Type: multipart/alternative; boundary=x\r\n\r\n--x\r\nContent-Type: text/plain; charset=iso-8859-1\r\n"
      "Content-Transfer-Encoding: quoted-printable\r\n\r\nK=E4se\r\n--x\r\nContent-Type: message/rfc822\r\n\r\n"
      "Subject: =?utf-8?q?inner?=\r\n\r\nInner body\r\n--x--\r\n";
  auto structure = mime::parse_structure(message);
  auto text = searchable_body(structure, message);
  EXPECT_NE(text.find("K\xC3\xA4se"), std::string::npos) << text;
  EXPECT_NE(text.find("Subject: inner"), std::string::npos) << text;
  EXPECT_NE(text.find("Inner body"), std::string::npos) << text;
  EXPECT_EQ(searchable_header("Subject: =?utf-8?q?hi?=\r\n folded\r\nX: y\r\n\r\nbody"), "Subject: hi folded\nX: y\n");
}

TEST(ImapSessionInternals, ResolveSequenceNumbers) {
  auto view = view_of({3, 5, 9, 12});
  auto r = resolve_sequence_set(set_of({{1, 2}, {4, 4}}), view, false);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(*r, (std::vector<std::size_t>{0, 1, 3}));
  r = resolve_sequence_set(set_of({{-1, 2}}), view, false);  // *:2
  EXPECT_EQ(*r, (std::vector<std::size_t>{1, 2, 3}));
  r = resolve_sequence_set(set_of({{3, 3}, {1, 1}, {3, 3}}), view, false);
  EXPECT_EQ(*r, (std::vector<std::size_t>{0, 2}));
  r = resolve_sequence_set(set_of({{2, 5}}), view, false);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().message.find("number 5"), std::string::npos);
  r = resolve_sequence_set(set_of({{1, -1}}), {}, false);
  ASSERT_TRUE(r.ok());
  EXPECT_TRUE(r->empty());
  EXPECT_FALSE(resolve_sequence_set(set_of({{1, 1}}), {}, false).ok());
}

TEST(ImapSessionInternals, ResolveUids) {
  auto view = view_of({3, 5, 9, 12});
  EXPECT_EQ(*resolve_sequence_set(set_of({{4, 9}}), view, true), (std::vector<std::size_t>{1, 2}));
  EXPECT_EQ(*resolve_sequence_set(set_of({{13, -1}}), view, true), (std::vector<std::size_t>{3}));
  EXPECT_EQ(*resolve_sequence_set(set_of({{-1, -1}}), view, true), (std::vector<std::size_t>{3}));
  EXPECT_TRUE(resolve_sequence_set(set_of({{100, 200}}), view, true)->empty());
  EXPECT_TRUE(resolve_sequence_set(set_of({{1, -1}}), {}, true)->empty());
  EXPECT_EQ(*resolve_sequence_set(set_of({{9, 3}}), view, true), (std::vector<std::size_t>{0, 1, 2}));
}

TEST(ImapSessionInternals, IntervalSetAndCompactSet) {
  IntervalSet set(set_of({{5, 7}, {1, 1}, {6, 9}, {-1, 20}}), 15);
  EXPECT_TRUE(set.contains(1));
  EXPECT_FALSE(set.contains(2));
  EXPECT_TRUE(set.contains(5));
  EXPECT_TRUE(set.contains(9));
  EXPECT_FALSE(set.contains(10));
  EXPECT_TRUE(set.contains(15));
  EXPECT_TRUE(set.contains(20));
  EXPECT_FALSE(set.contains(21));
  EXPECT_EQ(compact_set({1, 2, 3, 5, 7, 8}), "1:3,5,7:8");
  EXPECT_EQ(compact_set({4}), "4");
  EXPECT_EQ(compact_set({}), "");
}

TEST(ImapSessionInternals, ErrorTranslationIsComplete) {
  using mail::ErrorCode;
  struct Case {
    ErrorCode code;
    const char* response;
  };
  for (auto [code, response] : std::vector<Case>{{ErrorCode::not_found, "NONEXISTENT"},
                                                 {ErrorCode::already_exists, "ALREADYEXISTS"},
                                                 {ErrorCode::no_permission, "NOPERM"},
                                                 {ErrorCode::too_big, "TOOBIG"},
                                                 {ErrorCode::unavailable, "UNAVAILABLE"},
                                                 {ErrorCode::needs_sign_in, "UNAVAILABLE"},
                                                 {ErrorCode::quota, "OVERQUOTA"},
                                                 {ErrorCode::invalid, "CANNOT"},
                                                 {ErrorCode::sync_state_not_found, "UNAVAILABLE"},
                                                 {ErrorCode::not_supported, "CANNOT"},
                                                 {ErrorCode::internal, "SERVERBUG"}}) {
    auto reply = translate_error(mail::make_mail_error(code, "Why."));
    EXPECT_EQ(reply.status, Reply::Status::no);
    EXPECT_EQ(reply.code, response) << to_string(code);
    EXPECT_EQ(reply.text, "Why.");
  }
  EXPECT_EQ(translate_error(mail::make_mail_error(ErrorCode::not_found, "x"), ErrorContext::destination).code, "TRYCREATE");
  std::string out;
  write_tagged(out, "t1", Reply::no("a\r\nb", "X"));
  EXPECT_EQ(out, "t1 NO [X] a  b\r\n");
}

TEST(ImapSessionInternals, InternalDateFormat) {
  using namespace std::chrono;
  EXPECT_EQ(format_internal_date(sys_days{year{1996} / 7 / 17} + hours{2} + minutes{44} + seconds{25}),
            "17-Jul-1996 02:44:25 +0000");
  EXPECT_EQ(format_internal_date(sys_days{year{2026} / 1 / 1}), "01-Jan-2026 00:00:00 +0000");
  EXPECT_EQ(format_internal_date(sys_days{year{2026} / 12 / 31} + hours{23}), "31-Dec-2026 23:00:00 +0000");
}

std::shared_ptr<const CachedStructure> entry(std::size_t body_size) {
  auto value = std::make_shared<CachedStructure>();
  value->message_size = body_size;
  value->body_structure = std::string(body_size, 'x');
  return value;
}

mail::ChangeEvent flags_event(std::uint32_t uid, mail::Flags flags) {
  mail::ChangeEvent event;
  event.kind = mail::ChangeEvent::Kind::flags_changed;
  event.folder = "INBOX";
  event.uid = mail::Uid(uid);
  event.meta.uid = mail::Uid(uid);
  event.meta.flags = std::move(flags);
  return event;
}

// A session remembers the flags of messages it changed itself (to drop the echo), never those
// other sessions change: its memory must not grow with the folder's traffic.
TEST(ImapSelectedFolder, RemembersOnlyItsOwnChanges) {
  SelectedFolder folder;
  folder.path = "INBOX";
  for (std::uint32_t uid = 1; uid <= 1000; ++uid) folder.uids.emplace_back(uid);

  mail::Flags seen;
  seen.set(mail::SystemFlag::seen);
  for (std::uint32_t uid = 1; uid <= 1000; ++uid) folder.pending->push(flags_event(uid, seen));
  std::string out;
  ASSERT_TRUE(folder.deliver(out, true));
  EXPECT_EQ(std::count(out.begin(), out.end(), '\n'), 1000);
  EXPECT_EQ(folder.remembered_flags(), 0u);

  // Our own STORE on UID 7: its echo is dropped, a later change by someone else is told.
  mail::Flags flagged = seen;
  flagged.set(mail::SystemFlag::flagged);
  folder.remember_flags(mail::Uid(7), flagged);
  folder.pending->push(flags_event(7, flagged));
  out.clear();
  ASSERT_TRUE(folder.deliver(out, true));
  EXPECT_EQ(out, "");
  folder.pending->push(flags_event(7, seen));
  ASSERT_TRUE(folder.deliver(out, true));
  EXPECT_EQ(out, "* 7 FETCH (UID 7 FLAGS (\\Seen))\r\n");
  EXPECT_EQ(folder.remembered_flags(), 1u);
}

TEST(ImapSessionStructureCache, HitsMissesAndLru) {
  StructureCache cache(64 * 1024);
  StructureCacheKey a{"acct", "INBOX", 1, 1};
  StructureCacheKey b{"acct", "INBOX", 1, 2};
  StructureCacheKey c{"acct", "INBOX", 2, 1};  // other UIDVALIDITY: another key
  EXPECT_EQ(cache.find(a), nullptr);
  cache.insert(a, entry(1000));
  cache.insert(b, entry(1000));
  EXPECT_NE(cache.find(a), nullptr);
  EXPECT_EQ(cache.find(c), nullptr);
  auto stats = cache.stats();
  EXPECT_EQ(stats.entries, 2U);
  EXPECT_EQ(stats.hits, 1U);
  EXPECT_EQ(stats.misses, 2U);
  // Fill past the bound: b (least recently used) goes before a.
  for (std::uint32_t uid = 10; uid < 80; ++uid) {
    cache.insert({"acct", "INBOX", 1, uid}, entry(1000));
    (void)cache.find(a);
  }
  EXPECT_NE(cache.find(a), nullptr);
  EXPECT_EQ(cache.find(b), nullptr);
  EXPECT_LE(cache.stats().bytes, 64U * 1024U);
  // Entries bigger than an eighth of the bound are not kept.
  cache.insert({"acct", "INBOX", 1, 500}, entry(20000));
  EXPECT_EQ(cache.find({"acct", "INBOX", 1, 500}), nullptr);
  // Replacing an entry keeps the byte count right.
  auto before = cache.stats().bytes;
  cache.insert(a, entry(1000));
  EXPECT_EQ(cache.stats().bytes, before);
}

TEST(ImapSessionStructureCache, ThreadSafe) {
  StructureCache cache(1024 * 1024);
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&cache, t] {
      for (std::uint32_t i = 0; i < 2000; ++i) {
        StructureCacheKey key{"acct", "INBOX", 1, i % 300};
        if (!cache.find(key)) cache.insert(key, entry(100 + static_cast<std::size_t>(t)));
      }
    });
  }
  for (auto& thread : threads) thread.join();
  EXPECT_EQ(cache.stats().hits + cache.stats().misses, 8000U);
}

}  // namespace
}  // namespace mailtrixy::imap::detail
