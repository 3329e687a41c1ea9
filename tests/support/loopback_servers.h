#pragma once

// Servers the network tests start on 127.0.0.1 and stop again: the Python HTTP server in
// tests/support/http_test_server.py, and a throwaway PostgreSQL cluster.
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <signal.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <fstream>
#include <nlohmann/json.hpp>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "tests/support/media.h"

extern char** environ;

namespace framepipe::testing {

// tests/support/http_test_server.py, started on a port the system picks; stopped (SIGTERM)
// when destroyed. Every request it saw is in log().
class HttpTestServer {
 public:
  // With `tls_cert` (a PEM holding a certificate and its key) it serves https.
  explicit HttpTestServer(const std::filesystem::path& root, int delay_ms = 0,
                          int post_delay_ms = 0, const std::filesystem::path& tls_cert = {})
      : dir_(make_temp_dir("framepipe-http")), scheme_(tls_cert.empty() ? "http" : "https") {
    const auto script =
        std::filesystem::path(FRAMEPIPE_SOURCE_DIR) / "tests/support/http_test_server.py";
    std::vector<std::string> args = {
        "python3",     script.string(),          "--root",          root.string(),
        "--port-file", (dir_ / "port").string(), "--log",           (dir_ / "log.jsonl").string(),
        "--delay-ms",  std::to_string(delay_ms), "--post-delay-ms", std::to_string(post_delay_ms)};
    if (!tls_cert.empty()) {
      args.push_back("--tls-cert");
      args.push_back(tls_cert.string());
    }
    std::vector<char*> argv;
    for (auto& arg : args) argv.push_back(arg.data());
    argv.push_back(nullptr);
    if (posix_spawnp(&pid_, "python3", nullptr, nullptr, argv.data(), environ) != 0)
      throw std::runtime_error("cannot start python3");
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
    while (!std::filesystem::exists(dir_ / "port")) {
      if (std::chrono::steady_clock::now() > deadline)
        throw std::runtime_error("the test HTTP server did not start");
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    std::ifstream(dir_ / "port") >> port_;
  }
  HttpTestServer(const HttpTestServer&) = delete;
  HttpTestServer& operator=(const HttpTestServer&) = delete;
  ~HttpTestServer() {
    kill(pid_, SIGTERM);
    waitpid(pid_, nullptr, 0);
    std::filesystem::remove_all(dir_);
  }

  std::string url(const std::string& path) const {
    return scheme_ + "://127.0.0.1:" + std::to_string(port_) + path;
  }
  std::vector<nlohmann::json> log() const {
    std::vector<nlohmann::json> entries;
    std::ifstream in(dir_ / "log.jsonl");
    for (std::string line; std::getline(in, line);) entries.push_back(nlohmann::json::parse(line));
    return entries;
  }

 private:
  std::filesystem::path dir_;
  std::string scheme_;
  pid_t pid_ = 0;
  int port_ = 0;
};

// A port nothing listens on right now (bound, read, released).
inline int free_port() {
  const int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  bind(fd, reinterpret_cast<sockaddr*>(&address), sizeof address);
  socklen_t size = sizeof address;
  getsockname(fd, reinterpret_cast<sockaddr*>(&address), &size);
  close(fd);
  return ntohs(address.sin_port);
}

// Debian's PostgreSQL server binaries (initdb, pg_ctl), whatever the version; empty when the
// `postgresql` package is not installed.
inline std::filesystem::path postgres_bindir() {
  const auto result = run_shell("pg_config --bindir 2>/dev/null");
  std::string dir = result.output.substr(0, result.output.find('\n'));
  if (result.exit_code == 0 && std::filesystem::exists(std::filesystem::path(dir) / "initdb"))
    return dir;
  const auto glob = run_shell("ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1");
  dir = glob.output.substr(0, glob.output.find('\n'));
  if (!dir.empty() && std::filesystem::exists(std::filesystem::path(dir) / "initdb")) return dir;
  return {};
}

// A PostgreSQL cluster in a temporary folder, listening on a loopback port, trusting local
// connections; as root it runs as `nobody` (postgres refuses to run as root). Stopped and
// removed when destroyed.
class PostgresServer {
 public:
  explicit PostgresServer(const std::filesystem::path& bindir)
      : bindir_(bindir), dir_(make_temp_dir("framepipe-pg")), port_(free_port()) {
    std::filesystem::permissions(dir_, std::filesystem::perms::all);
    if (geteuid() == 0) {
      capture("chown nobody " + shell_quote(dir_.string()));
      as_user_ = "runuser -u nobody -- ";
    }
    const auto data = (dir_ / "data").string();
    capture(as_user_ + shell_quote((bindir_ / "initdb").string()) + " -D " + shell_quote(data) +
            " -A trust -U postgres --no-sync 2>&1");
    capture(as_user_ + shell_quote((bindir_ / "pg_ctl").string()) + " -D " + shell_quote(data) +
            " -l " + shell_quote((dir_ / "log").string()) + " -w -o " +
            shell_quote("-p " + std::to_string(port_) + " -k " + dir_.string() +
                        " -c listen_addresses=127.0.0.1 -c fsync=off") +
            " start 2>&1");
  }
  PostgresServer(const PostgresServer&) = delete;
  PostgresServer& operator=(const PostgresServer&) = delete;
  ~PostgresServer() {
    run_shell(as_user_ + shell_quote((bindir_ / "pg_ctl").string()) + " -D " +
              shell_quote((dir_ / "data").string()) + " -m immediate -w stop 2>&1");
    std::filesystem::remove_all(dir_);
  }

  std::string url() const {
    return "postgresql://postgres@127.0.0.1:" + std::to_string(port_) + "/postgres";
  }
  // psql's unaligned, tuples-only output of one statement.
  std::string query(const std::string& sql) const {
    return capture("psql " + shell_quote(url()) + " -X -A -t -F '|' -v ON_ERROR_STOP=1 -c " +
                   shell_quote(sql));
  }

 private:
  std::filesystem::path bindir_;
  std::filesystem::path dir_;
  int port_;
  std::string as_user_;
};

}  // namespace framepipe::testing
