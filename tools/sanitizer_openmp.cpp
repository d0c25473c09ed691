// Compiled into every program of a sanitizer build (-DDSINFER_SANITIZE, see CMakeLists.txt):
// LLVM's OpenMP runtime is told not to keep "hot" thread teams.
//
// Why: clang links LLVM's libomp, and libomp 14 leaks each thread's dispatch buffers when a
// kept team grows past 4 (a region of 2 threads, then one of 5, leaks; 3 then 4 does not):
// `dsinfer run -t 8` on 2 CPUs failed under LeakSanitizer with 1440 bytes per thread of the
// old team, allocated by ___kmp_allocate. Suppressing
// libomp's frames instead would hide our own leaks too: everything a parallel region
// allocates has libomp's frames below it. Without hot teams libomp builds each team afresh
// and frees the old one; team sizes, and so our results, are unchanged. libgomp (g++) has no
// such setting and needs none.
#include <omp.h>

#ifdef KMP_VERSION_MAJOR  // LLVM's omp.h
namespace {
// Before main: the first parallel region must already see the setting.
const bool hot_teams_off = [] {
  kmp_set_defaults("KMP_HOT_TEAMS_MAX_LEVEL=0");
  return true;
}();
}  // namespace
#endif
