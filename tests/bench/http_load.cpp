// http_load: a closed-loop HTTP load generator on the project's own HTTPS client, used by
// emulator_bench.py to measure the emulator (and later the bridge).
//
//   http_load --url URL [--header 'Name: value' ...] [--url URL [--header ...]] [--ca FILE]
//             [--concurrency 8] [--seconds 10] [--requests N] [--threads T] [--timeout-ms MS]
//             [--allow-status CODE ...] [--json]
//
// Every worker thread sends one blocking request at a time, so `concurrency` requests are in
// flight at any moment and the server, not a queue in here, sets the pace. All workers share one
// HttpClient whose keep-alive pool holds `concurrency` idle connections per host, so after the
// warm-up every worker always finds a connection: the run ends by checking that no more than
// `concurrency` connections were ever opened (more means the server closed connections and the
// run measured TLS handshakes too).
//
// --url may be repeated (say, the same path with two users' tokens): a --header written after a
// --url belongs to that URL, one written before the first --url to all of them, and workers take
// the URLs round-robin. Each worker sends one untimed warm-up request first (the TLS handshake);
// then the clock runs until --seconds have passed or --requests were sent, whichever comes first.
//
// Prints requests/s, p50/p99/max latency, response-body bytes/s and counts by status. Exit code
// 1 when any request failed or answered outside 2xx (a benchmark of errors is no benchmark),
// except for statuses named by --allow-status, which are only counted (say 429, to measure a
// server that throttles); 2 for a usage error.

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <map>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "mailtrixy/net/http_client.hpp"

namespace {

namespace net = mailtrixy::net;
using Clock = std::chrono::steady_clock;

struct Target {
  std::string url;
  net::HttpHeaders headers;
};

struct Options {
  std::vector<Target> targets;
  net::HttpHeaders common_headers;
  std::string ca_file;
  int concurrency = 8;
  double seconds = 10;
  std::optional<std::int64_t> requests;
  int threads = 0;  // 0: min(concurrency, hardware threads)
  int timeout_ms = 30000;
  std::set<int> allowed_statuses;  // non-2xx statuses that are counted but are no failure
  bool json = false;
};

[[noreturn]] void usage_error(const std::string& message) {
  std::fprintf(stderr, "http_load: %s\n", message.c_str());
  std::fprintf(stderr,
               "usage: http_load --url URL [--header 'Name: value' ...] [--url URL ...] [--ca FILE]\n"
               "                 [--concurrency N] [--seconds S] [--requests N] [--threads T]\n"
               "                 [--timeout-ms MS] [--allow-status CODE ...] [--json]\n");
  std::exit(2);
}

long long parse_integer(std::string_view option, const std::string& text, long long low, long long high) {
  char* end = nullptr;
  errno = 0;
  const long long value = std::strtoll(text.c_str(), &end, 10);
  if (text.empty() || *end != '\0' || errno != 0 || value < low || value > high) {
    usage_error(std::string(option) + " wants a whole number from " + std::to_string(low) + " to " +
                std::to_string(high) + ", not '" + text + "'");
  }
  return value;
}

std::pair<std::string, std::string> parse_header(const std::string& text) {
  const auto colon = text.find(':');
  if (colon == std::string::npos || colon == 0) {
    usage_error("--header wants 'Name: value', not '" + text.substr(0, 40) + "'");
  }
  std::string value = text.substr(colon + 1);
  value.erase(0, value.find_first_not_of(" \t"));
  return {text.substr(0, colon), value};
}

Options parse_options(int argc, char** argv) {
  Options options;
  for (int i = 1; i < argc; ++i) {
    const std::string_view option = argv[i];
    if (option == "--json") {
      options.json = true;
      continue;
    }
    if (option == "--help") usage_error("measures requests/s of GET requests over keep-alive HTTPS");
    if (i + 1 >= argc) usage_error(std::string(option) + " needs a value");
    const std::string value = argv[++i];
    if (option == "--url") {
      options.targets.push_back(Target{value, {}});
    } else if (option == "--header") {
      auto header = parse_header(value);
      if (options.targets.empty()) {
        options.common_headers.push_back(std::move(header));
      } else {
        options.targets.back().headers.push_back(std::move(header));
      }
    } else if (option == "--ca") {
      options.ca_file = value;
    } else if (option == "--concurrency") {
      options.concurrency = static_cast<int>(parse_integer(option, value, 1, 1024));
    } else if (option == "--seconds") {
      options.seconds = static_cast<double>(parse_integer(option, value, 1, 3600));
    } else if (option == "--requests") {
      options.requests = parse_integer(option, value, 1, 1'000'000'000);
    } else if (option == "--threads") {
      options.threads = static_cast<int>(parse_integer(option, value, 1, 64));
    } else if (option == "--allow-status") {
      options.allowed_statuses.insert(static_cast<int>(parse_integer(option, value, 100, 599)));
    } else if (option == "--timeout-ms") {
      options.timeout_ms = static_cast<int>(parse_integer(option, value, 1, 600'000));
    } else {
      usage_error("unknown option '" + std::string(option) + "'; see --help");
    }
  }
  if (options.targets.empty()) usage_error("give at least one --url");
  if (options.threads == 0) {
    const int hardware = static_cast<int>(std::max(1U, std::thread::hardware_concurrency()));
    options.threads = std::min(options.concurrency, hardware);
  }
  return options;
}

// What one worker saw; merged after the run so workers never contend on shared counters.
struct WorkerStats {
  std::vector<std::int64_t> latencies_us;
  std::map<int, std::int64_t> statuses;
  std::map<std::string, std::int64_t> failures;  // HttpFailure name -> count
  std::string first_failure;                     // one example message
  std::int64_t body_bytes = 0;
};

double percentile(const std::vector<std::int64_t>& sorted, double fraction) {
  if (sorted.empty()) return 0;
  const auto index = static_cast<std::size_t>(fraction * static_cast<double>(sorted.size() - 1) + 0.5);
  return static_cast<double>(sorted[std::min(index, sorted.size() - 1)]) / 1000.0;
}

std::string json_escape(std::string_view text) {
  std::string out;
  for (const char c : text) {
    if (c == '"' || c == '\\') {
      out += '\\';
      out += c;
    } else if (static_cast<unsigned char>(c) < 0x20) {
      out += ' ';
    } else {
      out += c;
    }
  }
  return out;
}

}  // namespace

int main(int argc, char** argv) {
  const Options options = parse_options(argc, argv);

  net::HttpClientOptions client_options;
  client_options.extra_ca_file = options.ca_file;
  client_options.threads = options.threads;
  client_options.max_idle_connections_per_host = static_cast<std::size_t>(options.concurrency);
  client_options.user_agent = "mailtrixy-http_load";
  auto client = net::HttpClient::create(client_options);
  if (!client.ok()) {
    std::fprintf(stderr, "http_load: %s\n", client.error().message.c_str());
    return 2;
  }

  std::vector<net::HttpClientRequest> requests;
  for (const auto& target : options.targets) {
    net::HttpClientRequest request;
    request.url = target.url;
    request.headers = options.common_headers;
    request.headers.insert(request.headers.end(), target.headers.begin(), target.headers.end());
    request.timeout = std::chrono::milliseconds(options.timeout_ms);
    requests.push_back(std::move(request));
  }

  const auto worker_count = static_cast<std::size_t>(options.concurrency);
  std::vector<WorkerStats> stats(worker_count);
  std::atomic<std::int64_t> issued{0};
  std::atomic<int> in_flight{0};
  std::atomic<int> max_in_flight{0};
  std::atomic<int> warmed_up{0};
  std::atomic<bool> warm_up_failed{false};
  Clock::time_point start;
  Clock::time_point deadline;
  std::mutex start_mutex;
  std::condition_variable start_signal;
  bool started = false;

  auto run_worker = [&](std::size_t index) {
    const auto& request = requests[index % requests.size()];
    auto& mine = stats[index];
    // The warm-up opens this worker's connection; it is not measured but must succeed.
    net::HttpFailure failure = net::HttpFailure::none;
    auto warm = (*client)->send(request, &failure);
    const auto acceptable = [&](int status) {
      return (status >= 200 && status <= 299) || options.allowed_statuses.count(status) > 0;
    };
    if (!warm.ok() || !acceptable(warm->status)) {
      warm_up_failed = true;
      mine.first_failure = warm.ok() ? "warm-up answered HTTP " + std::to_string(warm->status) + ": " +
                                           warm->body.substr(0, 200)
                                     : "warm-up failed: " + warm.error().message;
    }
    {
      std::unique_lock lock(start_mutex);
      ++warmed_up;
      start_signal.notify_all();
      start_signal.wait(lock, [&] { return started; });
    }
    if (warm_up_failed) return;
    mine.latencies_us.reserve(1 << 14);
    while (Clock::now() < deadline) {
      if (options.requests && issued.fetch_add(1) >= *options.requests) break;
      const int now_in_flight = in_flight.fetch_add(1) + 1;
      int seen = max_in_flight.load();
      while (now_in_flight > seen && !max_in_flight.compare_exchange_weak(seen, now_in_flight)) {
      }
      const auto sent = Clock::now();
      auto response = (*client)->send(request, &failure);
      const auto took = Clock::now() - sent;
      in_flight.fetch_sub(1);
      mine.latencies_us.push_back(std::chrono::duration_cast<std::chrono::microseconds>(took).count());
      if (response.ok()) {
        ++mine.statuses[response->status];
        mine.body_bytes += static_cast<std::int64_t>(response->body.size());
        if ((response->status < 200 || response->status > 299) && mine.first_failure.empty()) {
          mine.first_failure = "HTTP " + std::to_string(response->status) + ": " + response->body.substr(0, 200);
        }
      } else {
        ++mine.failures[std::string(net::to_string(failure))];
        if (mine.first_failure.empty()) mine.first_failure = response.error().message;
      }
    }
  };

  std::vector<std::thread> workers;
  workers.reserve(worker_count);
  for (std::size_t i = 0; i < worker_count; ++i) workers.emplace_back(run_worker, i);
  {
    std::unique_lock lock(start_mutex);
    start_signal.wait(lock, [&] { return warmed_up == options.concurrency; });
    start = Clock::now();
    deadline = start + std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(options.seconds));
    started = true;
  }
  start_signal.notify_all();
  for (auto& worker : workers) worker.join();
  const double elapsed = std::chrono::duration<double>(Clock::now() - start).count();
  const std::size_t connections = (*client)->connections_opened();
  (*client)->stop();

  WorkerStats total;
  for (auto& mine : stats) {
    total.latencies_us.insert(total.latencies_us.end(), mine.latencies_us.begin(), mine.latencies_us.end());
    for (const auto& [status, count] : mine.statuses) total.statuses[status] += count;
    for (const auto& [kind, count] : mine.failures) total.failures[kind] += count;
    total.body_bytes += mine.body_bytes;
    if (total.first_failure.empty()) total.first_failure = mine.first_failure;
  }
  std::sort(total.latencies_us.begin(), total.latencies_us.end());
  const auto count = static_cast<std::int64_t>(total.latencies_us.size());
  std::int64_t non_2xx = 0;
  std::int64_t refused = 0;  // non-2xx and not allowed
  for (const auto& [status, n] : total.statuses) {
    if (status < 200 || status > 299) non_2xx += n;
    if ((status < 200 || status > 299) && options.allowed_statuses.count(status) == 0) refused += n;
  }
  std::int64_t failed = 0;
  for (const auto& [kind, n] : total.failures) failed += n;
  const double per_second = elapsed > 0 ? static_cast<double>(count) / elapsed : 0;
  const double bytes_per_second = elapsed > 0 ? static_cast<double>(total.body_bytes) / elapsed : 0;
  const double p50 = percentile(total.latencies_us, 0.50);
  const double p99 = percentile(total.latencies_us, 0.99);
  const double max = percentile(total.latencies_us, 1.0);

  if (options.json) {
    std::string statuses;
    for (const auto& [status, n] : total.statuses) {
      statuses += (statuses.empty() ? "" : ",") + ("\"" + std::to_string(status) + "\":" + std::to_string(n));
    }
    std::string failures;
    for (const auto& [kind, n] : total.failures) {
      failures += (failures.empty() ? "" : ",") + ("\"" + kind + "\":" + std::to_string(n));
    }
    std::printf(
        "{\"requests\":%lld,\"seconds\":%.3f,\"requests_per_second\":%.1f,\"p50_ms\":%.3f,\"p99_ms\":%.3f,"
        "\"max_ms\":%.3f,\"body_bytes_per_second\":%.0f,\"statuses\":{%s},\"non_2xx\":%lld,\"failures\":{%s},"
        "\"failed\":%lld,\"concurrency\":%d,\"client_threads\":%d,\"connections_opened\":%zu,"
        "\"max_in_flight\":%d,\"warm_up_failed\":%s,\"first_failure\":\"%s\"}\n",
        static_cast<long long>(count), elapsed, per_second, p50, p99, max, bytes_per_second, statuses.c_str(),
        static_cast<long long>(non_2xx), failures.c_str(), static_cast<long long>(failed), options.concurrency,
        options.threads, connections, max_in_flight.load(), warm_up_failed ? "true" : "false",
        json_escape(total.first_failure).c_str());
  } else {
    std::printf("  %lld requests in %.2f s: %.0f requests/s, %.1f MB/s of response bodies\n",
                static_cast<long long>(count), elapsed, per_second, bytes_per_second / 1e6);
    std::printf("  latency p50 %.2f ms, p99 %.2f ms, max %.2f ms\n", p50, p99, max);
    std::printf("  %d workers, %d client threads, %zu connections opened, at most %d requests in flight\n",
                options.concurrency, options.threads, connections, max_in_flight.load());
    std::printf("  statuses:");
    for (const auto& [status, n] : total.statuses) std::printf(" %d x%lld", status, static_cast<long long>(n));
    std::printf("%s\n", non_2xx > 0 ? "  (non-2xx answers present)" : "");
    for (const auto& [kind, n] : total.failures) {
      std::printf("  failed (%s): %lld\n", kind.c_str(), static_cast<long long>(n));
    }
  }
  if (!total.first_failure.empty()) {
    std::fprintf(stderr, "http_load: first non-2xx answer or failure: %s\n", total.first_failure.c_str());
  }
  if (connections > worker_count) {
    std::fprintf(stderr,
                 "http_load: %zu connections were opened for %zu workers: the server closed keep-alive "
                 "connections, so handshakes were measured too\n",
                 connections, worker_count);
  }
  return (warm_up_failed || failed > 0 || refused > 0) ? 1 : 0;
}
