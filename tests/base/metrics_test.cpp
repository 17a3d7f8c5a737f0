#include "mailtrixy/base/metrics.hpp"

#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

namespace mailtrixy::metrics {
namespace {

TEST(MetricsTest, CounterRendersHelpTypeAndLabelledSeriesInOrder) {
  Registry registry;
  auto& family = registry.counter("mailtrixy_test_total", "Things counted.", {"listener", "result"});
  family.with({"imaps", "OK"}).inc(3);
  family.with({"imap", "NO"}).inc();
  EXPECT_EQ(registry.render(),
            "# HELP mailtrixy_test_total Things counted.\n"
            "# TYPE mailtrixy_test_total counter\n"
            "mailtrixy_test_total{listener=\"imap\",result=\"NO\"} 1\n"
            "mailtrixy_test_total{listener=\"imaps\",result=\"OK\"} 3\n");
}

TEST(MetricsTest, ConnectionSeriesNameAndDescribeTheProtocol) {
  Registry registry;
  ConnectionSeries smtp = connection_series(registry, "smtp");
  smtp.accepted.with({"smtps"}).inc();
  smtp.open.with({"smtp"}).add(2);
  smtp.tls_failed.inc();
  EXPECT_EQ(registry.render(),
            "# HELP mailtrixy_smtp_connections SMTP connections open now, by listener.\n"
            "# TYPE mailtrixy_smtp_connections gauge\n"
            "mailtrixy_smtp_connections{listener=\"smtp\"} 2\n"
            "# HELP mailtrixy_smtp_connections_accepted_total SMTP connections accepted, by listener.\n"
            "# TYPE mailtrixy_smtp_connections_accepted_total counter\n"
            "mailtrixy_smtp_connections_accepted_total{listener=\"smtps\"} 1\n"
            "# HELP mailtrixy_smtp_tls_handshakes_failed_total SMTP TLS handshakes (implicit TLS or STARTTLS) that "
            "failed or timed out.\n"
            "# TYPE mailtrixy_smtp_tls_handshakes_failed_total counter\n"
            "mailtrixy_smtp_tls_handshakes_failed_total 1\n");
}

TEST(MetricsTest, FamiliesWithoutSamplesStillHaveHelpAndType) {
  Registry registry;
  registry.counter("b_total", "B.", {"x"});
  registry.gauge("a", "A.").get().set(2.5);
  EXPECT_EQ(registry.render(),
            "# HELP a A.\n# TYPE a gauge\na 2.5\n"
            "# HELP b_total B.\n# TYPE b_total counter\n");
}

TEST(MetricsTest, HistogramRendersCumulativeBucketsSumAndCount) {
  Registry registry;
  auto& family = registry.histogram("op_seconds", "Latency.", {"op"}, {0.01, 0.1, 1});
  Histogram& histogram = family.with({"fetch"});
  histogram.observe(0.005);
  histogram.observe(0.01);  // an observation equal to a bound belongs to that bucket (le)
  histogram.observe(0.5);
  histogram.observe(7);
  EXPECT_EQ(registry.render(),
            "# HELP op_seconds Latency.\n"
            "# TYPE op_seconds histogram\n"
            "op_seconds_bucket{op=\"fetch\",le=\"0.01\"} 2\n"
            "op_seconds_bucket{op=\"fetch\",le=\"0.1\"} 2\n"
            "op_seconds_bucket{op=\"fetch\",le=\"1\"} 3\n"
            "op_seconds_bucket{op=\"fetch\",le=\"+Inf\"} 4\n"
            "op_seconds_sum{op=\"fetch\"} 7.515\n"
            "op_seconds_count{op=\"fetch\"} 4\n");
}

TEST(MetricsTest, UnlabelledHistogramPutsLeAlone) {
  Registry registry;
  registry.histogram("h", "H.", {}, {1}).get().observe(2);
  EXPECT_EQ(registry.render(),
            "# HELP h H.\n# TYPE h histogram\n"
            "h_bucket{le=\"1\"} 0\nh_bucket{le=\"+Inf\"} 1\nh_sum 2\nh_count 1\n");
}

TEST(MetricsTest, LabelValuesAndHelpAreEscaped) {
  Registry registry;
  registry.gauge("g", "line one\nback\\slash", {"v"}).with({"a\"b\\c\nd"}).set(1);
  EXPECT_EQ(registry.render(),
            "# HELP g line one\\nback\\\\slash\n# TYPE g gauge\n"
            "g{v=\"a\\\"b\\\\c\\nd\"} 1\n");
  EXPECT_EQ(escape_label_value("plain"), "plain");
}

TEST(MetricsTest, ValuesUseShortestFormAndSpecialSpellings) {
  EXPECT_EQ(format_value(0), "0");
  EXPECT_EQ(format_value(42), "42");
  EXPECT_EQ(format_value(0.001), "0.001");
  EXPECT_EQ(format_value(-1.5), "-1.5");
  EXPECT_EQ(format_value(std::numeric_limits<double>::infinity()), "+Inf");
  EXPECT_EQ(format_value(-std::numeric_limits<double>::infinity()), "-Inf");
  EXPECT_EQ(format_value(std::nan("")), "NaN");
}

TEST(MetricsTest, GaugeAddAndSub) {
  Registry registry;
  Gauge& gauge = registry.gauge("open", "Open.").get();
  gauge.add();
  gauge.add(2);
  gauge.sub();
  EXPECT_EQ(gauge.value(), 2);
}

TEST(MetricsTest, RegisteringAgainReturnsTheSameFamily) {
  Registry registry;
  auto& first = registry.counter("same_total", "Same.", {"a"});
  auto& second = registry.counter("same_total", "Same.", {"a"});
  EXPECT_EQ(&first, &second);
  first.with({"x"}).inc();
  EXPECT_EQ(second.with({"x"}).value(), 1u);
  EXPECT_EQ(&first.with({"x"}), &second.with({"x"}));
}

TEST(MetricsTest, MisuseIsRefusedAtRegistration) {
  Registry registry;
  registry.counter("taken_total", "T.", {"a"});
  EXPECT_THROW(registry.counter("taken_total", "T.", {"b"}), std::logic_error);
  EXPECT_THROW(registry.gauge("taken_total", "T.", {"a"}), std::logic_error);
  EXPECT_THROW(registry.counter("1bad", "B."), std::logic_error);
  EXPECT_THROW(registry.counter("has-dash", "B."), std::logic_error);
  EXPECT_THROW(registry.counter("ok_total", "B.", {"__reserved"}), std::logic_error);
  EXPECT_THROW(registry.histogram("h", "H.", {"le"}, {1}), std::logic_error);
  EXPECT_THROW(registry.histogram("h2", "H.", {}, {2, 1}), std::logic_error);
  EXPECT_THROW(registry.histogram("h3", "H.", {}, {1, std::numeric_limits<double>::infinity()}), std::logic_error);
  EXPECT_THROW(registry.callback("taken_total", "T.", Type::counter, {"a"}, [] { return std::vector<Sample>{}; }),
               std::logic_error);
}

TEST(MetricsTest, WrongNumberOfLabelValuesIsRefused) {
  Registry registry;
  auto& family = registry.counter("c_total", "C.", {"a", "b"});
  EXPECT_THROW(family.with({"only-one"}), std::invalid_argument);
}

TEST(MetricsTest, TooManySeriesCollapseIntoOverflow) {
  Registry registry;
  auto& family = registry.counter("many_total", "Many.", {"id"});
  for (std::size_t i = 0; i < kMaxSeriesPerFamily + 10; ++i) family.with({std::to_string(i)}).inc();
  std::size_t series = 0;
  std::uint64_t overflow = 0;
  family.for_each([&](const std::vector<std::string>& values, const Counter& counter) {
    ++series;
    if (values.front() == "overflow") overflow = counter.value();
  });
  EXPECT_EQ(series, kMaxSeriesPerFamily + 1);
  EXPECT_EQ(overflow, 10u);
}

TEST(MetricsTest, CallbacksAreReadAtRenderAndMayBeReplaced) {
  Registry registry;
  double value = 1;
  registry.callback("cb", "Callback.", Type::gauge, {"k"}, [&] { return std::vector<Sample>{{{"v"}, value}}; });
  value = 5;
  EXPECT_EQ(registry.render(), "# HELP cb Callback.\n# TYPE cb gauge\ncb{k=\"v\"} 5\n");
  registry.callback("cb", "Callback.", Type::gauge, {"k"}, [] { return std::vector<Sample>{{{"w"}, 7}}; });
  EXPECT_EQ(registry.render(), "# HELP cb Callback.\n# TYPE cb gauge\ncb{k=\"w\"} 7\n");
}

TEST(MetricsTest, ConcurrentIncrementsAreAllCounted) {
  Registry registry;
  Counter& counter = registry.counter("race_total", "Race.").get();
  Histogram& histogram = registry.histogram("race_seconds", "Race.", {}, latency_buckets()).get();
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < 10000; ++i) {
        counter.inc();
        histogram.observe(0.002);
      }
    });
  }
  for (auto& thread : threads) thread.join();
  EXPECT_EQ(counter.value(), 40000u);
  const auto snapshot = histogram.snapshot();
  EXPECT_EQ(snapshot.count, 40000u);
  EXPECT_NEAR(snapshot.sum, 80.0, 1e-6);
}

TEST(MetricsTest, BucketHelpersAreIncreasingAndSpanTheRange) {
  const auto latency = latency_buckets();
  EXPECT_DOUBLE_EQ(latency.front(), 0.001);
  EXPECT_DOUBLE_EQ(latency.back(), 30);
  const auto sizes = size_buckets();
  EXPECT_DOUBLE_EQ(sizes.front(), 1024);
  EXPECT_DOUBLE_EQ(sizes.back(), 64.0 * 1024 * 1024);
  Histogram check_latency(latency);  // throws when not strictly increasing
  Histogram check_sizes(sizes);
}

TEST(MetricsTest, ProcessMetricsReadProc) {
  Registry registry;
  register_process_metrics(registry, "1.2.3");
  const std::string text = registry.render();
  EXPECT_NE(text.find("mailtrixy_build_info{version=\"1.2.3\"} 1\n"), std::string::npos);
  for (const char* name : {"process_resident_memory_bytes ", "process_open_fds ", "process_start_time_seconds ",
                           "process_cpu_seconds_total ", "process_max_fds ", "process_virtual_memory_bytes "}) {
    const auto at = text.find(std::string("\n") + name);
    ASSERT_NE(at, std::string::npos) << name;
    const double value = std::strtod(text.c_str() + at + 1 + std::string(name).size(), nullptr);
    if (std::string(name) != "process_cpu_seconds_total ") {
      EXPECT_GT(value, 0) << name;
    }
  }
  // Registering again (a second serve in one process, tests) replaces instead of failing.
  register_process_metrics(registry, "1.2.4");
  EXPECT_NE(registry.render().find("version=\"1.2.4\""), std::string::npos);
}

}  // namespace
}  // namespace mailtrixy::metrics
