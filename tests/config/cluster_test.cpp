// The cluster section (docs/scaling.md): lists from YAML and the environment, the key file, and
// the address ranges of trusted_proxies.

#include <gtest/gtest.h>

#include <string>

#include "mailtrixy/config/address_range.hpp"
#include "mailtrixy/config/diagnose.hpp"
#include "mailtrixy/config/load.hpp"
#include "test_support.hpp"

namespace mailtrixy::config {
namespace {

using testing::environment_of;
using testing::TempDir;

constexpr const char* kKeyText = "4f1c0de5a7b94e2c8d3f6a1b0c9e8d7f\n";

TEST(ClusterSettings, DefaultsLeaveTheEndpointOff) {
  auto settings = load_from_string("", "mailtrixy.yaml", environment_of({}));
  ASSERT_TRUE(settings) << settings.error().message;
  EXPECT_TRUE(settings->cluster.auth_http_key_file.empty());
  EXPECT_TRUE(settings->cluster.auth_http_key.empty());
  EXPECT_TRUE(settings->cluster.peers.empty());
  EXPECT_TRUE(settings->cluster.trusted_proxies.empty());
  EXPECT_EQ(settings->cluster.imap_backend, "");
}

TEST(ClusterSettings, FullSectionLoadsAndReadsTheKey) {
  TempDir dir;
  dir.write("secrets/auth_http_key", kKeyText);
  auto settings = load_from_string(
      "cluster:\n"
      "  auth_http_key_file: secrets/auth_http_key\n"
      "  imap_backend: 10.0.0.1:1143\n"
      "  smtp_backend: 10.0.0.1:1587\n"
      "  peers: [https://10.0.0.2:8443/, https://10.0.0.3:8443]\n"
      "  peer_ca_file: certs/cluster-ca.crt\n"
      "  trusted_proxies:\n"
      "    - 10.0.0.10\n"
      "    - 192.168.0.0/16\n",
      dir.path() / "mailtrixy.yaml", environment_of({}));
  ASSERT_TRUE(settings) << settings.error().message;
  const ClusterSettings& cluster = settings->cluster;
  EXPECT_EQ(cluster.auth_http_key.reveal(), "4f1c0de5a7b94e2c8d3f6a1b0c9e8d7f");
  EXPECT_EQ(cluster.auth_http_key_file, dir.path() / "secrets/auth_http_key");
  EXPECT_EQ(cluster.peer_ca_file, dir.path() / "certs/cluster-ca.crt");
  EXPECT_EQ(cluster.imap_backend, "10.0.0.1:1143");
  ASSERT_EQ(cluster.peers.size(), 2u);
  EXPECT_EQ(cluster.peers[0], "https://10.0.0.2:8443");  // the trailing '/' is dropped
  ASSERT_EQ(cluster.trusted_proxies.size(), 2u);
}

TEST(ClusterSettings, ListsComeCommaSeparatedFromTheEnvironment) {
  auto settings = load_from_string("cluster:\n  peers: [https://10.0.0.9:8443]\n", "mailtrixy.yaml",
                                   environment_of({{"MAILTRIXY_CLUSTER_PEERS", "https://10.0.0.2:8443, https://10.0.0.3:8443"},
                                                   {"MAILTRIXY_CLUSTER_TRUSTED_PROXIES", "127.0.0.1,::1"}}));
  ASSERT_TRUE(settings) << settings.error().message;
  ASSERT_EQ(settings->cluster.peers.size(), 2u);
  EXPECT_EQ(settings->cluster.peers[1], "https://10.0.0.3:8443");
  EXPECT_EQ(settings->cluster.trusted_proxies, (std::vector<std::string>{"127.0.0.1", "::1"}));
  auto emptied = load_from_string("cluster:\n  peers: [https://10.0.0.9:8443]\n", "mailtrixy.yaml",
                                  environment_of({{"MAILTRIXY_CLUSTER_PEERS", ""}}));
  ASSERT_TRUE(emptied);
  EXPECT_TRUE(emptied->cluster.peers.empty());
}

TEST(ClusterSettings, BadValuesAreNamed) {
  auto expect_error = [](const std::string& yaml, const std::string& fragment) {
    auto settings = load_from_string(yaml, "mailtrixy.yaml", environment_of({}));
    ASSERT_FALSE(settings) << yaml;
    EXPECT_NE(settings.error().message.find(fragment), std::string::npos) << settings.error().message;
  };
  expect_error("cluster:\n  peers: https://10.0.0.2:8443\n", "cluster.peers: expected a list");
  expect_error("cluster:\n  peers: [https://10.0.0.2:8443/mail-proxy/auth]\n", "web base URL");
  expect_error("cluster:\n  peers: [10.0.0.2:8443]\n", "cluster.peers");
  expect_error("cluster:\n  trusted_proxies: [nginx.internal]\n", "is not an IP address or range");
  expect_error("cluster:\n  trusted_proxies: [10.1.2.3/8]\n", "bits set beyond its prefix");
  expect_error("cluster:\n  trusted_proxies: [10.0.0.0/33]\n", "prefix length");
  expect_error("cluster:\n  imap_backend: somewhere\n", "cluster.imap_backend");
  expect_error("cluster:\n  auth_http_key_file: /nonexistent/auth_http_key\n", "cluster.auth_http_key_file");
  expect_error("cluster:\n  peer: []\n", "did you mean cluster.peers?");
}

TEST(ClusterSettings, KeyFileMustHoldAUsableKey) {
  TempDir dir;
  dir.write("short", "abc\n");
  auto short_key = load_from_string("cluster:\n  auth_http_key_file: short\n", dir.path() / "mailtrixy.yaml",
                                    environment_of({}));
  ASSERT_FALSE(short_key);
  EXPECT_NE(short_key.error().message.find("openssl rand -hex 32"), std::string::npos);
  EXPECT_EQ(short_key.error().message.find("abc"), std::string::npos);  // never the key itself
  dir.write("two_lines", "0123456789abcdef0123\nsecond\n");
  EXPECT_FALSE(load_from_string("cluster:\n  auth_http_key_file: two_lines\n", dir.path() / "mailtrixy.yaml",
                                environment_of({})));
}

TEST(AddressRanges, MatchAddressesAndRanges) {
  auto ranges = AddressRanges::parse({"127.0.0.1", "10.0.0.0/8", "2001:db8::/32"});
  ASSERT_TRUE(ranges) << ranges.error().message;
  EXPECT_TRUE(ranges->contains("127.0.0.1"));
  EXPECT_FALSE(ranges->contains("127.0.0.2"));
  EXPECT_TRUE(ranges->contains("10.200.3.4"));
  EXPECT_TRUE(ranges->contains("::ffff:10.1.1.1"));  // IPv4-mapped, as a dual-stack listener reports it
  EXPECT_FALSE(ranges->contains("11.0.0.1"));
  EXPECT_TRUE(ranges->contains("2001:db8:1::5"));
  EXPECT_FALSE(ranges->contains("2001:db9::5"));
  EXPECT_FALSE(ranges->contains("unknown"));
  EXPECT_FALSE(AddressRanges{}.contains("127.0.0.1"));
  auto everything = AddressRanges::parse({"0.0.0.0/0"});
  ASSERT_TRUE(everything);
  EXPECT_TRUE(everything->contains("203.0.113.9"));
  EXPECT_FALSE(everything->contains("2001:db8::1"));  // an IPv4 /0 covers IPv4 only
}

std::vector<Diagnosis> cluster_diagnoses(const Settings& settings) {
  DiagnoseOptions options;
  options.probe_listeners = false;
  std::vector<Diagnosis> found;
  for (Diagnosis& diagnosis : diagnose(settings, options)) {
    if (diagnosis.key.starts_with("cluster.")) found.push_back(std::move(diagnosis));
  }
  return found;
}

TEST(ClusterDiagnoses, BackendsMustBeAddressesNginxCanUse) {
  Settings settings;
  EXPECT_TRUE(cluster_diagnoses(settings).empty());  // the endpoint is off by default
  settings.cluster.auth_http_key_file = "/etc/mailtrixy/auth_http_key";
  settings.cluster.trusted_proxies = {"10.0.0.5"};
  settings.imap.listen = "0.0.0.0:1143";
  settings.smtp.listen = "10.0.0.1:1587";
  auto found = cluster_diagnoses(settings);
  ASSERT_EQ(found.size(), 1u);
  EXPECT_EQ(found[0].key, "cluster.imap_backend");
  EXPECT_EQ(found[0].severity, Severity::error);
  EXPECT_NE(found[0].message.find("imap.listen (0.0.0.0:1143)"), std::string::npos) << found[0].message;
  settings.cluster.imap_backend = "10.0.0.1:1143";
  EXPECT_TRUE(cluster_diagnoses(settings).empty());
  settings.cluster.trusted_proxies.clear();
  found = cluster_diagnoses(settings);
  ASSERT_EQ(found.size(), 1u);
  EXPECT_EQ(found[0].key, "cluster.trusted_proxies");
}

TEST(ClusterDiagnoses, PeersWithoutTheEndpointAreUseless) {
  Settings settings;
  settings.cluster.peers = {"https://10.0.0.2:8443"};
  auto found = cluster_diagnoses(settings);
  ASSERT_EQ(found.size(), 1u);
  EXPECT_EQ(found[0].key, "cluster.peers");
  EXPECT_EQ(found[0].severity, Severity::warning);
}

}  // namespace
}  // namespace mailtrixy::config
