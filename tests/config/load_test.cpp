#include "mailtrixy/config/load.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <functional>
#include <map>
#include <string>

#include "mailtrixy/config/diagnose.hpp"
#include "test_support.hpp"

namespace mailtrixy::config {
namespace {

using testing::environment_of;
using ::testing::HasSubstr;
using ::testing::Not;
using ::testing::StartsWith;
using testing::TempDir;

constexpr const char* kLabel = "config/mailtrixy.yaml";

Result<Settings> parse(std::string_view yaml, std::map<std::string, std::string> environment = {}) {
  return load_from_string(yaml, kLabel, environment_of(std::move(environment)));
}

// The load error for `yaml`; fails the test when it loads.
std::string load_error(std::string_view yaml, std::map<std::string, std::string> environment = {}) {
  auto result = parse(yaml, std::move(environment));
  EXPECT_FALSE(result.ok()) << "expected a load error for:\n" << yaml;
  return result.ok() ? std::string() : result.error().message;
}

Settings loaded(std::string_view yaml, std::map<std::string, std::string> environment = {}) {
  auto result = parse(yaml, std::move(environment));
  EXPECT_TRUE(result.ok()) << (result.ok() ? "" : result.error().message);
  return result.ok() ? std::move(result).value() : Settings{};
}

std::filesystem::path config_dir() {
  return std::filesystem::absolute(kLabel).parent_path();
}

// ---- defaults --------------------------------------------------------------------------------

// `files_dir` is where data_dir and the certificates live: the config's own directory for the
// built-in defaults, its parent for the shipped file (which points them to the source tree's top).
void expect_defaults(const Settings& s, const std::filesystem::path& dir, std::filesystem::path files_dir = {}) {
  if (files_dir.empty()) files_dir = dir;
  EXPECT_EQ(s.public_url, "https://localhost:8443");
  EXPECT_EQ(s.data_dir.lexically_normal(), (files_dir / "var").lexically_normal());
  EXPECT_EQ(s.web.listen, "127.0.0.1:8443");
  EXPECT_TRUE(s.web.tls);
  EXPECT_EQ(s.imap.listen, "127.0.0.1:1143");
  EXPECT_EQ(s.imap.tls_listen, "127.0.0.1:1993");
  EXPECT_EQ(s.smtp.listen, "127.0.0.1:1587");
  EXPECT_EQ(s.smtp.tls_listen, "127.0.0.1:1465");
  EXPECT_EQ(s.smtp.max_message_bytes, 157286400U);
  EXPECT_EQ(s.tls.cert.lexically_normal(), (files_dir / "certs/server.crt").lexically_normal());
  EXPECT_EQ(s.tls.key.lexically_normal(), (files_dir / "certs/server.key").lexically_normal());
  EXPECT_EQ(s.microsoft.client_id, "");
  EXPECT_TRUE(s.microsoft.client_secret.empty());
  EXPECT_EQ(s.microsoft.client_secret_source, Source::defaults);
  EXPECT_TRUE(s.microsoft.client_secret_file.empty());
  EXPECT_EQ(s.microsoft.client_secret_expires, "");
  EXPECT_EQ(s.microsoft.tenant, "common");
  EXPECT_EQ(s.microsoft.login_url, "https://login.microsoftonline.com");
  EXPECT_EQ(s.microsoft.graph_url, "https://graph.microsoft.com");
  EXPECT_TRUE(s.microsoft.ca_file.empty());
  EXPECT_EQ(s.admin.username, "admin");
  EXPECT_EQ(s.admin.password_hash, "");
  EXPECT_EQ(s.sync.poll_interval, std::chrono::seconds(60));
  EXPECT_EQ(s.sync.idle_poll_interval, std::chrono::seconds(15));
  EXPECT_EQ(s.sync.body_cache_bytes, 2147483648ULL);
  EXPECT_EQ(s.sync.size_learning_per_minute, 300U);
  EXPECT_EQ(s.queue.retry_for, std::chrono::hours(48));
  EXPECT_EQ(s.queue.backoff_initial, std::chrono::seconds(30));
  EXPECT_EQ(s.queue.backoff_max, std::chrono::minutes(15));
  EXPECT_EQ(s.log.level, log::Level::info);
  EXPECT_EQ(s.log.format, log::Format::text);
}

TEST(ConfigLoad, EmptyFileGivesTheDefaults) {
  const Settings s = loaded("");
  expect_defaults(s, config_dir());
  EXPECT_EQ(s.config_path, kLabel);
}

TEST(ConfigLoad, FileWithOnlyCommentsGivesTheDefaults) {
  expect_defaults(loaded("# nothing\n\n# here\n"), config_dir());
}

TEST(ConfigLoad, EmptySectionsKeepTheDefaults) {
  expect_defaults(loaded("web:\nimap:\nlog:\n"), config_dir());
}

TEST(ConfigLoad, ShippedConfigLoadsCleanlyAtTheDefaults) {
  const std::filesystem::path shipped = std::filesystem::path(MAILTRIXY_SOURCE_DIR) / "config/mailtrixy.yaml";
  auto in_tree = load(shipped, environment_of({}));
  ASSERT_TRUE(in_tree.ok()) << in_tree.error().message;
  expect_defaults(*in_tree, shipped.parent_path().lexically_normal(),
                  shipped.parent_path().parent_path().lexically_normal());

  // Diagnosed from a copy, so data_dir and certs/ resolve into a fresh directory rather than
  // depending on the state (and permissions) of the source tree.
  TempDir dir;
  const auto copy = dir.write("config/mailtrixy.yaml", testing::read_text(shipped));
  auto result = load(copy, environment_of({}));
  ASSERT_TRUE(result.ok()) << result.error().message;
  expect_defaults(*result, dir.path() / "config", dir.path());

  DiagnoseOptions options;
  options.probe_listeners = false;  // other test runs may hold the default ports
  const auto diagnoses = diagnose(*result, options);
  EXPECT_TRUE(can_start(diagnoses)) << format_report(*result, diagnoses);
  std::vector<std::string> warnings;
  for (const Diagnosis& d : diagnoses) {
    EXPECT_NE(d.severity, Severity::error) << d.key << ": " << d.message;
    if (d.severity == Severity::warning) warnings.push_back(d.key);
  }
  EXPECT_EQ(warnings, (std::vector<std::string>{"microsoft.client_id", "microsoft.client_secret"}));
}

TEST(ConfigLoad, ShippedConfigNamesEveryKey) {
  const std::string text =
      testing::read_text(std::filesystem::path(MAILTRIXY_SOURCE_DIR) / "config/mailtrixy.yaml");
  for (const char* key : {"\npublic_url:",
                          "\ndata_dir:",
                          "\nweb:",
                          "\n  listen:",
                          "\n  tls:",
                          "\nimap:",
                          "\n  tls_listen:",
                          "\nsmtp:",
                          "\n  max_message_bytes:",
                          "\ntls:",
                          "\n  cert:",
                          "\n  key:",
                          "\nmicrosoft:",
                          "\n  client_id:",
                          "\n  client_secret:",
                          "\n  client_secret_file:",
                          "\n  client_secret_expires:",
                          "\n  tenant:",
                          "\n  login_url:",
                          "\n  graph_url:",
                          "\n  ca_file:",
                          "\nadmin:",
                          "\n  username:",
                          "\n  password_hash:",
                          "\nsync:",
                          "\n  poll_interval:",
                          "\n  idle_poll_interval:",
                          "\n  body_cache_bytes:",
                          "\n  size_learning_per_minute:",
                          "\nqueue:",
                          "\n  retry_for:",
                          "\n  backoff_initial:",
                          "\n  backoff_max:",
                          "\nlog:",
                          "\n  level:",
                          "\n  format:"}) {
    EXPECT_THAT(text, HasSubstr(key));
  }
}

// ---- every key from YAML ---------------------------------------------------------------------

TEST(ConfigLoad, EveryKeyCanBeSetInYaml) {
  const std::filesystem::path data = MAILTRIXY_CONFIG_TEST_DATA;
  auto result = load(data / "all_keys_changed.yaml", environment_of({}));
  ASSERT_TRUE(result.ok()) << result.error().message;
  const Settings& s = *result;
  EXPECT_EQ(s.config_path, data / "all_keys_changed.yaml");
  EXPECT_EQ(s.public_url, "https://mail.example.com");
  EXPECT_EQ(s.data_dir, data / "state/db");
  EXPECT_EQ(s.web.listen, "0.0.0.0:443");
  EXPECT_TRUE(s.web.tls);
  EXPECT_EQ(s.imap.listen, "[::1]:143");
  EXPECT_EQ(s.imap.tls_listen, "");
  EXPECT_EQ(s.smtp.listen, "127.0.0.1:587");
  EXPECT_EQ(s.smtp.tls_listen, "127.0.0.1:465");
  EXPECT_EQ(s.smtp.max_message_bytes, 25U * 1024 * 1024);
  EXPECT_EQ(s.tls.cert, data / "tls/server.crt");
  EXPECT_EQ(s.tls.key, "/etc/ssl/private/mailtrixy.key");
  EXPECT_EQ(s.microsoft.client_id, "11111111-2222-3333-4444-555555555555");
  EXPECT_EQ(s.microsoft.client_secret.reveal(), "Abc8Q~not-a-real-secret-value.xyz");
  EXPECT_EQ(s.microsoft.client_secret_source, Source::file);
  EXPECT_EQ(s.microsoft.client_secret_file, data / "client_secret.txt");
  EXPECT_EQ(s.microsoft.client_secret_expires, "2030-12-31");
  EXPECT_EQ(s.microsoft.tenant, "organizations");
  EXPECT_EQ(s.microsoft.login_url, "https://127.0.0.1:9443");  // trailing slash dropped
  EXPECT_EQ(s.microsoft.graph_url, "https://127.0.0.1:9443");
  EXPECT_EQ(s.microsoft.ca_file, (data / "../ca/emulator.pem").lexically_normal());
  EXPECT_EQ(s.admin.username, "root");
  EXPECT_EQ(s.admin.password_hash, "$argon2id$v=19$m=65536,t=3,p=4$c2FsdA$aGFzaA");
  EXPECT_EQ(s.sync.poll_interval, std::chrono::minutes(5));
  EXPECT_EQ(s.sync.idle_poll_interval, std::chrono::seconds(5400));
  EXPECT_EQ(s.sync.body_cache_bytes, 1ULL << 30);
  EXPECT_EQ(s.sync.size_learning_per_minute, 60U);
  EXPECT_EQ(s.queue.retry_for, std::chrono::hours(2));
  EXPECT_EQ(s.queue.backoff_initial, std::chrono::seconds(5));
  EXPECT_EQ(s.queue.backoff_max, std::chrono::minutes(1));
  EXPECT_EQ(s.log.level, log::Level::debug);
  EXPECT_EQ(s.log.format, log::Format::json);
}

// ---- every key from the environment ----------------------------------------------------------

struct EnvironmentCase {
  std::string variable;
  std::string value;
  std::function<void(const Settings&)> check;
};

TEST(ConfigLoad, EveryKeyCanBeOverriddenFromTheEnvironment) {
  const auto dir = config_dir();
  const std::vector<EnvironmentCase> cases = {
      {"MAILTRIXY_PUBLIC_URL", "https://bridge.example.org",
       [](const Settings& s) { EXPECT_EQ(s.public_url, "https://bridge.example.org"); }},
      {"MAILTRIXY_DATA_DIR", "/srv/mailtrixy",
       [](const Settings& s) { EXPECT_EQ(s.data_dir, "/srv/mailtrixy"); }},
      {"MAILTRIXY_WEB_LISTEN", "127.0.0.1:9000",
       [](const Settings& s) { EXPECT_EQ(s.web.listen, "127.0.0.1:9000"); }},
      {"MAILTRIXY_WEB_TLS", "false", [](const Settings& s) { EXPECT_FALSE(s.web.tls); }},
      {"MAILTRIXY_IMAP_LISTEN", "127.0.0.1:2143",
       [](const Settings& s) { EXPECT_EQ(s.imap.listen, "127.0.0.1:2143"); }},
      {"MAILTRIXY_IMAP_TLS_LISTEN", "", [](const Settings& s) { EXPECT_EQ(s.imap.tls_listen, ""); }},
      {"MAILTRIXY_SMTP_LISTEN", "127.0.0.1:2587",
       [](const Settings& s) { EXPECT_EQ(s.smtp.listen, "127.0.0.1:2587"); }},
      {"MAILTRIXY_SMTP_TLS_LISTEN", "[::1]:2465",
       [](const Settings& s) { EXPECT_EQ(s.smtp.tls_listen, "[::1]:2465"); }},
      {"MAILTRIXY_SMTP_MAX_MESSAGE_BYTES", "1048576",
       [](const Settings& s) { EXPECT_EQ(s.smtp.max_message_bytes, 1048576U); }},
      {"MAILTRIXY_TLS_CERT", "/etc/tls/c.pem",
       [](const Settings& s) { EXPECT_EQ(s.tls.cert, "/etc/tls/c.pem"); }},
      {"MAILTRIXY_TLS_KEY", "keys/k.pem",
       [dir](const Settings& s) { EXPECT_EQ(s.tls.key, dir / "keys/k.pem"); }},
      {"MAILTRIXY_MICROSOFT_CLIENT_ID", "aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeee",
       [](const Settings& s) { EXPECT_EQ(s.microsoft.client_id, "aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeee"); }},
      {"MAILTRIXY_MICROSOFT_CLIENT_SECRET", "from~env",
       [](const Settings& s) {
         EXPECT_EQ(s.microsoft.client_secret.reveal(), "from~env");
         EXPECT_EQ(s.microsoft.client_secret_source, Source::environment);
       }},
      {"MAILTRIXY_MICROSOFT_CLIENT_SECRET_EXPIRES", "2031-01-01",
       [](const Settings& s) { EXPECT_EQ(s.microsoft.client_secret_expires, "2031-01-01"); }},
      {"MAILTRIXY_MICROSOFT_TENANT", "consumers",
       [](const Settings& s) { EXPECT_EQ(s.microsoft.tenant, "consumers"); }},
      {"MAILTRIXY_MICROSOFT_LOGIN_URL", "https://127.0.0.1:4443",
       [](const Settings& s) { EXPECT_EQ(s.microsoft.login_url, "https://127.0.0.1:4443"); }},
      {"MAILTRIXY_MICROSOFT_GRAPH_URL", "https://127.0.0.1:4444/",
       [](const Settings& s) { EXPECT_EQ(s.microsoft.graph_url, "https://127.0.0.1:4444"); }},
      {"MAILTRIXY_MICROSOFT_CA_FILE", "ca.pem",
       [dir](const Settings& s) { EXPECT_EQ(s.microsoft.ca_file, dir / "ca.pem"); }},
      {"MAILTRIXY_ADMIN_USERNAME", "operator",
       [](const Settings& s) { EXPECT_EQ(s.admin.username, "operator"); }},
      {"MAILTRIXY_ADMIN_PASSWORD_HASH", "hash",
       [](const Settings& s) { EXPECT_EQ(s.admin.password_hash, "hash"); }},
      {"MAILTRIXY_SYNC_POLL_INTERVAL", "2m",
       [](const Settings& s) { EXPECT_EQ(s.sync.poll_interval, std::chrono::seconds(120)); }},
      {"MAILTRIXY_SYNC_IDLE_POLL_INTERVAL", "7",
       [](const Settings& s) { EXPECT_EQ(s.sync.idle_poll_interval, std::chrono::seconds(7)); }},
      {"MAILTRIXY_SYNC_BODY_CACHE_BYTES", "0",
       [](const Settings& s) { EXPECT_EQ(s.sync.body_cache_bytes, 0U); }},
      {"MAILTRIXY_SYNC_SIZE_LEARNING_PER_MINUTE", "0",
       [](const Settings& s) { EXPECT_EQ(s.sync.size_learning_per_minute, 0U); }},
      {"MAILTRIXY_QUEUE_RETRY_FOR", "90s",
       [](const Settings& s) { EXPECT_EQ(s.queue.retry_for, std::chrono::seconds(90)); }},
      {"MAILTRIXY_QUEUE_BACKOFF_INITIAL", "1",
       [](const Settings& s) { EXPECT_EQ(s.queue.backoff_initial, std::chrono::seconds(1)); }},
      {"MAILTRIXY_QUEUE_BACKOFF_MAX", "3s",
       [](const Settings& s) { EXPECT_EQ(s.queue.backoff_max, std::chrono::seconds(3)); }},
      {"MAILTRIXY_LOG_LEVEL", "error", [](const Settings& s) { EXPECT_EQ(s.log.level, log::Level::error); }},
      {"MAILTRIXY_LOG_FORMAT", "json", [](const Settings& s) { EXPECT_EQ(s.log.format, log::Format::json); }},
  };
  // The YAML sets every key to something else, so each case proves the variable wins over it.
  const std::string yaml = R"(
public_url: https://yaml.example.com
data_dir: yaml-data
web: {listen: "127.0.0.1:1000", tls: true}
imap: {listen: "127.0.0.1:1001", tls_listen: "127.0.0.1:1002"}
smtp: {listen: "127.0.0.1:1003", tls_listen: "127.0.0.1:1004", max_message_bytes: 1000}
tls: {cert: yaml.crt, key: yaml.key}
microsoft: {client_id: yaml-id, client_secret: yaml-secret, client_secret_expires: 2020-01-01, tenant: yaml-tenant,
            login_url: "https://login.yaml", graph_url: "https://graph.yaml", ca_file: yaml-ca.pem}
admin: {username: yaml-admin, password_hash: yaml-hash}
sync: {poll_interval: 1s, idle_poll_interval: 2s, body_cache_bytes: 3}
log: {level: warn, format: text}
)";
  for (const EnvironmentCase& c : cases) {
    SCOPED_TRACE(c.variable);
    c.check(loaded(yaml, {{c.variable, c.value}}));
  }
}

TEST(ConfigLoad, EnvironmentVariableNamesFollowSectionAndKey) {
  EXPECT_EQ(environment_variable_for("imap.listen"), "MAILTRIXY_IMAP_LISTEN");
  EXPECT_EQ(environment_variable_for("smtp.max_message_bytes"), "MAILTRIXY_SMTP_MAX_MESSAGE_BYTES");
  EXPECT_EQ(environment_variable_for("public_url"), "MAILTRIXY_PUBLIC_URL");
}

TEST(ConfigLoad, EnvironmentValuesAreValidatedAndNameTheVariable) {
  EXPECT_EQ(
      load_error("", {{"MAILTRIXY_IMAP_LISTEN", "localhost"}}),
      "environment variable MAILTRIXY_IMAP_LISTEN: \"localhost\" is not HOST:PORT (example: 127.0.0.1:1143)");
  EXPECT_THAT(load_error("", {{"MAILTRIXY_WEB_TLS", "yes"}}),
              StartsWith("environment variable MAILTRIXY_WEB_TLS: expected true or false"));
  EXPECT_THAT(load_error("", {{"MAILTRIXY_SYNC_POLL_INTERVAL", "soon"}}),
              StartsWith("environment variable MAILTRIXY_SYNC_POLL_INTERVAL: \"soon\" is not a duration"));
}

TEST(ConfigLoad, ProcessEnvironmentReadsRealVariables) {
  ::setenv("MAILTRIXY_CONFIG_TEST_PROBE", "value", 1);
  const Environment environment = process_environment();
  EXPECT_EQ(environment("MAILTRIXY_CONFIG_TEST_PROBE"), "value");
  ::unsetenv("MAILTRIXY_CONFIG_TEST_PROBE");
  EXPECT_EQ(environment("MAILTRIXY_CONFIG_TEST_PROBE"), std::nullopt);
}

// ---- malformed files -------------------------------------------------------------------------

TEST(ConfigLoad, MalformedYamlNamesTheLine) {
  const std::filesystem::path data = MAILTRIXY_CONFIG_TEST_DATA;
  auto result = load(data / "malformed.yaml", environment_of({}));
  ASSERT_FALSE(result.ok());
  EXPECT_THAT(result.error().message,
              StartsWith((data / "malformed.yaml").string() + ":5: malformed YAML: "));
}

TEST(ConfigLoad, TabIndentationIsMalformed) {
  EXPECT_THAT(load_error("web:\n\tlisten: 127.0.0.1:8443\n"),
              StartsWith("config/mailtrixy.yaml:2: malformed YAML"));
}

TEST(ConfigLoad, SeveralDocumentsAreRejected) {
  EXPECT_THAT(load_error("log:\n  level: info\n---\nlog:\n  level: debug\n"),
              HasSubstr("more than one YAML document"));
}

TEST(ConfigLoad, TopLevelMustBeAMapping) {
  EXPECT_EQ(load_error("- a\n- b\n"),
            "config/mailtrixy.yaml:1: expected keys such as public_url and web at the top level, got a list");
}

TEST(ConfigLoad, MissingFileNamesThePath) {
  TempDir dir;
  auto result = load(dir.path() / "nope.yaml", environment_of({}));
  ASSERT_FALSE(result.ok());
  EXPECT_THAT(result.error().message, HasSubstr((dir.path() / "nope.yaml").string() + " does not exist"));
}

TEST(ConfigLoad, DirectoryInsteadOfFileIsAnError) {
  TempDir dir;
  auto result = load(dir.path(), environment_of({}));
  ASSERT_FALSE(result.ok());
  EXPECT_THAT(result.error().message, HasSubstr("is a directory"));
}

TEST(ConfigLoad, UnreadableFileIsAnError) {
  if (testing::running_as_root()) GTEST_SKIP() << "root can read any file";
  TempDir dir;
  const auto file = dir.write("mailtrixy.yaml", "log:\n  level: info\n");
  std::filesystem::permissions(file, std::filesystem::perms::none);
  auto result = load(file, environment_of({}));
  ASSERT_FALSE(result.ok());
  EXPECT_THAT(result.error().message, HasSubstr("cannot read config file " + file.string()));
}

// ---- unknown keys and wrong types ------------------------------------------------------------

TEST(ConfigLoad, UnknownTopLevelKeyNamesItsLineAndSuggests) {
  EXPECT_THAT(load_error("log:\n  level: info\nimpa:\n  listen: 127.0.0.1:1143\n"),
              StartsWith("config/mailtrixy.yaml:3: impa: unknown key; did you mean imap?"));
}

TEST(ConfigLoad, UnknownNestedKeyNamesItsSection) {
  EXPECT_EQ(
      load_error("imap:\n  listen: 127.0.0.1:1143\n  lisen: 127.0.0.1:1\n"),
      "config/mailtrixy.yaml:3: imap.lisen: unknown key; did you mean imap.listen? (the imap section has: "
      "listen, tls_listen)");
}

TEST(ConfigLoad, KeyInTheWrongSectionSuggestsTheRightOne) {
  EXPECT_THAT(load_error("web:\n  max_message_bytes: 10\n"),
              HasSubstr("web.max_message_bytes: unknown key; did you mean smtp.max_message_bytes?"));
  EXPECT_THAT(load_error("client_id: abc\n"),
              HasSubstr("client_id: unknown key; did you mean microsoft.client_id?"));
  EXPECT_THAT(load_error("web:\n  public_url: https://x\n"),
              HasSubstr("web.public_url: unknown key; did you mean public_url at the top level?"));
}

TEST(ConfigLoad, DuplicateKeysAreRejected) {
  EXPECT_EQ(
      load_error("log:\n  level: info\n  level: debug\n"),
      "config/mailtrixy.yaml:3: log.level: appears twice in the same section (first on line 2); keep one");
}

TEST(ConfigLoad, StringWhereASectionBelongs) {
  EXPECT_EQ(load_error("\nweb: 127.0.0.1:8443\n"),
            "config/mailtrixy.yaml:2: web: expected a section of keys (listen, tls), got the value "
            "\"127.0.0.1:8443\"");
}

TEST(ConfigLoad, ListWhereAScalarBelongs) {
  EXPECT_EQ(load_error("imap:\n  listen: [127.0.0.1:1143]\n"),
            "config/mailtrixy.yaml:2: imap.listen: expected HOST:PORT or \"\", got a list");
}

TEST(ConfigLoad, SectionWhereAScalarBelongs) {
  EXPECT_EQ(load_error("public_url:\n  host: localhost\n"),
            "config/mailtrixy.yaml:1: public_url: expected a URL, got a section of keys");
}

TEST(ConfigLoad, BooleansAreTrueOrFalseOnly) {
  EXPECT_EQ(load_error("web:\n  tls: yes\n"),
            "config/mailtrixy.yaml:2: web.tls: expected true or false, got \"yes\"");
  EXPECT_THAT(load_error("web:\n  tls: \"true\"\n"), HasSubstr("web.tls: \"true\" is a quoted string"));
  EXPECT_THAT(load_error("web:\n  tls:\n"), HasSubstr("web.tls: has no value; expected true or false"));
  EXPECT_FALSE(loaded("web:\n  tls: False\n").web.tls);
}

TEST(ConfigLoad, AllErrorsAreReportedAtOnce) {
  const std::string message = load_error("web:\n  tls: maybe\nlog:\n  level: loud\n  format: xml\n");
  EXPECT_THAT(message, HasSubstr("config/mailtrixy.yaml:2: web.tls:"));
  EXPECT_THAT(
      message,
      HasSubstr(
          "config/mailtrixy.yaml:4: log.level: \"loud\" is not a log level; use debug, info, warn or error"));
  EXPECT_THAT(
      message,
      HasSubstr("config/mailtrixy.yaml:5: log.format: \"xml\" is not a log format; use text or json"));
}

// ---- values ----------------------------------------------------------------------------------

TEST(ConfigLoad, ListenAddressMustBeHostPort) {
  EXPECT_EQ(load_error("imap:\n  listen: localhost\n"),
            "config/mailtrixy.yaml:2: imap.listen: \"localhost\" is not HOST:PORT (example: 127.0.0.1:1143)");
  EXPECT_THAT(load_error("smtp:\n  listen: 127.0.0.1:70000\n"),
              HasSubstr("smtp.listen: port 70000 in \"127.0.0.1:70000\" is out of range (0-65535)"));
  EXPECT_THAT(load_error("smtp:\n  listen: 127.0.0.1:smtp\n"), HasSubstr("the port must be a number"));
  EXPECT_THAT(load_error("web:\n  listen: \":8443\"\n"), HasSubstr("has no host"));
  EXPECT_THAT(load_error("web:\n  listen: \"::1:8443\"\n"), HasSubstr("write IPv6 addresses in brackets"));
  EXPECT_THAT(load_error("web:\n  listen: \"\"\n"), HasSubstr("web.listen: is empty"));
  EXPECT_EQ(loaded("imap:\n  listen: \"[::1]:0\"\n").imap.listen, "[::1]:0");
  EXPECT_EQ(loaded("smtp:\n  tls_listen:\n").smtp.tls_listen, "");
  EXPECT_EQ(loaded("imap:\n  tls_listen: \"\"\n").imap.tls_listen, "");
}

TEST(ConfigLoad, DurationsAcceptSecondsMinutesHours) {
  EXPECT_EQ(loaded("sync:\n  poll_interval: 90\n").sync.poll_interval, std::chrono::seconds(90));
  EXPECT_EQ(loaded("sync:\n  poll_interval: 45s\n").sync.poll_interval, std::chrono::seconds(45));
  EXPECT_EQ(loaded("sync:\n  poll_interval: 5m\n").sync.poll_interval, std::chrono::seconds(300));
  EXPECT_EQ(loaded("sync:\n  poll_interval: 1h\n").sync.poll_interval, std::chrono::seconds(3600));
  EXPECT_EQ(loaded("sync:\n  poll_interval: 1h2m3s\n").sync.poll_interval, std::chrono::seconds(3723));
}

TEST(ConfigLoad, MalformedDurationsAreRejected) {
  EXPECT_EQ(load_error("sync:\n  poll_interval: soon\n"),
            "config/mailtrixy.yaml:2: sync.poll_interval: \"soon\" is not a duration; write whole seconds "
            "with a unit "
            "s, m or h (examples: 60s, 5m, 1h30m)");
  EXPECT_THAT(load_error("sync:\n  poll_interval: 500ms\n"), HasSubstr("uses milliseconds"));
  EXPECT_THAT(load_error("sync:\n  poll_interval: -5s\n"), HasSubstr("is negative"));
  EXPECT_THAT(load_error("sync:\n  idle_poll_interval: 0s\n"), HasSubstr("is too short; the minimum is 1s"));
  EXPECT_THAT(load_error("sync:\n  poll_interval: 5d\n"), HasSubstr("is not a duration"));
  EXPECT_THAT(load_error("sync:\n  poll_interval: 5\n  idle_poll_interval: m5\n"),
              HasSubstr("is not a duration"));
  EXPECT_THAT(load_error("sync:\n  poll_interval: 99999999999h\n"), HasSubstr("is too long"));
}

TEST(ConfigLoad, SizesAcceptBytesAndBinaryUnits) {
  EXPECT_EQ(loaded("smtp:\n  max_message_bytes: 4096\n").smtp.max_message_bytes, 4096U);
  EXPECT_EQ(loaded("smtp:\n  max_message_bytes: 8KiB\n").smtp.max_message_bytes, 8192U);
  EXPECT_EQ(loaded("smtp:\n  max_message_bytes: 150 MiB\n").smtp.max_message_bytes, 150U << 20);
  EXPECT_EQ(loaded("sync:\n  body_cache_bytes: 4GiB\n").sync.body_cache_bytes, 4ULL << 30);
}

TEST(ConfigLoad, MalformedSizesAreRejected) {
  EXPECT_EQ(load_error("smtp:\n  max_message_bytes: -1\n"),
            "config/mailtrixy.yaml:2: smtp.max_message_bytes: \"-1\" is negative; sizes must be 0 or more");
  EXPECT_THAT(load_error("smtp:\n  max_message_bytes: 150MB\n"), HasSubstr("is not a size in bytes"));
  EXPECT_THAT(load_error("smtp:\n  max_message_bytes: lots\n"), HasSubstr("is not a size in bytes"));
  EXPECT_THAT(load_error("smtp:\n  max_message_bytes: 1.5\n"), HasSubstr("is not a size in bytes"));
  EXPECT_THAT(load_error("smtp:\n  max_message_bytes: 0\n"), HasSubstr("is too small"));
  EXPECT_THAT(load_error("sync:\n  body_cache_bytes: 99999999999999999999\n"), HasSubstr("is too large"));
  EXPECT_THAT(load_error("sync:\n  body_cache_bytes: 99999999999GiB\n"), HasSubstr("is too large"));
}

TEST(ConfigLoad, PublicUrlMustBeAnHttpUrlAndIsKeptAsWritten) {
  EXPECT_EQ(
      load_error("public_url: localhost:8443\n"),
      "config/mailtrixy.yaml:1: public_url: \"localhost:8443\" is not an http:// or https:// URL (example: "
      "https://mail.example.com)");
  EXPECT_THAT(load_error("public_url: ftp://example.com\n"), HasSubstr("is not an http:// or https:// URL"));
  EXPECT_THAT(load_error("public_url: https://\n"), HasSubstr("has no host name"));
  EXPECT_THAT(load_error("public_url: https://example.com:99999\n"),
              HasSubstr("is not a number from 1 to 65535"));
  EXPECT_THAT(load_error("public_url: https://user@example.com\n"), HasSubstr("contains a user name"));
  // Trailing slashes and upper case are diagnoses, not load errors: keep them for check-config.
  EXPECT_EQ(loaded("public_url: https://Mail.Example.com/\n").public_url, "https://Mail.Example.com/");
}

TEST(ConfigLoad, ServiceUrlsRejectQueries) {
  EXPECT_THAT(load_error("microsoft:\n  graph_url: https://graph.microsoft.com?x=1\n"),
              HasSubstr("microsoft.graph_url: \"https://graph.microsoft.com?x=1\" has a query or fragment"));
}

TEST(ConfigLoad, OtherBadValues) {
  EXPECT_THAT(load_error("microsoft:\n  tenant: my tenant\n"),
              HasSubstr("microsoft.tenant: \"my tenant\" is not a tenant"));
  EXPECT_THAT(load_error("admin:\n  username: \"\"\n"), HasSubstr("admin.username: is empty"));
  EXPECT_THAT(load_error("data_dir: \"\"\n"), HasSubstr("data_dir: is empty; set a path"));
  EXPECT_THAT(load_error("tls:\n  cert: ~/certs/server.crt\n"),
              HasSubstr("starts with ~, which is not expanded"));
}

// ---- paths -----------------------------------------------------------------------------------

TEST(ConfigLoad, RelativePathsResolveAgainstTheConfigFileDirectory) {
  auto result = load_from_string("data_dir: ../state\ntls:\n  cert: /abs/server.crt\n  key: ./k/server.key\n",
                                 "/etc/mailtrixy/mailtrixy.yaml", environment_of({}));
  ASSERT_TRUE(result.ok()) << result.error().message;
  const Settings& s = *result;
  EXPECT_EQ(s.data_dir, "/etc/state");
  EXPECT_EQ(s.tls.cert, "/abs/server.crt");
  EXPECT_EQ(s.tls.key, "/etc/mailtrixy/k/server.key");
}

TEST(ConfigLoad, RelativeConfigPathIsAnchoredAtTheWorkingDirectory) {
  const Settings s = loaded("");
  EXPECT_TRUE(s.data_dir.is_absolute());
  EXPECT_EQ(s.data_dir, std::filesystem::current_path() / "config/var");
}

// ---- the client secret -----------------------------------------------------------------------

TEST(ConfigLoad, PlaintextSecretFromYaml) {
  const Settings s = loaded("microsoft:\n  client_secret: yaml~secret\n");
  EXPECT_EQ(s.microsoft.client_secret.reveal(), "yaml~secret");
  EXPECT_EQ(s.microsoft.client_secret_source, Source::yaml);
}

TEST(ConfigLoad, SecretFileIsReadAndTrimmed) {
  TempDir dir;
  dir.write("secret", "file~secret \r\n\n");
  auto s = load_from_string("microsoft:\n  client_secret_file: secret\n", dir.path() / "mailtrixy.yaml",
                            environment_of({}));
  ASSERT_TRUE(s.ok()) << s.error().message;
  EXPECT_EQ(s->microsoft.client_secret.reveal(), "file~secret");
  EXPECT_EQ(s->microsoft.client_secret_source, Source::file);
  EXPECT_EQ(s->microsoft.client_secret_file, dir.path() / "secret");
}

TEST(ConfigLoad, SecretFileFromTheEnvironmentReplacesTheYamlOne) {
  TempDir dir;
  dir.write("env-secret", "env~file~secret\n");
  auto s = load_from_string("microsoft:\n  client_secret_file: missing\n", dir.path() / "mailtrixy.yaml",
                            environment_of({{"MAILTRIXY_MICROSOFT_CLIENT_SECRET_FILE", "env-secret"}}));
  ASSERT_TRUE(s.ok()) << s.error().message;
  EXPECT_EQ(s->microsoft.client_secret.reveal(), "env~file~secret");
}

TEST(ConfigLoad, EnvironmentSecretBeatsFileBeatsYaml) {
  TempDir dir;
  dir.write("secret", "file~secret\n");
  const auto path = dir.path() / "mailtrixy.yaml";
  const std::string file_only = "microsoft:\n  client_secret_file: secret\n";

  auto from_env =
      load_from_string(file_only, path, environment_of({{"MAILTRIXY_CLIENT_SECRET", "env~secret"}}));
  ASSERT_TRUE(from_env.ok()) << from_env.error().message;
  EXPECT_EQ(from_env->microsoft.client_secret.reveal(), "env~secret");
  EXPECT_EQ(from_env->microsoft.client_secret_source, Source::environment);

  auto long_name = load_from_string(file_only, path,
                                    environment_of({{"MAILTRIXY_MICROSOFT_CLIENT_SECRET", "env~secret2"}}));
  ASSERT_TRUE(long_name.ok()) << long_name.error().message;
  EXPECT_EQ(long_name->microsoft.client_secret.reveal(), "env~secret2");

  auto env_over_yaml =
      parse("microsoft:\n  client_secret: yaml~secret\n", {{"MAILTRIXY_CLIENT_SECRET", "env~secret"}});
  ASSERT_TRUE(env_over_yaml.ok());
  EXPECT_EQ(env_over_yaml->microsoft.client_secret.reveal(), "env~secret");

  auto file_over_yaml =
      load_from_string("microsoft:\n  client_secret: yaml~secret\n", path,
                       environment_of({{"MAILTRIXY_MICROSOFT_CLIENT_SECRET_FILE", "secret"}}));
  ASSERT_TRUE(file_over_yaml.ok()) << file_over_yaml.error().message;
  EXPECT_EQ(file_over_yaml->microsoft.client_secret.reveal(), "file~secret");
  EXPECT_EQ(file_over_yaml->microsoft.client_secret_source, Source::file);
}

TEST(ConfigLoad, EmptySecretVariableDoesNotBlankOutTheConfiguredSecret) {
  auto s = parse("microsoft:\n  client_secret: yaml~secret\n", {{"MAILTRIXY_CLIENT_SECRET", ""}});
  ASSERT_TRUE(s.ok());
  EXPECT_EQ(s->microsoft.client_secret.reveal(), "yaml~secret");
  EXPECT_EQ(s->microsoft.client_secret_source, Source::yaml);
}

TEST(ConfigLoad, TwoSecretVariablesThatDisagreeAreAnError) {
  const std::string message = load_error(
      "", {{"MAILTRIXY_CLIENT_SECRET", "one~secret"}, {"MAILTRIXY_MICROSOFT_CLIENT_SECRET", "two~secret"}});
  EXPECT_THAT(message, HasSubstr("both set, to different values"));
  EXPECT_THAT(message, Not(HasSubstr("one~secret")));
  EXPECT_THAT(message, Not(HasSubstr("two~secret")));
  EXPECT_TRUE(
      parse("", {{"MAILTRIXY_CLIENT_SECRET", "same"}, {"MAILTRIXY_MICROSOFT_CLIENT_SECRET", "same"}}).ok());
}

TEST(ConfigLoad, SecretAndSecretFileTogetherInYamlAreAnError) {
  const std::string message =
      load_error("microsoft:\n  client_secret: yaml~secret\n  client_secret_file: secret.txt\n");
  EXPECT_THAT(message, StartsWith("config/mailtrixy.yaml:3: microsoft.client_secret_file: both "
                                  "microsoft.client_secret and microsoft.client_secret_file are set"));
  EXPECT_THAT(message, Not(HasSubstr("yaml~secret")));
  // The shipped file has client_secret: "", which must not count as set.
  TempDir dir;
  dir.write("secret.txt", "x~y\n");
  EXPECT_TRUE(load_from_string("microsoft:\n  client_secret: \"\"\n  client_secret_file: secret.txt\n",
                               dir.path() / "mailtrixy.yaml", environment_of({}))
                  .ok());
}

TEST(ConfigLoad, UnreadableSecretFileNamesKeyAndLine) {
  TempDir dir;
  auto result = load_from_string("\nmicrosoft:\n  client_secret_file: missing.txt\n",
                                 dir.path() / "mailtrixy.yaml", environment_of({}));
  ASSERT_FALSE(result.ok());
  EXPECT_THAT(result.error().message, StartsWith((dir.path() / "mailtrixy.yaml").string() +
                                                 ":3: microsoft.client_secret_file: the client "
                                                 "secret file " +
                                                 (dir.path() / "missing.txt").string() + " does not exist"));
}

TEST(ConfigLoad, SecretFileFromTheEnvironmentNamesTheVariableWhenUnreadable) {
  TempDir dir;
  auto result = load_from_string("", dir.path() / "mailtrixy.yaml",
                                 environment_of({{"MAILTRIXY_MICROSOFT_CLIENT_SECRET_FILE", "nope"}}));
  ASSERT_FALSE(result.ok());
  EXPECT_THAT(result.error().message,
              StartsWith("environment variable MAILTRIXY_MICROSOFT_CLIENT_SECRET_FILE: "));
}

TEST(ConfigLoad, SecretFileMustHoldOneNonEmptyLine) {
  TempDir dir;
  dir.write("empty", "\n\n");
  dir.write("two-lines", "first\nsecond\n");
  std::filesystem::create_directory(dir.path() / "a-directory");
  const auto config = dir.path() / "mailtrixy.yaml";
  const auto error_for = [&](const std::string& file) {
    auto result =
        load_from_string("microsoft:\n  client_secret_file: " + file + "\n", config, environment_of({}));
    EXPECT_FALSE(result.ok()) << file;
    return result.ok() ? std::string() : result.error().message;
  };
  EXPECT_THAT(error_for("empty"), HasSubstr("is empty; put the client secret Value in it"));
  EXPECT_THAT(error_for("two-lines"), HasSubstr("has more than one line"));
  EXPECT_THAT(error_for("two-lines"), Not(HasSubstr("second")));
  EXPECT_THAT(error_for("a-directory"), HasSubstr("is not a regular file"));
}

}  // namespace
}  // namespace mailtrixy::config
