#pragma once
// Process-wide metrics for GET /metrics: counters, gauges and fixed-bucket histograms, rendered
// in the Prometheus text exposition format 0.0.4.
//
//   static auto& accepted = metrics::global().counter(
//       "mailtrixy_imap_connections_accepted_total", "IMAP connections accepted.", {"listener"});
//   accepted.with({"imaps"}).inc();
//
// Families and series. A family is one metric name with one HELP text, one type and a fixed list
// of label names given at registration. Registering a name again returns the same family when
// type, labels (and buckets) match, so a module may register from several places; a mismatch,
// an invalid name, or a reserved label ("le" on a histogram, "__" prefix) is a programming error
// and throws std::logic_error at registration. Family::with() returns the series for one tuple
// of label values (std::invalid_argument for the wrong number of values); the reference stays
// valid for the life of the registry, so hot paths look a series up once and keep it.
//
// Cardinality. Label values must come from small fixed sets (listener, command name, status
// class), never from accounts, addresses or message ids. As a safety net a family holds at most
// kMaxSeriesPerFamily series; further tuples all share one series whose every label is
// "overflow", so a mistake shows up in the output instead of eating memory.
//
// Threads. Counter::inc, Gauge::set/add and Histogram::observe are lock-free (relaxed atomics)
// and may be called from any thread. with() and registration take a mutex; render() takes it
// too and reads each value atomically (a scrape is not a snapshot across series).
//
// Callbacks. callback() registers a family whose samples are computed at render time (process
// memory, open descriptors). The function must be safe to call from any thread and must stay
// valid as long as the registry; registering the same name again replaces it.
//
// Output. Families render in name order, series in label-value order; every family has HELP
// and TYPE lines, even before its first sample. Label values are escaped (\\, \", \n); values
// use the shortest exact decimal form, and +Inf, -Inf, NaN as the format spells them.
// Histograms render cumulative `_bucket{le="..."}` lines ending in le="+Inf", then `_sum` and
// `_count`.

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <initializer_list>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

namespace mailtrixy::metrics {

inline constexpr std::size_t kMaxSeriesPerFamily = 500;

enum class Type { counter, gauge, histogram };

class Counter {
 public:
  void inc(std::uint64_t amount = 1) noexcept { value_.fetch_add(amount, std::memory_order_relaxed); }
  std::uint64_t value() const noexcept { return value_.load(std::memory_order_relaxed); }

 private:
  std::atomic<std::uint64_t> value_{0};
};

class Gauge {
 public:
  void set(double value) noexcept { value_.store(value, std::memory_order_relaxed); }
  void add(double amount = 1) noexcept { value_.fetch_add(amount, std::memory_order_relaxed); }
  void sub(double amount = 1) noexcept { value_.fetch_sub(amount, std::memory_order_relaxed); }
  double value() const noexcept { return value_.load(std::memory_order_relaxed); }

 private:
  std::atomic<double> value_{0};
};

// Observations counted into fixed upper bounds (seconds, bytes, ...). The bounds are strictly
// increasing and finite; +Inf is implicit.
class Histogram {
 public:
  explicit Histogram(std::vector<double> upper_bounds);
  void observe(double value) noexcept;

  struct Snapshot {
    std::vector<double> upper_bounds;
    std::vector<std::uint64_t> cumulative_counts;  // one per bound, then the +Inf bucket
    double sum = 0;
    std::uint64_t count = 0;
  };
  Snapshot snapshot() const;

 private:
  std::vector<double> upper_bounds_;
  std::unique_ptr<std::atomic<std::uint64_t>[]> bucket_counts_;  // non-cumulative, +Inf last
  std::atomic<double> sum_{0};
  std::atomic<std::uint64_t> count_{0};
};

template <typename Metric>
class Family {
 public:
  Family(std::vector<std::string> label_names, std::function<std::unique_ptr<Metric>()> make)
      : label_names_(std::move(label_names)), make_(std::move(make)) {}

  // The series for these label values, created on first use (see "Cardinality" above).
  Metric& with(std::initializer_list<std::string_view> values);
  Metric& with(const std::vector<std::string>& values);
  // The family's only series; for families without labels.
  Metric& get() { return with(std::vector<std::string>{}); }

  const std::vector<std::string>& label_names() const { return label_names_; }
  // Calls `visit(label_values, metric)` for every series, in label-value order.
  void for_each(const std::function<void(const std::vector<std::string>&, const Metric&)>& visit) const;

 private:
  std::vector<std::string> label_names_;
  std::function<std::unique_ptr<Metric>()> make_;
  mutable std::mutex mutex_;
  std::map<std::vector<std::string>, std::unique_ptr<Metric>> series_;
};

extern template class Family<Counter>;
extern template class Family<Gauge>;
extern template class Family<Histogram>;

// One sample of a callback family.
struct Sample {
  std::vector<std::string> label_values;
  double value = 0;
};

class Registry {
 public:
  Registry();
  ~Registry();
  Registry(const Registry&) = delete;
  Registry& operator=(const Registry&) = delete;

  Family<Counter>& counter(std::string_view name, std::string_view help, std::vector<std::string> label_names = {});
  Family<Gauge>& gauge(std::string_view name, std::string_view help, std::vector<std::string> label_names = {});
  Family<Histogram>& histogram(std::string_view name, std::string_view help, std::vector<std::string> label_names,
                               std::vector<double> upper_bounds);
  // A gauge or counter family computed by `read` at every render.
  void callback(std::string_view name, std::string_view help, Type type, std::vector<std::string> label_names,
                std::function<std::vector<Sample>()> read);

  // The whole registry in the text exposition format.
  std::string render() const;
  // Every registered family name (for documentation checks).
  std::vector<std::string> names() const;

 private:
  struct Entry;
  Entry& entry(std::string_view name, std::string_view help, Type type, const std::vector<std::string>& label_names,
               const std::vector<double>* upper_bounds);
  mutable std::mutex mutex_;
  std::map<std::string, std::unique_ptr<Entry>, std::less<>> entries_;
};

// The registry GET /metrics renders; modules register into it.
Registry& global();

// Latency buckets in seconds from 1 ms to 30 s (roughly 1-2.5-5 per decade).
std::vector<double> latency_buckets();
// Size buckets in bytes from 1 KiB to 64 MiB (powers of 4).
std::vector<double> size_buckets();

// The connection series of one kind of mail listener, `protocol` "imap" or "smtp":
// mailtrixy_<protocol>_connections_accepted_total{listener}, mailtrixy_<protocol>_connections{listener}
// (open now) and mailtrixy_<protocol>_tls_handshakes_failed_total.
struct ConnectionSeries {
  Family<Counter>& accepted;
  Family<Gauge>& open;
  Counter& tls_failed;
};
ConnectionSeries connection_series(Registry& registry, std::string_view protocol);

// process_resident_memory_bytes, process_virtual_memory_bytes, process_open_fds,
// process_max_fds, process_start_time_seconds, process_cpu_seconds_total (from /proc/self),
// mailtrixy_heap_bytes{state} (glibc's mallinfo2: in_use and free) and
// mailtrixy_build_info{version} = 1. Calling it again replaces the earlier registration.
void register_process_metrics(Registry& registry, std::string version);

// Text-format helpers (exposed for tests and for modules that still render by hand).
std::string escape_label_value(std::string_view value);
std::string format_value(double value);

}  // namespace mailtrixy::metrics
