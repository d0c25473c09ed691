// How much memory this process may still fill: the machine's available memory, or, inside a
// memory cgroup (a container, a systemd slice, `memlimit`), the cgroup's limit less what it
// holds that cannot be reclaimed, whichever is smaller. The page cache counts against a cgroup
// limit but is given back on demand, so it is not subtracted.
#pragma once
#include <cstdint>
#include <string>

namespace dsinfer {

struct MemoryView {
  uint64_t available = 0;     // bytes this process can still use (0: unknown)
  uint64_t cgroup_limit = 0;  // the memory cgroup's limit (0: none)
};
MemoryView memory_view() noexcept;

// "24G", "512M", "1.5T", "1000000" (bytes) or "70%" (of the available memory); throws Error
// naming `option` otherwise.
uint64_t parse_memory_size(const std::string& s, const std::string& option);

}  // namespace dsinfer
