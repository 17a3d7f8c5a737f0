#include "mailtrixy/base/metrics.hpp"

#include <dirent.h>
#include <malloc.h>
#include <sys/resource.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <charconv>
#include <cmath>
#include <fstream>
#include <iterator>
#include <limits>
#include <sstream>
#include <stdexcept>
#include <variant>

namespace mailtrixy::metrics {
namespace {

bool valid_metric_name(std::string_view name) {
  if (name.empty()) return false;
  auto first_ok = [](char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' || c == ':'; };
  if (!first_ok(name.front())) return false;
  return std::all_of(name.begin(), name.end(), [&](char c) { return first_ok(c) || (c >= '0' && c <= '9'); });
}

bool valid_label_name(std::string_view name) {
  if (name.empty() || name.starts_with("__")) return false;
  auto first_ok = [](char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_'; };
  if (!first_ok(name.front())) return false;
  return std::all_of(name.begin(), name.end(), [&](char c) { return first_ok(c) || (c >= '0' && c <= '9'); });
}

std::string_view type_name(Type type) {
  switch (type) {
    case Type::counter: return "counter";
    case Type::gauge: return "gauge";
    case Type::histogram: return "histogram";
  }
  return "untyped";
}

// HELP text escapes only backslash and newline.
std::string escape_help(std::string_view help) {
  std::string out;
  out.reserve(help.size());
  for (char c : help) {
    if (c == '\\') out += "\\\\";
    else if (c == '\n') out += "\\n";
    else out += c;
  }
  return out;
}

// `{a="x",b="y"}` (or nothing without labels); `extra` is appended last (the histogram's le).
std::string label_text(const std::vector<std::string>& names, const std::vector<std::string>& values,
                       std::string_view extra_name = {}, std::string_view extra_value = {}) {
  if (names.empty() && extra_name.empty()) return {};
  std::string out = "{";
  for (std::size_t i = 0; i < names.size(); ++i) {
    if (i > 0) out += ',';
    out += names[i];
    out += "=\"";
    out += escape_label_value(i < values.size() ? values[i] : std::string());
    out += '"';
  }
  if (!extra_name.empty()) {
    if (!names.empty()) out += ',';
    out += extra_name;
    out += "=\"";
    out += extra_value;
    out += '"';
  }
  out += '}';
  return out;
}

std::string read_file(const char* path) {
  std::ifstream in(path);
  return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

// Fields of /proc/self/stat after the command name (which may contain spaces and parentheses).
std::vector<std::string> proc_stat_fields() {
  const std::string text = read_file("/proc/self/stat");
  const auto close = text.rfind(')');
  std::vector<std::string> fields;
  if (close == std::string::npos) return fields;
  std::istringstream rest(text.substr(close + 1));
  std::string field;
  while (rest >> field) fields.push_back(field);
  return fields;  // fields[0] is field 3 (state)
}

double field_number(const std::vector<std::string>& fields, std::size_t proc_field) {
  const std::size_t index = proc_field - 3;
  if (index >= fields.size()) return 0;
  return std::strtod(fields[index].c_str(), nullptr);
}

double boot_time_seconds() {
  std::istringstream in(read_file("/proc/stat"));
  std::string line;
  while (std::getline(in, line)) {
    if (line.starts_with("btime ")) return std::strtod(line.c_str() + 6, nullptr);
  }
  return 0;
}

double open_fd_count() {
  DIR* dir = ::opendir("/proc/self/fd");
  if (dir == nullptr) return 0;
  double count = 0;
  while (const dirent* entry = ::readdir(dir)) {
    if (entry->d_name[0] != '.') count += 1;
  }
  ::closedir(dir);
  return count - 1;  // the descriptor opendir itself holds
}

}  // namespace

// ---- Histogram ----------------------------------------------------------------------------

Histogram::Histogram(std::vector<double> upper_bounds) : upper_bounds_(std::move(upper_bounds)) {
  for (std::size_t i = 0; i < upper_bounds_.size(); ++i) {
    if (!std::isfinite(upper_bounds_[i]) || (i > 0 && upper_bounds_[i] <= upper_bounds_[i - 1]))
      throw std::logic_error("histogram bounds must be finite and strictly increasing");
  }
  bucket_counts_ = std::make_unique<std::atomic<std::uint64_t>[]>(upper_bounds_.size() + 1);
  for (std::size_t i = 0; i <= upper_bounds_.size(); ++i) bucket_counts_[i].store(0, std::memory_order_relaxed);
}

void Histogram::observe(double value) noexcept {
  const auto bucket = std::lower_bound(upper_bounds_.begin(), upper_bounds_.end(), value) - upper_bounds_.begin();
  bucket_counts_[static_cast<std::size_t>(bucket)].fetch_add(1, std::memory_order_relaxed);
  sum_.fetch_add(value, std::memory_order_relaxed);
  count_.fetch_add(1, std::memory_order_relaxed);
}

Histogram::Snapshot Histogram::snapshot() const {
  Snapshot snapshot;
  snapshot.upper_bounds = upper_bounds_;
  std::uint64_t running = 0;
  for (std::size_t i = 0; i <= upper_bounds_.size(); ++i) {
    running += bucket_counts_[i].load(std::memory_order_relaxed);
    snapshot.cumulative_counts.push_back(running);
  }
  snapshot.sum = sum_.load(std::memory_order_relaxed);
  // _count must equal the +Inf bucket; reading the buckets is what defines it.
  snapshot.count = running;
  return snapshot;
}

// ---- Family -------------------------------------------------------------------------------

template <typename Metric>
Metric& Family<Metric>::with(std::initializer_list<std::string_view> values) {
  return with(std::vector<std::string>(values.begin(), values.end()));
}

template <typename Metric>
Metric& Family<Metric>::with(const std::vector<std::string>& values) {
  if (values.size() != label_names_.size()) {
    throw std::invalid_argument("metric series needs " + std::to_string(label_names_.size()) +
                                " label values, got " + std::to_string(values.size()));
  }
  std::lock_guard lock(mutex_);
  if (auto found = series_.find(values); found != series_.end()) return *found->second;
  if (series_.size() >= kMaxSeriesPerFamily && !values.empty()) {
    std::vector<std::string> overflow(values.size(), "overflow");
    auto& slot = series_[overflow];
    if (!slot) slot = make_();
    return *slot;
  }
  auto& slot = series_[values];
  slot = make_();
  return *slot;
}

template <typename Metric>
void Family<Metric>::for_each(
    const std::function<void(const std::vector<std::string>&, const Metric&)>& visit) const {
  std::lock_guard lock(mutex_);
  for (const auto& [values, metric] : series_) visit(values, *metric);
}

template class Family<Counter>;
template class Family<Gauge>;
template class Family<Histogram>;

// ---- Registry -----------------------------------------------------------------------------

struct Registry::Entry {
  std::string name;
  std::string help;
  Type type = Type::counter;
  std::vector<std::string> label_names;
  std::vector<double> upper_bounds;
  std::variant<std::unique_ptr<Family<Counter>>, std::unique_ptr<Family<Gauge>>, std::unique_ptr<Family<Histogram>>,
               std::function<std::vector<Sample>()>>
      body;
};

Registry::Registry() = default;
Registry::~Registry() = default;

Registry::Entry& Registry::entry(std::string_view name, std::string_view help, Type type,
                                 const std::vector<std::string>& label_names,
                                 const std::vector<double>* upper_bounds) {
  if (!valid_metric_name(name)) throw std::logic_error("invalid metric name \"" + std::string(name) + "\"");
  for (const std::string& label : label_names) {
    if (!valid_label_name(label) || (type == Type::histogram && label == "le"))
      throw std::logic_error("invalid label name \"" + label + "\" for metric " + std::string(name));
  }
  auto found = entries_.find(name);
  if (found != entries_.end()) {
    Entry& existing = *found->second;
    if (existing.type != type || existing.label_names != label_names ||
        (upper_bounds != nullptr && existing.upper_bounds != *upper_bounds)) {
      throw std::logic_error("metric " + std::string(name) + " registered twice with different type or labels");
    }
    return existing;
  }
  auto created = std::make_unique<Entry>();
  created->name = std::string(name);
  created->help = std::string(help);
  created->type = type;
  created->label_names = label_names;
  if (upper_bounds != nullptr) created->upper_bounds = *upper_bounds;
  return *entries_.emplace(std::string(name), std::move(created)).first->second;
}

Family<Counter>& Registry::counter(std::string_view name, std::string_view help, std::vector<std::string> label_names) {
  std::lock_guard lock(mutex_);
  Entry& found = entry(name, help, Type::counter, label_names, nullptr);
  if (auto* family = std::get_if<std::unique_ptr<Family<Counter>>>(&found.body); family && *family) return **family;
  if (!std::holds_alternative<std::unique_ptr<Family<Counter>>>(found.body))
    throw std::logic_error("metric " + std::string(name) + " is already a callback");
  auto family = std::make_unique<Family<Counter>>(std::move(label_names), [] { return std::make_unique<Counter>(); });
  auto& result = *family;
  found.body = std::move(family);
  return result;
}

Family<Gauge>& Registry::gauge(std::string_view name, std::string_view help, std::vector<std::string> label_names) {
  std::lock_guard lock(mutex_);
  Entry& found = entry(name, help, Type::gauge, label_names, nullptr);
  if (auto* family = std::get_if<std::unique_ptr<Family<Gauge>>>(&found.body); family && *family) return **family;
  if (std::holds_alternative<std::function<std::vector<Sample>()>>(found.body))
    throw std::logic_error("metric " + std::string(name) + " is already a callback");
  auto family = std::make_unique<Family<Gauge>>(std::move(label_names), [] { return std::make_unique<Gauge>(); });
  auto& result = *family;
  found.body = std::move(family);
  return result;
}

Family<Histogram>& Registry::histogram(std::string_view name, std::string_view help,
                                       std::vector<std::string> label_names, std::vector<double> upper_bounds) {
  Histogram check(upper_bounds);  // validates the bounds before anything is registered
  std::lock_guard lock(mutex_);
  Entry& found = entry(name, help, Type::histogram, label_names, &upper_bounds);
  if (auto* family = std::get_if<std::unique_ptr<Family<Histogram>>>(&found.body); family && *family) return **family;
  if (std::holds_alternative<std::function<std::vector<Sample>()>>(found.body))
    throw std::logic_error("metric " + std::string(name) + " is already a callback");
  auto family = std::make_unique<Family<Histogram>>(
      std::move(label_names), [upper_bounds] { return std::make_unique<Histogram>(upper_bounds); });
  auto& result = *family;
  found.body = std::move(family);
  return result;
}

void Registry::callback(std::string_view name, std::string_view help, Type type, std::vector<std::string> label_names,
                        std::function<std::vector<Sample>()> read) {
  if (type == Type::histogram) throw std::logic_error("callback metrics are counters or gauges");
  std::lock_guard lock(mutex_);
  if (auto found = entries_.find(name);
      found != entries_.end() && std::holds_alternative<std::function<std::vector<Sample>()>>(found->second->body)) {
    entries_.erase(found);  // replacing a callback is allowed; see the header
  }
  Entry& found = entry(name, help, type, label_names, nullptr);
  if (!std::holds_alternative<std::unique_ptr<Family<Counter>>>(found.body) ||
      std::get<std::unique_ptr<Family<Counter>>>(found.body) != nullptr) {
    throw std::logic_error("metric " + std::string(name) + " is already registered as a plain metric");
  }
  found.body = std::move(read);
}

std::vector<std::string> Registry::names() const {
  std::lock_guard lock(mutex_);
  std::vector<std::string> out;
  for (const auto& [name, entry] : entries_) out.push_back(name);
  return out;
}

std::string Registry::render() const {
  std::lock_guard lock(mutex_);
  std::string out;
  for (const auto& item : entries_) {
    // Not a structured binding: clang 14 (the fuzz build) cannot capture one in the lambdas below.
    const auto& name = item.first;
    const auto& entry = item.second;
    out += "# HELP " + name + " " + escape_help(entry->help) + "\n";
    out += "# TYPE " + name + " " + std::string(type_name(entry->type)) + "\n";
    const auto& labels = entry->label_names;
    if (const auto* counters = std::get_if<std::unique_ptr<Family<Counter>>>(&entry->body); counters && *counters) {
      (*counters)->for_each([&](const std::vector<std::string>& values, const Counter& counter) {
        out += name + label_text(labels, values) + " " + std::to_string(counter.value()) + "\n";
      });
    } else if (const auto* gauges = std::get_if<std::unique_ptr<Family<Gauge>>>(&entry->body)) {
      (*gauges)->for_each([&](const std::vector<std::string>& values, const Gauge& gauge) {
        out += name + label_text(labels, values) + " " + format_value(gauge.value()) + "\n";
      });
    } else if (const auto* histograms = std::get_if<std::unique_ptr<Family<Histogram>>>(&entry->body)) {
      (*histograms)->for_each([&](const std::vector<std::string>& values, const Histogram& histogram) {
        const Histogram::Snapshot snapshot = histogram.snapshot();
        for (std::size_t i = 0; i < snapshot.upper_bounds.size(); ++i) {
          out += name + "_bucket" + label_text(labels, values, "le", format_value(snapshot.upper_bounds[i])) + " " +
                 std::to_string(snapshot.cumulative_counts[i]) + "\n";
        }
        out += name + "_bucket" + label_text(labels, values, "le", "+Inf") + " " +
               std::to_string(snapshot.cumulative_counts.back()) + "\n";
        out += name + "_sum" + label_text(labels, values) + " " + format_value(snapshot.sum) + "\n";
        out += name + "_count" + label_text(labels, values) + " " + std::to_string(snapshot.count) + "\n";
      });
    } else if (const auto* read = std::get_if<std::function<std::vector<Sample>()>>(&entry->body)) {
      for (const Sample& sample : (*read)()) {
        out += name + label_text(labels, sample.label_values) + " " + format_value(sample.value) + "\n";
      }
    }
  }
  return out;
}

Registry& global() {
  static Registry* registry = new Registry();  // never destroyed: threads may still count at exit
  return *registry;
}

std::vector<double> latency_buckets() {
  return {0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30};
}

std::vector<double> size_buckets() {
  std::vector<double> bounds;
  for (double bound = 1024; bound <= 64.0 * 1024 * 1024; bound *= 4) bounds.push_back(bound);
  return bounds;
}

ConnectionSeries connection_series(Registry& registry, std::string_view protocol) {
  std::string shown(protocol);
  std::transform(shown.begin(), shown.end(), shown.begin(),
                 [](unsigned char c) { return static_cast<char>(std::toupper(c)); });
  const std::string prefix = "mailtrixy_" + std::string(protocol);
  return ConnectionSeries{
      registry.counter(prefix + "_connections_accepted_total", shown + " connections accepted, by listener.",
                       {"listener"}),
      registry.gauge(prefix + "_connections", shown + " connections open now, by listener.", {"listener"}),
      registry.counter(prefix + "_tls_handshakes_failed_total",
                       shown + " TLS handshakes (implicit TLS or STARTTLS) that failed or timed out.")
          .get()};
}

void register_process_metrics(Registry& registry, std::string version) {
  const double page_size = static_cast<double>(::sysconf(_SC_PAGESIZE));
  const double ticks = static_cast<double>(::sysconf(_SC_CLK_TCK));
  const double start_time = boot_time_seconds() + field_number(proc_stat_fields(), 22) / ticks;
  auto one = [](double value) { return std::vector<Sample>{Sample{{}, value}}; };
  registry.callback("process_resident_memory_bytes", "Resident memory size in bytes.", Type::gauge, {},
                    [=] { return one(field_number(proc_stat_fields(), 24) * page_size); });
  registry.callback("process_virtual_memory_bytes", "Virtual memory size in bytes.", Type::gauge, {},
                    [=] { return one(field_number(proc_stat_fields(), 23)); });
  registry.callback("process_cpu_seconds_total", "User and system CPU time spent, in seconds.", Type::counter, {},
                    [=] {
                      const auto fields = proc_stat_fields();
                      return one((field_number(fields, 14) + field_number(fields, 15)) / ticks);
                    });
  registry.callback("process_open_fds", "Open file descriptors.", Type::gauge, {}, [=] { return one(open_fd_count()); });
  registry.callback("process_max_fds", "The limit on open file descriptors.", Type::gauge, {}, [=] {
    rlimit limit{};
    ::getrlimit(RLIMIT_NOFILE, &limit);
    return one(limit.rlim_cur == RLIM_INFINITY ? std::numeric_limits<double>::infinity()
                                               : static_cast<double>(limit.rlim_cur));
  });
  registry.callback("process_start_time_seconds", "Start time of the process since the Unix epoch, in seconds.",
                    Type::gauge, {}, [=] { return one(start_time); });
#if defined(__GLIBC__)
  // RSS alone cannot tell live memory from memory the allocator keeps after it was freed.
  registry.callback("mailtrixy_heap_bytes",
                    "Heap memory by state: in_use (allocated by the program), free (freed but kept by the allocator).",
                    Type::gauge, {"state"}, [] {
                      const struct mallinfo2 info = ::mallinfo2();
                      return std::vector<Sample>{Sample{{"free"}, static_cast<double>(info.fordblks)},
                                                 Sample{{"in_use"}, static_cast<double>(info.uordblks + info.hblkhd)}};
                    });
#endif
  registry.callback("mailtrixy_build_info", "Always 1; the label carries the running version.", Type::gauge,
                    {"version"}, [version = std::move(version)] { return std::vector<Sample>{Sample{{version}, 1}}; });
}

std::string escape_label_value(std::string_view value) {
  std::string out;
  out.reserve(value.size());
  for (char c : value) {
    if (c == '\\') out += "\\\\";
    else if (c == '"') out += "\\\"";
    else if (c == '\n') out += "\\n";
    else out += c;
  }
  return out;
}

std::string format_value(double value) {
  if (std::isnan(value)) return "NaN";
  if (std::isinf(value)) return value > 0 ? "+Inf" : "-Inf";
  char buffer[64];
  const auto [end, error] = std::to_chars(buffer, buffer + sizeof buffer, value);
  if (error != std::errc()) return "NaN";
  return std::string(buffer, end);
}

}  // namespace mailtrixy::metrics
