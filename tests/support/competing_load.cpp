#include "tests/support/competing_load.h"

#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <fstream>
#include <sstream>
#include <stdexcept>
#include <string>

extern char** environ;

namespace framepipe::testing {

namespace {

// utime + stime, fields 14 and 15 of /proc/<pid>/stat, in ns; the name in field 2 may hold
// spaces, so fields are counted from its closing parenthesis.
std::int64_t cpu_of(pid_t pid) {
  std::ifstream stat("/proc/" + std::to_string(pid) + "/stat");
  std::string text((std::istreambuf_iterator<char>(stat)), std::istreambuf_iterator<char>());
  const auto close = text.rfind(')');
  if (close == std::string::npos) return 0;
  std::istringstream fields(text.substr(close + 2));
  std::string skip;
  for (int field = 3; field < 14; ++field) fields >> skip;
  std::int64_t user = 0, system = 0;
  fields >> user >> system;
  return (user + system) * (1'000'000'000 / sysconf(_SC_CLK_TCK));
}

}  // namespace

CompetingLoad::CompetingLoad(int processes) {
  for (int i = 0; i < processes; ++i) {
    const char* argv[] = {"sh", "-c", "while :; do :; done", nullptr};
    pid_t pid = 0;
    if (posix_spawnp(&pid, "sh", nullptr, nullptr, const_cast<char**>(argv), environ) != 0) {
      throw std::runtime_error("cannot start a busy loop");
    }
    pids_.push_back(pid);
  }
}

CompetingLoad::~CompetingLoad() {
  for (const auto pid : pids_) kill(pid, SIGKILL);
  for (const auto pid : pids_) waitpid(pid, nullptr, 0);
}

std::int64_t CompetingLoad::cpu_ns() const {
  std::int64_t total = 0;
  for (const auto pid : pids_) total += cpu_of(pid);
  return total;
}

}  // namespace framepipe::testing
