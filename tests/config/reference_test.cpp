// docs/configuration.md against the loader: every key the loader accepts has a row, every row
// names a key the loader accepts, and every documented default is the real one. A default is
// checked by loading the documented text and formatting the result next to the defaults of an
// empty file, so "48h" and the struct's 172800 seconds compare equal, and a documented value the
// loader would reject fails too.
#include "mailtrixy/config/reference.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <map>
#include <optional>
#include <sstream>
#include <string>
#include <vector>

#include "mailtrixy/config/load.hpp"

namespace mailtrixy::config {
namespace {

const std::filesystem::path kSourceDir = MAILTRIXY_SOURCE_DIR;
// Where the documented defaults are loaded from; only anchors relative paths, never read.
const std::filesystem::path kConfigPath = "/etc/mailtrixy/mailtrixy.yaml";

std::string read_text(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream content;
  content << in.rdbuf();
  return content.str();
}

Environment no_environment() {
  return [](const std::string&) -> std::optional<std::string> { return std::nullopt; };
}

std::string trim(std::string text) {
  const auto not_space = [](char c) { return c != ' ' && c != '\t'; };
  text.erase(text.begin(), std::find_if(text.begin(), text.end(), not_space));
  text.erase(std::find_if(text.rbegin(), text.rend(), not_space).base(), text.end());
  return text;
}

// The text between the first pair of backticks of a table cell, or nullopt.
std::optional<std::string> code_in(const std::string& cell) {
  const auto open = cell.find('`');
  if (open == std::string::npos) return std::nullopt;
  const auto close = cell.find('`', open + 1);
  if (close == std::string::npos) return std::nullopt;
  return cell.substr(open + 1, close - open - 1);
}

struct DocumentedKey {
  std::string default_text;
  int line = 0;
};

// The rows of the table under "## Keys": | `key` | `default` | meaning |.
std::map<std::string, DocumentedKey> documented_keys(const std::string& markdown) {
  std::map<std::string, DocumentedKey> keys;
  std::istringstream lines(markdown);
  std::string line;
  bool in_keys_section = false;
  int number = 0;
  while (std::getline(lines, line)) {
    ++number;
    if (line.starts_with("## ")) {
      in_keys_section = line == "## Keys";
      continue;
    }
    if (!in_keys_section || !line.starts_with("| `")) continue;
    std::vector<std::string> cells;
    std::string cell;
    std::istringstream row(line.substr(1));
    while (std::getline(row, cell, '|')) cells.push_back(trim(cell));
    if (cells.size() < 3) {
      ADD_FAILURE() << "docs/configuration.md:" << number << ": a key row needs | `key` | `default` | meaning |";
      continue;
    }
    const auto key = code_in(cells[0]);
    const auto default_text = code_in(cells[1]);
    if (!key || !default_text) {
      ADD_FAILURE() << "docs/configuration.md:" << number
                    << ": write the key and its default in backticks, one key per row";
      continue;
    }
    keys[*key] = DocumentedKey{*default_text, number};
  }
  return keys;
}

// `key: value` placed in its section, as a config file would hold it.
std::string yaml_setting(const std::string& dotted_key, const std::string& value) {
  const auto dot = dotted_key.find('.');
  if (dot == std::string::npos) return dotted_key + ": " + value + "\n";
  return dotted_key.substr(0, dot) + ":\n  " + dotted_key.substr(dot + 1) + ": " + value + "\n";
}

class ConfigurationReference : public ::testing::Test {
 protected:
  void SetUp() override {
    const std::filesystem::path doc = kSourceDir / "docs/configuration.md";
    ASSERT_TRUE(std::filesystem::exists(doc)) << doc;
    documented = documented_keys(read_text(doc));
    ASSERT_FALSE(documented.empty()) << "no key rows found under \"## Keys\" in " << doc;
  }
  std::map<std::string, DocumentedKey> documented;
};

TEST_F(ConfigurationReference, EveryKeyTheLoaderAcceptsIsDocumented) {
  for (const std::string& key : known_keys()) {
    EXPECT_TRUE(documented.contains(key))
        << "docs/configuration.md has no row for " << key << "; add | `" << key << "` | `default` | meaning |"
        << " under \"## Keys\"";
  }
}

TEST_F(ConfigurationReference, EveryDocumentedKeyIsAccepted) {
  const std::vector<std::string> known = known_keys();
  for (const auto& [key, row] : documented) {
    EXPECT_NE(std::find(known.begin(), known.end(), key), known.end())
        << "docs/configuration.md:" << row.line << " documents " << key << ", which the loader rejects";
  }
}

TEST_F(ConfigurationReference, EveryDocumentedDefaultIsTheRealDefault) {
  const auto defaults = load_from_string("", kConfigPath, no_environment());
  ASSERT_TRUE(defaults) << defaults.error().message;
  for (const auto& [key, row] : documented) {
    const auto expected = format_value(*defaults, key);
    if (!expected) continue;  // reported by EveryKeyCanBeFormatted or EveryDocumentedKeyIsAccepted
    const auto loaded = load_from_string(yaml_setting(key, row.default_text), kConfigPath, no_environment());
    if (!loaded) {
      ADD_FAILURE() << "docs/configuration.md:" << row.line << ": the documented default of " << key
                    << " is rejected by the loader: " << loaded.error().message;
      continue;
    }
    EXPECT_EQ(format_value(*loaded, key), expected)
        << "docs/configuration.md:" << row.line << ": " << key << " is documented with default `"
        << row.default_text << "`, but the default is " << *expected;
  }
}

TEST(ConfigurationKeys, EveryKeyCanBeFormatted) {
  const Settings defaults;
  for (const std::string& key : known_keys()) {
    EXPECT_TRUE(format_value(defaults, key).has_value())
        << key << " is accepted by the loader but has no line in src/config/reference.cpp";
  }
  EXPECT_EQ(format_value(defaults, "imap.lisen"), std::nullopt);
}

TEST(ConfigurationKeys, KnownKeysAreTheLoadersSchema) {
  const std::vector<std::string> keys = known_keys();
  for (const std::string& key : keys) {
    const auto loaded = load_from_string(yaml_setting(key, "~"), kConfigPath, no_environment());
    // A key the loader does not know fails as "unknown key"; a known key may only fail on its value.
    if (!loaded) {
      EXPECT_EQ(loaded.error().message.find("unknown key"), std::string::npos) << loaded.error().message;
    }
  }
  EXPECT_NE(std::find(keys.begin(), keys.end(), "imap.listen"), keys.end());
  EXPECT_NE(std::find(keys.begin(), keys.end(), "public_url"), keys.end());
  const auto typo = load_from_string(yaml_setting("imap.lisen", "x"), kConfigPath, no_environment());
  ASSERT_FALSE(typo);
  EXPECT_NE(typo.error().message.find("unknown key"), std::string::npos);
}

TEST(ConfigurationKeys, FormatsValuesInConfigSyntax) {
  const auto loaded = load_from_string(
      "web:\n  tls: false\nsync:\n  poll_interval: 1h30m\nsmtp:\n  max_message_bytes: 1KiB\n"
      "imap:\n  tls_listen: \"\"\nlog:\n  format: json\nmicrosoft:\n  client_secret: not-shown\n",
      kConfigPath, no_environment());
  ASSERT_TRUE(loaded) << loaded.error().message;
  EXPECT_EQ(format_value(*loaded, "web.tls"), "false");
  EXPECT_EQ(format_value(*loaded, "sync.poll_interval"), "5400s");
  EXPECT_EQ(format_value(*loaded, "smtp.max_message_bytes"), "1024");
  EXPECT_EQ(format_value(*loaded, "imap.tls_listen"), "\"\"");
  EXPECT_EQ(format_value(*loaded, "log.format"), "json");
  EXPECT_EQ(format_value(*loaded, "microsoft.client_secret"), "(set)");
  EXPECT_EQ(format_value(*loaded, "data_dir"), "/etc/mailtrixy/var");
}

// The sample installed for systemd (dist/systemd/mailtrixy.yaml) is a valid configuration.
TEST(ConfigurationKeys, TheSystemdSampleConfigLoads) {
  const std::filesystem::path sample = kSourceDir / "dist/systemd/mailtrixy.yaml";
  const auto loaded = load_from_string(read_text(sample), sample, no_environment());
  ASSERT_TRUE(loaded) << loaded.error().message;
  EXPECT_EQ(loaded->data_dir, "/var/lib/mailtrixy");
  EXPECT_EQ(loaded->tls.cert, "/var/lib/mailtrixy/certs/server.crt");
}

}  // namespace
}  // namespace mailtrixy::config
