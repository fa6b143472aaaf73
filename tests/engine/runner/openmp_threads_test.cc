// ReleaseThisThreadsOpenMpWorkers ends the calling thread's libgomp pool and
// no other; Engine::Start releases the pool of the thread that starts it (the
// server's main thread, which loaded the model) when the environment chooses a
// wait policy, so that the engine thread's team is the only one, and keeps it
// otherwise (engine/runner/openmp_threads.h says why).
// A pool is observed through the kernel thread id of its worker: libgomp
// reuses a master's worker for every parallel region, so a new id means a new
// pool.
#include "engine/runner/openmp_threads.h"

#include <gtest/gtest.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cstdlib>
#include <optional>
#include <string>
#include <thread>

#include "engine/runner/engine.h"
#include "tests/engine/runner/engine_test_util.h"

#ifdef _OPENMP
#include <omp.h>
#endif

namespace gqa::testing {
namespace {

// Sets (or, with nullopt, unsets) an environment variable for its lifetime.
class ScopedEnv {
 public:
  ScopedEnv(const char* name, std::optional<std::string> value) : name_(name) {
    if (const char* old = std::getenv(name)) old_ = old;
    if (value) {
      setenv(name, value->c_str(), 1);
    } else {
      unsetenv(name);
    }
  }
  ~ScopedEnv() {
    if (old_) {
      setenv(name_, old_->c_str(), 1);
    } else {
      unsetenv(name_);
    }
  }

 private:
  const char* name_;
  std::optional<std::string> old_;
};

TEST(OpenMpThreadsTest, AWaitPolicyIsChosenByEitherVariable) {
  {
    ScopedEnv policy("OMP_WAIT_POLICY", std::nullopt), spin("GOMP_SPINCOUNT", std::nullopt);
    EXPECT_FALSE(OpenMpWaitPolicyChosen());
  }
  {
    ScopedEnv policy("OMP_WAIT_POLICY", ""), spin("GOMP_SPINCOUNT", std::nullopt);
    EXPECT_FALSE(OpenMpWaitPolicyChosen());
  }
  {
    ScopedEnv policy("OMP_WAIT_POLICY", "active"), spin("GOMP_SPINCOUNT", std::nullopt);
    EXPECT_TRUE(OpenMpWaitPolicyChosen());
  }
  {
    ScopedEnv policy("OMP_WAIT_POLICY", std::nullopt), spin("GOMP_SPINCOUNT", "10000");
    EXPECT_TRUE(OpenMpWaitPolicyChosen());
  }
}

#ifdef _OPENMP
// The kernel thread id of thread 1 of a 2-thread parallel region started on
// the calling thread: the first worker of the calling thread's pool.
pid_t WorkerTid() {
  pid_t tid = 0;
#pragma omp parallel num_threads(2)
  {
    if (omp_get_thread_num() == 1) tid = static_cast<pid_t>(syscall(SYS_gettid));
  }
  return tid;
}
#endif

TEST(OpenMpThreadsTest, ReleasesTheCallingThreadsPool) {
#ifndef _OPENMP
  GTEST_SKIP() << "built without OpenMP (GQA_USE_OPENMP=OFF)";
#else
  std::thread([] {
    const pid_t first = WorkerTid();
    ASSERT_NE(first, 0);
    ASSERT_EQ(WorkerTid(), first);  // the pool is kept between regions
    EXPECT_TRUE(ReleaseThisThreadsOpenMpWorkers());
    EXPECT_NE(WorkerTid(), first);  // that worker ended: a new pool
  }).join();
#endif
}

TEST(OpenMpThreadsTest, LeavesOtherThreadsPoolsAlone) {
#ifndef _OPENMP
  GTEST_SKIP() << "built without OpenMP (GQA_USE_OPENMP=OFF)";
#else
  std::thread([] {
    const pid_t mine = WorkerTid();
    ASSERT_NE(mine, 0);
    std::thread([] {
      ASSERT_NE(WorkerTid(), 0);
      EXPECT_TRUE(ReleaseThisThreadsOpenMpWorkers());
    }).join();
    EXPECT_EQ(WorkerTid(), mine);
  }).join();
#endif
}

TEST(OpenMpThreadsTest, InsideAParallelRegionItDoesNothing) {
#ifndef _OPENMP
  GTEST_SKIP() << "built without OpenMP (GQA_USE_OPENMP=OFF)";
#else
  std::thread([] {
    const pid_t first = WorkerTid();
    bool released = true;
#pragma omp parallel num_threads(2)
    {
      if (omp_get_thread_num() == 0) released = ReleaseThisThreadsOpenMpWorkers();
    }
    EXPECT_FALSE(released);
    EXPECT_EQ(WorkerTid(), first);
  }).join();
#endif
}

// Creates an engine on a fresh thread after a parallel region there (as the
// server's main thread after loading), starts it, and returns whether that
// thread's pool survived Start.
#ifdef _OPENMP
bool StartingThreadKeepsItsPool() {
  bool kept = false;
  absl::StatusOr<ModelWeights> w = MakeDummyWeights(TinyConfig(2), DType::kF32, 7);
  EXPECT_TRUE(w.ok()) << w.status();
  std::thread([&] {
    const pid_t loader = WorkerTid();
    absl::StatusOr<std::unique_ptr<Engine>> engine =
        Engine::Create(*w, MakeCpuBackend(2), EngineConfig{});
    ASSERT_TRUE(engine.ok()) << engine.status();
    ASSERT_EQ(WorkerTid(), loader);  // Create keeps it
    (*engine)->Start();
    kept = WorkerTid() == loader;
    (*engine)->Stop();
  }).join();
  return kept;
}
#endif

TEST(OpenMpThreadsTest, EngineStartReleasesTheStartingThreadsPoolWhenAPolicyIsChosen) {
#ifndef _OPENMP
  GTEST_SKIP() << "built without OpenMP (GQA_USE_OPENMP=OFF)";
#else
  ScopedEnv policy("OMP_WAIT_POLICY", "active"), spin("GOMP_SPINCOUNT", std::nullopt);
  EXPECT_FALSE(StartingThreadKeepsItsPool());
#endif
}

TEST(OpenMpThreadsTest, EngineStartKeepsTheStartingThreadsPoolByDefault) {
#ifndef _OPENMP
  GTEST_SKIP() << "built without OpenMP (GQA_USE_OPENMP=OFF)";
#else
  ScopedEnv policy("OMP_WAIT_POLICY", std::nullopt), spin("GOMP_SPINCOUNT", std::nullopt);
  EXPECT_TRUE(StartingThreadKeepsItsPool());
#endif
}

}  // namespace
}  // namespace gqa::testing
