#include "engine/runner/openmp_threads.h"

#include <cstdlib>
#include <initializer_list>

#ifdef _OPENMP
#include <omp.h>
#endif

namespace gqa {

bool ReleaseThisThreadsOpenMpWorkers() {
#ifdef _OPENMP
  if (omp_in_parallel()) return false;
  // libgomp: frees the calling thread's pool (gomp_pause_host) and lowers its
  // count of managed threads, which decides whether barriers spin or sleep.
  return omp_pause_resource_all(omp_pause_hard) == 0;
#else
  return false;
#endif
}

bool OpenMpWaitPolicyChosen() {
  for (const char* name : {"OMP_WAIT_POLICY", "GOMP_SPINCOUNT"}) {
    const char* value = std::getenv(name);
    if (value != nullptr && *value != '\0') return true;
  }
  return false;
}

}  // namespace gqa
