#pragma once
// Helpers for the net tests: temporary directories, running curl, and a raw TCP client for the
// cases curl cannot produce (malformed requests, idle keep-alive connections, pipelining).

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <stdexcept>
#include <string>
#include <string_view>
#include <system_error>

#include "support/temp_dir.hpp"

namespace mailtrixy::net::testing {

// Each module's temp directories carry its name.
class TempDir : public mailtrixy::testing::TempDir {
 public:
  TempDir() : mailtrixy::testing::TempDir("mailtrixy-net") {}
};

inline std::string read_text(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream out;
  out << in.rdbuf();
  return out.str();
}

inline void write_text(const std::filesystem::path& path, std::string_view text) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out << text;
}

struct CommandResult {
  int exit_code = -1;
  std::string output;  // stdout and stderr together
};

inline CommandResult run_command(const std::string& command) {
  CommandResult result;
  FILE* pipe = ::popen((command + " 2>&1").c_str(), "r");
  if (pipe == nullptr) return result;
  char buffer[4096];
  std::size_t n = 0;
  while ((n = std::fread(buffer, 1, sizeof buffer, pipe)) > 0) result.output.append(buffer, n);
  const int status = ::pclose(pipe);
  result.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  return result;
}

// curl with everything that could make a test depend on the machine switched off: no proxy,
// no ~/.curlrc, a hard time limit.
inline std::string curl(std::string_view arguments) {
  return "curl -q -sS --noproxy '*' --max-time 20 " + std::string(arguments);
}

// The status code of the first response in curl -i output, or 0.
inline int status_of(std::string_view output) {
  const auto start = output.find("HTTP/1.");
  if (start == std::string_view::npos || output.size() < start + 12) return 0;
  return std::atoi(std::string(output.substr(start + 9, 3)).c_str());
}

// The body of the last response in curl -i output.
inline std::string body_of(std::string_view output) {
  const auto end_of_headers = output.rfind("\r\n\r\n");
  if (end_of_headers == std::string_view::npos) return {};
  return std::string(output.substr(end_of_headers + 4));
}

class RawConnection {
 public:
  explicit RawConnection(std::uint16_t port) {
    fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_port = htons(port);
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (fd_ < 0 || ::connect(fd_, reinterpret_cast<const sockaddr*>(&address), sizeof address) != 0) {
      throw std::runtime_error("cannot connect to 127.0.0.1:" + std::to_string(port));
    }
  }
  ~RawConnection() { close(); }
  RawConnection(const RawConnection&) = delete;
  RawConnection& operator=(const RawConnection&) = delete;

  void close() {
    if (fd_ >= 0) ::close(fd_);
    fd_ = -1;
  }

  bool send(std::string_view data) {
    while (!data.empty()) {
      const ssize_t n = ::send(fd_, data.data(), data.size(), MSG_NOSIGNAL);
      if (n <= 0) return false;
      data.remove_prefix(static_cast<std::size_t>(n));
    }
    return true;
  }

  // Reads until `marker` is in the buffer, the peer closes, or the timeout passes; returns the
  // buffer up to and including the marker (or everything, when the marker never came).
  std::string read_until(std::string_view marker, std::chrono::milliseconds timeout = std::chrono::seconds(10)) {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    while (buffer_.find(marker) == std::string::npos && !closed_ && fill(deadline)) {
    }
    const auto at = buffer_.find(marker);
    const std::size_t take = at == std::string::npos ? buffer_.size() : at + marker.size();
    std::string out = buffer_.substr(0, take);
    buffer_.erase(0, take);
    return out;
  }

  // One complete response: the header block plus Content-Length bytes of body (none for HEAD).
  std::string read_response(bool head = false, std::chrono::milliseconds timeout = std::chrono::seconds(10)) {
    std::string response = read_until("\r\n\r\n", timeout);
    std::size_t length = 0;
    std::string lower = response;
    for (auto& c : lower) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    if (const auto at = lower.find("content-length:"); at != std::string::npos && !head) {
      length = std::strtoul(response.c_str() + at + 15, nullptr, 10);
    }
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    while (buffer_.size() < length && !closed_ && fill(deadline)) {
    }
    const std::size_t take = std::min(length, buffer_.size());
    response += buffer_.substr(0, take);
    buffer_.erase(0, take);
    return response;
  }

  // True when the server closes the connection within the timeout (any unread data is dropped).
  bool wait_closed(std::chrono::milliseconds timeout) {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    while (!closed_ && fill(deadline)) {
    }
    return closed_;
  }

  const std::string& pending() const { return buffer_; }

 private:
  // Reads what is available; false on timeout.
  bool fill(std::chrono::steady_clock::time_point deadline) {
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) return false;
    pollfd descriptor{fd_, POLLIN, 0};
    if (::poll(&descriptor, 1, static_cast<int>(left.count())) <= 0) return false;
    char chunk[65536];
    const ssize_t n = ::recv(fd_, chunk, sizeof chunk, 0);
    if (n <= 0) {
      closed_ = true;
      return false;
    }
    buffer_.append(chunk, static_cast<std::size_t>(n));
    return true;
  }

  int fd_ = -1;
  bool closed_ = false;
  std::string buffer_;
};

}  // namespace mailtrixy::net::testing
