#include "engine/experts/ram_budget.h"

#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <fstream>
#include <sstream>

#include "simd/error.h"

namespace dsinfer {

namespace {

uint64_t read_u64(const std::string& path) {
  std::ifstream f(path);
  std::string s;
  if (!(f >> s) || s == "max") return 0;
  try {
    return std::stoull(s);
  } catch (...) {
    return 0;
  }
}

// A key's value in a "key value" file (meminfo in kB, memory.stat in bytes).
uint64_t stat_value(const std::string& path, const std::string& key) {
  std::ifstream f(path);
  std::string k;
  uint64_t v = 0;
  while (f >> k >> v) {
    if (k == key) return v;
    f.ignore(1 << 20, '\n');
  }
  return 0;
}

// The memory cgroup of this process: v2 ("0::/path") or v1 ("N:memory:/path").
struct Cgroup {
  uint64_t limit = 0, used = 0, cache = 0;
};
Cgroup own_cgroup() {
  Cgroup g;
  std::ifstream f("/proc/self/cgroup");
  std::string line;
  while (std::getline(f, line)) {
    const size_t a = line.find(':'), b = line.find(':', a + 1);
    if (a == std::string::npos || b == std::string::npos) continue;
    const std::string ctrl = line.substr(a + 1, b - a - 1), path = line.substr(b + 1);
    if (ctrl.empty() && line.compare(0, a, "0") == 0) {  // v2
      const std::string dir = "/sys/fs/cgroup" + path;
      g.limit = read_u64(dir + "/memory.max");
      g.used = read_u64(dir + "/memory.current");
      g.cache = stat_value(dir + "/memory.stat", "file");
    } else if (ctrl == "memory") {  // v1
      const std::string dir = "/sys/fs/cgroup/memory" + path;
      g.limit = read_u64(dir + "/memory.limit_in_bytes");
      g.used = read_u64(dir + "/memory.usage_in_bytes");
      g.cache = stat_value(dir + "/memory.stat", "total_cache");
    }
    if (g.limit) break;
  }
  // v1 writes "no limit" as a huge page-rounded number.
  if (g.limit >= (uint64_t(1) << 60)) g.limit = 0;
  return g;
}

}  // namespace

MemoryView memory_view() noexcept {
  MemoryView v;
  try {
    v.available = stat_value("/proc/meminfo", "MemAvailable:") * 1024;
#if defined(__linux__)
    const Cgroup g = own_cgroup();
    if (g.limit) {
      v.cgroup_limit = g.limit;
      const uint64_t held = g.used > g.cache ? g.used - g.cache : 0;
      const uint64_t room = g.limit > held ? g.limit - held : 0;
      v.available = v.available ? std::min(v.available, room) : room;
    }
#endif
    if (!v.available) {
      const long pages = ::sysconf(_SC_AVPHYS_PAGES), page = ::sysconf(_SC_PAGESIZE);
      if (pages > 0 && page > 0) v.available = uint64_t(pages) * uint64_t(page);
    }
  } catch (...) {
  }
  return v;
}

uint64_t parse_memory_size(const std::string& s, const std::string& option) {
  char* end = nullptr;
  const double v = std::strtod(s.c_str(), &end);
  const std::string unit(end ? end : "");
  if (s.empty() || end == s.c_str() || !std::isfinite(v) || v < 0)
    fail(option, "'" + s + "' is not a size (e.g. 24G, 512M, 70%)");
  double mult = 1;
  if (unit == "%") {
    if (v > 100) fail(option, "'" + s + "' is more than 100%");
    return uint64_t(double(memory_view().available) * v / 100.0);
  }
  if (unit == "K" || unit == "k") mult = 1024.0;
  else if (unit == "M" || unit == "m") mult = 1024.0 * 1024;
  else if (unit == "G" || unit == "g") mult = 1024.0 * 1024 * 1024;
  else if (unit == "T" || unit == "t") mult = 1024.0 * 1024 * 1024 * 1024;
  else if (!unit.empty()) fail(option, "'" + s + "': unknown unit '" + unit + "' (K, M, G, T or %)");
  if (v * mult > 1.8e19) fail(option, "'" + s + "' is too large");
  return uint64_t(v * mult);
}

}  // namespace dsinfer
