#include "mailtrixy/config/diagnose.hpp"

#include <arpa/inet.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <string>

#include "test_support.hpp"

namespace mailtrixy::config {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;
using testing::TempDir;

constexpr const char* kPemCertificate =
    "-----BEGIN CERTIFICATE-----\nMIIBszCCAVmgAwIBAgIUQ==\n-----END CERTIFICATE-----\n";
constexpr const char* kPemKey =
    "-----BEGIN PRIVATE KEY-----\nMIGHAgEAMBMGByqGSM49==\n-----END PRIVATE KEY-----\n";

std::chrono::sys_days date(int y, unsigned m, unsigned d) {
  return std::chrono::sys_days(std::chrono::year(y) / std::chrono::month(m) / std::chrono::day(d));
}

// Settings with nothing to report: every file present and valid, listeners on port 0 (any free
// port, so the probe never collides), a plausible app registration. Each test breaks one thing.
class ConfigDiagnose : public ::testing::Test {
 protected:
  void SetUp() override {
    settings_.config_path = dir_.path() / "mailtrixy.yaml";
    settings_.data_dir = dir_.path() / "var";
    settings_.tls.cert = dir_.write("certs/server.crt", kPemCertificate);
    settings_.tls.key = dir_.write("certs/server.key", kPemKey);
    settings_.web.listen = "127.0.0.1:0";
    settings_.imap.listen = "127.0.0.1:0";
    settings_.imap.tls_listen = "127.0.0.1:0";
    settings_.smtp.listen = "127.0.0.1:0";
    settings_.smtp.tls_listen = "127.0.0.1:0";
    settings_.microsoft.client_id = "0a1b2c3d-4e5f-6789-abcd-ef0123456789";
    settings_.microsoft.client_secret = Secret<std::string>("Xy8Q~aVeryRealLookingSecretValue.1234");
    settings_.microsoft.client_secret_source = Source::admin_page;
    settings_.admin.password_hash = "$argon2id$v=19$m=65536,t=3,p=4$c2FsdA$aGFzaA";
    options_.today = date(2025, 6, 1);
  }

  std::vector<Diagnosis> run() const { return diagnose(settings_, options_); }

  // The only diagnosis for `key`; fails the test when there is not exactly one.
  Diagnosis only(const std::string& key) const {
    const auto all = run();
    std::vector<Diagnosis> matching;
    std::copy_if(all.begin(), all.end(), std::back_inserter(matching),
                 [&](const Diagnosis& d) { return d.key == key; });
    EXPECT_EQ(matching.size(), 1U) << format_report(settings_, all);
    return matching.empty() ? Diagnosis{Severity::advice, "", "(none)", ""} : matching.front();
  }

  bool none_for(const std::string& key) const {
    const auto all = run();
    return std::none_of(all.begin(), all.end(), [&](const Diagnosis& d) { return d.key == key; });
  }

  TempDir dir_;
  Settings settings_;
  DiagnoseOptions options_;
};

TEST_F(ConfigDiagnose, GoodSettingsHaveNothingToReport) {
  const auto diagnoses = run();
  EXPECT_TRUE(diagnoses.empty()) << format_report(settings_, diagnoses);
  EXPECT_TRUE(can_start(diagnoses));
}

TEST_F(ConfigDiagnose, RedirectUriIsPublicUrlPlusCallbackPath) {
  EXPECT_EQ(redirect_uri(settings_), "https://localhost:8443/email-oauth/microsoft/callback");
  settings_.public_url = "https://mail.example.com";
  EXPECT_EQ(redirect_uri(settings_), "https://mail.example.com/email-oauth/microsoft/callback");
}

// ---- redirect URI ----------------------------------------------------------------------------

TEST_F(ConfigDiagnose, HttpPublicUrlIsAnErrorExceptForLocalhost) {
  settings_.web.tls = false;
  settings_.public_url = "http://mail.example.com";
  const auto all = run();
  const auto it =
      std::find_if(all.begin(), all.end(), [](const Diagnosis& d) { return d.key == "public_url"; });
  ASSERT_NE(it, all.end());
  EXPECT_EQ(it->severity, Severity::error);
  EXPECT_THAT(it->message, HasSubstr("must use https://; Azure accepts http:// only for http://localhost"));
  EXPECT_THAT(it->fix, HasSubstr("https://mail.example.com"));

  settings_.public_url = "http://localhost:8443";
  settings_.web.listen = "127.0.0.1:8443";
  options_.probe_listeners = false;
  EXPECT_TRUE(none_for("public_url"));
  EXPECT_TRUE(none_for("web.tls"));
}

TEST_F(ConfigDiagnose, HttpLoopbackAddressMustBeLocalhostInstead) {
  settings_.web.tls = false;
  settings_.public_url = "http://127.0.0.1:8443";
  const auto all = run();
  const auto it =
      std::find_if(all.begin(), all.end(), [](const Diagnosis& d) { return d.key == "public_url"; });
  ASSERT_NE(it, all.end());
  EXPECT_EQ(it->severity, Severity::error);
  EXPECT_THAT(it->message, HasSubstr("Azure accepts http:// redirect URIs only for localhost"));
  EXPECT_THAT(it->fix, HasSubstr("http://localhost:8443"));
}

TEST_F(ConfigDiagnose, TrailingSlashWouldDoubleTheSlash) {
  settings_.public_url = "https://mail.example.com/";
  const Diagnosis d = only("public_url");
  EXPECT_EQ(d.severity, Severity::error);
  EXPECT_THAT(d.message, HasSubstr("https://mail.example.com//email-oauth/microsoft/callback"));
  EXPECT_THAT(d.fix, HasSubstr("public_url: https://mail.example.com"));
  EXPECT_THAT(d.fix, Not(HasSubstr("https://mail.example.com/ ")));
}

TEST_F(ConfigDiagnose, UpperCaseSuggestsTheLowerCaseUrl) {
  settings_.public_url = "https://Mail.Example.com";
  const Diagnosis d = only("public_url");
  EXPECT_EQ(d.severity, Severity::warning);
  EXPECT_THAT(d.message, HasSubstr("case-sensitively"));
  EXPECT_THAT(d.fix, HasSubstr("https://mail.example.com"));
}

TEST_F(ConfigDiagnose, QueryOrFragmentIsAnError) {
  settings_.public_url = "https://mail.example.com?tenant=x";
  EXPECT_THAT(only("public_url").message, HasSubstr("has a query or fragment"));
  settings_.public_url = "https://mail.example.com#top";
  EXPECT_EQ(only("public_url").severity, Severity::error);
}

TEST_F(ConfigDiagnose, PathPrefixNeedsAReverseProxy) {
  settings_.public_url = "https://example.com/mail";
  const Diagnosis d = only("public_url");
  EXPECT_EQ(d.severity, Severity::advice);
  EXPECT_THAT(d.fix, HasSubstr("reverse proxy"));
}

TEST_F(ConfigDiagnose, UnparsablePublicUrlIsAnError) {
  settings_.public_url = "mail.example.com";
  const Diagnosis d = only("public_url");
  EXPECT_EQ(d.severity, Severity::error);
  EXPECT_THAT(d.message, HasSubstr("is not an http:// or https:// URL"));
}

TEST_F(ConfigDiagnose, WebTlsMustAgreeWithThePublicUrl) {
  settings_.web.tls = false;
  Diagnosis d = only("web.tls");
  EXPECT_EQ(d.severity, Severity::error);
  EXPECT_THAT(d.message, HasSubstr("false is allowed only when public_url is http://localhost"));

  settings_.web.tls = true;
  settings_.public_url = "http://localhost:8443";
  d = only("web.tls");
  EXPECT_EQ(d.severity, Severity::error);
  EXPECT_THAT(d.message, HasSubstr("the redirect would not reach the bridge"));
}

TEST_F(ConfigDiagnose, LocalhostPublicUrlPortMustMatchWebListen) {
  settings_.web.listen = "127.0.0.1:9443";
  options_.probe_listeners = false;
  const Diagnosis d = only("web.listen");
  EXPECT_EQ(d.severity, Severity::warning);
  EXPECT_THAT(d.message, HasSubstr("port 8443 but web.listen is 127.0.0.1:9443"));
}

// ---- app registration ------------------------------------------------------------------------

TEST_F(ConfigDiagnose, MissingClientIdIsAWarningWithTheAzureSteps) {
  settings_.microsoft.client_id.clear();
  const Diagnosis d = only("microsoft.client_id");
  EXPECT_EQ(d.severity, Severity::warning);
  EXPECT_THAT(d.message, HasSubstr("not set"));
  EXPECT_THAT(d.fix, HasSubstr("App registrations → your app → Overview → copy \"Application (client) ID\""));
  EXPECT_TRUE(can_start(run()));
}

TEST_F(ConfigDiagnose, ClientIdThatIsNotAGuidIsAnError) {
  settings_.microsoft.client_id = "my-app";
  const Diagnosis d = only("microsoft.client_id");
  EXPECT_EQ(d.severity, Severity::error);
  EXPECT_THAT(d.message, HasSubstr("\"my-app\" is not a GUID"));
  EXPECT_FALSE(can_start(run()));
}

TEST_F(ConfigDiagnose, MissingSecretIsAWarningSayingWhereToCreateIt) {
  settings_.microsoft.client_secret = Secret<std::string>();
  settings_.microsoft.client_secret_source = Source::defaults;
  const Diagnosis d = only("microsoft.client_secret");
  EXPECT_EQ(d.severity, Severity::warning);
  EXPECT_THAT(d.fix, HasSubstr("Certificates & secrets → New client secret"));
}

TEST_F(ConfigDiagnose, GuidShapedSecretIsTheSecretId) {
  settings_.microsoft.client_secret = Secret<std::string>("9f8e7d6c-5b4a-3210-fedc-ba9876543210");
  const Diagnosis d = only("microsoft.client_secret");
  EXPECT_EQ(d.severity, Severity::error);
  EXPECT_THAT(d.message, HasSubstr("this looks like the Secret ID; paste the secret Value"));
  EXPECT_THAT(d.fix, HasSubstr("Certificates & secrets"));
  EXPECT_THAT(d.fix, HasSubstr("Value column, which is shown only once after creation"));
  EXPECT_THAT(d.message, Not(HasSubstr("9f8e7d6c")));
}

TEST_F(ConfigDiagnose, SecretEqualToTheClientIdIsAnError) {
  settings_.microsoft.client_id = "not-a-guid-but-same";
  settings_.microsoft.client_secret = Secret<std::string>("not-a-guid-but-same");
  EXPECT_THAT(only("microsoft.client_secret").message, HasSubstr("is the Client ID"));
}

TEST_F(ConfigDiagnose, PlaintextSecretInYamlGetsAdvice) {
  settings_.microsoft.client_secret_source = Source::yaml;
  const Diagnosis d = only("microsoft.client_secret");
  EXPECT_EQ(d.severity, Severity::advice);
  EXPECT_THAT(d.message, HasSubstr("plaintext"));
  EXPECT_THAT(d.fix, HasSubstr("client_secret_file"));
  EXPECT_THAT(d.fix, HasSubstr("Admin → Settings → Integrations (stored encrypted)"));
}

TEST_F(ConfigDiagnose, SecretFileReadableByOthersIsAWarning) {
  const auto file = dir_.write("secret", "x\n");
  settings_.microsoft.client_secret_file = file;
  settings_.microsoft.client_secret_source = Source::file;
  std::filesystem::permissions(file, std::filesystem::perms::owner_read |
                                         std::filesystem::perms::owner_write |
                                         std::filesystem::perms::others_read);
  const Diagnosis d = only("microsoft.client_secret_file");
  EXPECT_EQ(d.severity, Severity::warning);
  EXPECT_THAT(d.message, HasSubstr("mode 0604"));
  EXPECT_THAT(d.fix, HasSubstr("chmod 600"));

  std::filesystem::permissions(file,
                               std::filesystem::perms::owner_read | std::filesystem::perms::owner_write);
  EXPECT_TRUE(none_for("microsoft.client_secret_file"));
}

// ---- secret expiry ---------------------------------------------------------------------------

TEST_F(ConfigDiagnose, MalformedExpiryDateIsAnError) {
  settings_.microsoft.client_secret_expires = "31/12/2025";
  const Diagnosis d = only("microsoft.client_secret_expires");
  EXPECT_EQ(d.severity, Severity::error);
  EXPECT_THAT(d.message, HasSubstr("is not a date; write YYYY-MM-DD"));
  settings_.microsoft.client_secret_expires = "2025-02-30";
  EXPECT_THAT(only("microsoft.client_secret_expires").message, HasSubstr("is not a valid calendar date"));
}

TEST_F(ConfigDiagnose, ExpiredSecretIsAnErrorWithRenewalSteps) {
  settings_.microsoft.client_secret_expires = "2025-05-31";
  const Diagnosis d = only("microsoft.client_secret_expires");
  EXPECT_EQ(d.severity, Severity::error);
  EXPECT_THAT(d.message, HasSubstr("expired on 2025-05-31"));
  EXPECT_THAT(d.fix, HasSubstr("Certificates & secrets → New client secret → paste the new Value; existing "
                               "connections keep working"));
}

TEST_F(ConfigDiagnose, SecretExpiringWithin30DaysIsAWarning) {
  settings_.microsoft.client_secret_expires = "2025-06-11";
  Diagnosis d = only("microsoft.client_secret_expires");
  EXPECT_EQ(d.severity, Severity::warning);
  EXPECT_THAT(d.message, HasSubstr("expires in 10 days (on 2025-06-11)"));
  EXPECT_THAT(d.fix, HasSubstr("Certificates & secrets → New client secret → paste the new Value; existing "
                               "connections keep working"));

  settings_.microsoft.client_secret_expires = "2025-07-01";  // exactly 30 days
  EXPECT_EQ(only("microsoft.client_secret_expires").severity, Severity::warning);
  settings_.microsoft.client_secret_expires = "2025-06-01T10:00:00Z";
  EXPECT_THAT(only("microsoft.client_secret_expires").message, HasSubstr("expires today"));
}

TEST_F(ConfigDiagnose, SecretExpiringLaterIsFine) {
  settings_.microsoft.client_secret_expires = "2025-07-02";  // 31 days
  EXPECT_TRUE(none_for("microsoft.client_secret_expires"));
}

TEST_F(ConfigDiagnose, ExpiryDefaultsToTheRealDate) {
  options_.today.reset();
  settings_.microsoft.client_secret_expires = "2000-01-01";
  EXPECT_THAT(only("microsoft.client_secret_expires").message, HasSubstr("expired"));
  settings_.microsoft.client_secret_expires = "9999-12-31";
  EXPECT_TRUE(none_for("microsoft.client_secret_expires"));
}

// ---- listeners -------------------------------------------------------------------------------

// A listening socket on 127.0.0.1 at a port the kernel picks, closed at the end of the test.
class HeldPort {
 public:
  HeldPort() {
    fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t length = sizeof address;
    if (fd_ < 0 || ::bind(fd_, reinterpret_cast<sockaddr*>(&address), sizeof address) != 0 ||
        ::listen(fd_, 1) != 0 || ::getsockname(fd_, reinterpret_cast<sockaddr*>(&address), &length) != 0) {
      ADD_FAILURE() << "cannot hold a port";
    }
    port_ = ntohs(address.sin_port);
  }
  ~HeldPort() { ::close(fd_); }
  HeldPort(const HeldPort&) = delete;
  HeldPort& operator=(const HeldPort&) = delete;
  int port() const { return port_; }

 private:
  int fd_ = -1;
  int port_ = 0;
};

TEST_F(ConfigDiagnose, ListenerInUseIsDetected) {
  HeldPort held;
  settings_.imap.listen = "127.0.0.1:" + std::to_string(held.port());
  const Diagnosis d = only("imap.listen");
  EXPECT_EQ(d.severity, Severity::error);
  EXPECT_EQ(d.message, "127.0.0.1:" + std::to_string(held.port()) +
                           " is already in use by another program (is the bridge already running?)");
  EXPECT_THAT(d.fix, HasSubstr("choose another port for imap.listen"));

  options_.probe_listeners = false;
  EXPECT_TRUE(none_for("imap.listen"));
}

TEST_F(ConfigDiagnose, FreePortIsNotReported) {
  int free_port = 0;
  {
    HeldPort held;  // a port that was free a moment ago
    free_port = held.port();
  }
  settings_.smtp.listen = "localhost:" + std::to_string(free_port);
  EXPECT_TRUE(none_for("smtp.listen"));
}

TEST_F(ConfigDiagnose, UnresolvableHostIsAnError) {
  settings_.smtp.listen = "no-such-host.invalid:1587";
  const Diagnosis d = only("smtp.listen");
  EXPECT_EQ(d.severity, Severity::error);
  EXPECT_THAT(d.message, HasSubstr("cannot resolve the host \"no-such-host.invalid\""));
}

TEST_F(ConfigDiagnose, AddressOfAnotherMachineIsAnError) {
  if (testing::read_text("/proc/sys/net/ipv4/ip_nonlocal_bind").starts_with("1")) {
    GTEST_SKIP() << "this machine lets any address be bound (net.ipv4.ip_nonlocal_bind=1)";
  }
  settings_.imap.tls_listen = "192.0.2.1:1993";  // TEST-NET-1, never local
  const auto all = run();
  const bool reported = std::any_of(all.begin(), all.end(), [](const Diagnosis& d) {
    return d.key == "imap.tls_listen" && d.severity == Severity::error &&
           d.message == "192.0.2.1:1993 is not an address of this machine";
  });
  EXPECT_TRUE(reported) << format_report(settings_, all);
}

TEST_F(ConfigDiagnose, TwoListenersOnOneAddressIsAnError) {
  options_.probe_listeners = false;
  settings_.imap.listen = "127.0.0.1:2143";
  settings_.smtp.listen = "127.0.0.1:2143";
  const Diagnosis d = only("smtp.listen");
  EXPECT_EQ(d.severity, Severity::error);
  EXPECT_THAT(d.message, HasSubstr("uses the same address and port as imap.listen 127.0.0.1:2143"));
  EXPECT_TRUE(none_for("imap.listen"));
}

TEST_F(ConfigDiagnose, WildcardOverlapsEverySpecificAddress) {
  options_.probe_listeners = false;
  settings_.imap.listen = "0.0.0.0:2143";
  settings_.smtp.tls_listen = "127.0.0.1:2143";
  const auto all = run();
  EXPECT_TRUE(std::any_of(all.begin(), all.end(), [](const Diagnosis& d) {
    return d.key == "smtp.tls_listen" &&
           d.message.find("same address and port as imap.listen") != std::string::npos;
  })) << format_report(settings_, all);
}

TEST_F(ConfigDiagnose, NonLoopbackMailListenerIsAWarning) {
  options_.probe_listeners = false;
  settings_.imap.listen = "0.0.0.0:0";
  const Diagnosis d = only("imap.listen");
  EXPECT_EQ(d.severity, Severity::warning);
  EXPECT_THAT(d.message, HasSubstr("reachable from other machines and starts in plaintext"));
  EXPECT_THAT(d.message, HasSubstr("STARTTLS"));

  settings_.imap.listen = "127.0.0.1:0";
  settings_.smtp.tls_listen = "0.0.0.0:0";
  EXPECT_EQ(only("smtp.tls_listen").severity, Severity::warning);
}

TEST_F(ConfigDiagnose, PublicWebListenerIsNormalWithTls) {
  settings_.web.listen = "0.0.0.0:0";
  EXPECT_TRUE(none_for("web.listen"));
}

TEST_F(ConfigDiagnose, EmptyListenersAreSkipped) {
  settings_.imap.tls_listen.clear();
  settings_.smtp.tls_listen.clear();
  EXPECT_TRUE(run().empty());
}

TEST_F(ConfigDiagnose, MalformedListenAddressIsAnError) {
  settings_.imap.listen = "localhost";
  const Diagnosis d = only("imap.listen");
  EXPECT_EQ(d.severity, Severity::error);
  EXPECT_EQ(d.message, "\"localhost\" is not HOST:PORT (example: 127.0.0.1:1143)");
}

// ---- certificate and key ---------------------------------------------------------------------

TEST_F(ConfigDiagnose, BothCertificateFilesMissingMeansSelfSigned) {
  std::filesystem::remove(settings_.tls.cert);
  std::filesystem::remove(settings_.tls.key);
  const Diagnosis d = only("tls.cert");
  EXPECT_EQ(d.severity, Severity::advice);
  EXPECT_THAT(d.message, HasSubstr("a self-signed pair will be generated there on first start"));
  EXPECT_TRUE(none_for("tls.key"));
}

TEST_F(ConfigDiagnose, SelfSignedPairNeedsACreatableDirectory) {
  dir_.write("blocker", "a file, not a directory");
  settings_.tls.cert = dir_.path() / "blocker/certs/server.crt";
  settings_.tls.key = dir_.path() / "blocker/certs/server.key";
  const Diagnosis d = only("tls.cert");
  EXPECT_EQ(d.severity, Severity::error);
  EXPECT_THAT(d.message, HasSubstr("cannot be generated"));
  EXPECT_THAT(d.message, HasSubstr("is not a directory"));
}

TEST_F(ConfigDiagnose, OneCertificateFileMissingIsAnError) {
  std::filesystem::remove(settings_.tls.key);
  const Diagnosis d = only("tls.key");
  EXPECT_EQ(d.severity, Severity::error);
  EXPECT_THAT(d.message, HasSubstr(settings_.tls.key.string() + " does not exist but " +
                                   settings_.tls.cert.string() + " does"));
}

TEST_F(ConfigDiagnose, CertificateThatIsNotPemIsAnError) {
  dir_.write("certs/server.crt", "\x30\x82\x01\xb3 DER bytes");
  const Diagnosis d = only("tls.cert");
  EXPECT_EQ(d.severity, Severity::error);
  EXPECT_THAT(d.message, HasSubstr("is not a PEM file (it has no -----BEGIN line)"));
}

TEST_F(ConfigDiagnose, SwappedCertificateAndKeyAreCaught) {
  std::swap(settings_.tls.cert, settings_.tls.key);
  EXPECT_THAT(only("tls.cert").message, HasSubstr("holds no CERTIFICATE block"));
  EXPECT_THAT(only("tls.key").message, HasSubstr("holds no PRIVATE KEY block"));
}

TEST_F(ConfigDiagnose, EncryptedKeyIsAnError) {
  dir_.write("certs/server.key",
             "-----BEGIN ENCRYPTED PRIVATE KEY-----\nabc\n-----END ENCRYPTED PRIVATE KEY-----\n");
  EXPECT_THAT(only("tls.key").message, HasSubstr("protected by a passphrase"));
}

TEST_F(ConfigDiagnose, CertificateThatIsADirectoryIsUnreadable) {
  std::filesystem::remove(settings_.tls.cert);
  std::filesystem::create_directory(settings_.tls.cert);
  const Diagnosis d = only("tls.cert");
  EXPECT_EQ(d.severity, Severity::error);
  EXPECT_THAT(d.message, HasSubstr("is not a regular file"));
}

TEST_F(ConfigDiagnose, UnreadableKeyIsAnError) {
  if (testing::running_as_root()) GTEST_SKIP() << "root can read any file";
  std::filesystem::permissions(settings_.tls.key, std::filesystem::perms::none);
  const Diagnosis d = only("tls.key");
  EXPECT_EQ(d.severity, Severity::error);
  EXPECT_THAT(d.message, HasSubstr("cannot read the private key"));
}

// ---- data_dir and ca_file --------------------------------------------------------------------

TEST_F(ConfigDiagnose, DataDirThatCanBeCreatedIsFine) {
  settings_.data_dir = dir_.path() / "deep/new/var";
  EXPECT_TRUE(none_for("data_dir"));
}

TEST_F(ConfigDiagnose, DataDirThatIsAFileIsAnError) {
  settings_.data_dir = dir_.write("var", "not a directory");
  const Diagnosis d = only("data_dir");
  EXPECT_EQ(d.severity, Severity::error);
  EXPECT_THAT(d.message, HasSubstr("exists but is not a directory"));
}

TEST_F(ConfigDiagnose, DataDirUnderAFileCannotBeCreated) {
  settings_.data_dir = dir_.write("file", "x") / "var";
  EXPECT_THAT(only("data_dir").message, HasSubstr("cannot be created because"));
}

TEST_F(ConfigDiagnose, UnwritableDataDirIsAnError) {
  if (testing::running_as_root()) GTEST_SKIP() << "root can write anywhere";
  std::filesystem::create_directory(settings_.data_dir);
  std::filesystem::permissions(settings_.data_dir,
                               std::filesystem::perms::owner_read | std::filesystem::perms::owner_exec);
  EXPECT_THAT(only("data_dir").message, HasSubstr("is not writable by this user"));
}

TEST_F(ConfigDiagnose, CaFileMustBeReadablePem) {
  settings_.microsoft.ca_file = dir_.path() / "missing-ca.pem";
  Diagnosis d = only("microsoft.ca_file");
  EXPECT_EQ(d.severity, Severity::error);
  EXPECT_THAT(d.message, HasSubstr("does not exist"));

  settings_.microsoft.ca_file = dir_.write("ca.pem", kPemKey);
  EXPECT_THAT(only("microsoft.ca_file").message, HasSubstr("holds no CERTIFICATE block"));

  settings_.microsoft.ca_file = dir_.write("ca.pem", kPemCertificate);
  EXPECT_TRUE(none_for("microsoft.ca_file"));
}

// ---- admin -----------------------------------------------------------------------------------

TEST_F(ConfigDiagnose, EmptyPasswordHashDisablesTheAdminPages) {
  settings_.admin.password_hash.clear();
  const Diagnosis d = only("admin.password_hash");
  EXPECT_EQ(d.severity, Severity::advice);
  EXPECT_THAT(d.message, HasSubstr("admin pages are disabled"));
  EXPECT_THAT(d.fix, HasSubstr("mailtrixy hash-password"));
}

// ---- the report ------------------------------------------------------------------------------

TEST(ConfigReport, ListsTheRedirectUriEveryDiagnosisAndASummary) {
  Settings settings;
  const std::vector<Diagnosis> diagnoses = {
      {Severity::error, "imap.listen", "127.0.0.1:1143 is already in use", "choose another port"},
      {Severity::warning, "microsoft.client_id", "not set", "copy it from Azure"},
      {Severity::advice, "admin.password_hash", "empty", ""},
  };
  EXPECT_EQ(format_report(settings, diagnoses),
            "Redirect URI to register in Azure (Web platform): "
            "https://localhost:8443/email-oauth/microsoft/callback\n"
            "\n"
            "error: imap.listen: 127.0.0.1:1143 is already in use\n"
            "  fix: choose another port\n"
            "\n"
            "warning: microsoft.client_id: not set\n"
            "  fix: copy it from Azure\n"
            "\n"
            "advice: admin.password_hash: empty\n"
            "\n"
            "1 error, 1 warning: fix the errors before starting the bridge\n");
  EXPECT_FALSE(can_start(diagnoses));
}

TEST(ConfigReport, SummaryCountsAndOk) {
  Settings settings;
  EXPECT_THAT(format_report(settings, {}), ::testing::EndsWith("\n\nconfig OK\n"));
  EXPECT_THAT(format_report(settings, {{Severity::advice, "k", "m", "f"}}),
              ::testing::EndsWith("config OK\n"));
  const std::vector<Diagnosis> warnings = {{Severity::warning, "a", "m", ""},
                                           {Severity::warning, "b", "m", ""}};
  EXPECT_THAT(format_report(settings, warnings),
              ::testing::EndsWith("0 errors, 2 warnings: the bridge can start\n"));
  EXPECT_TRUE(can_start(warnings));
  EXPECT_TRUE(can_start({}));
}

TEST(ConfigReport, SeverityNames) {
  EXPECT_EQ(to_string(Severity::error), "error");
  EXPECT_EQ(to_string(Severity::warning), "warning");
  EXPECT_EQ(to_string(Severity::advice), "advice");
}

}  // namespace
}  // namespace mailtrixy::config
