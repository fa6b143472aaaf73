// One OpenMP thread team per process while the engine serves.
//
// libgomp keeps a pool of worker threads for every thread that ever started a
// parallel region (each such thread is a "master"), for as long as that thread
// lives. When the threads of all pools outnumber the CPUs it takes the machine
// for oversubscribed and throttles every barrier: a waiting worker spins 100
// times instead of 300000 before it sleeps on a futex (GOMP_SPINCOUNT in the
// libgomp manual). A decode step runs some 250 parallel regions, so every one
// of them then starts with a futex wake-up of the worker.
//
// The server meets exactly that case: the main thread loads the model and
// creates the engine (parallel regions there: a pool of `--threads`), then the
// engine thread steps (a second pool of `--threads`). On 2 CPUs with 2 threads
// that is 4 > 2, and on free cores the served step is slower than
// gqa-generate's, which loads and steps on one thread
// (bench/results/serving_overhead_cpu.md).
//
// Which of the two is faster depends on the machine: on free cores spinning
// saves the wake-ups, but on a machine shared with more runnable threads than
// cores a spinning team waits for a descheduled partner a whole time slice at
// every barrier (measured at load 19 on 2 cores: gqa-generate 0.35 tokens/s
// spinning, 5.7 passive). The server keeps libgomp's throttled default, and
// Engine::Start releases the starting thread's pool (so that the engine's team
// is the only one and libgomp honours the policy as set) only when the user
// chose a wait policy: OMP_WAIT_POLICY or GOMP_SPINCOUNT in the environment.
#pragma once

namespace gqa {

// Ends the OpenMP worker threads that parallel regions on the calling thread
// created (omp_pause_resource_all(omp_pause_hard): the calling thread's pool;
// a later parallel region there makes a new one). Returns false when it
// could not: built without OpenMP (GQA_USE_OPENMP=OFF), or called inside a
// parallel region.
//
// Thread: any thread outside a parallel region; affects only its own pool.
bool ReleaseThisThreadsOpenMpWorkers();

// True when the environment sets OMP_WAIT_POLICY or GOMP_SPINCOUNT (to anything
// non-empty): the user chose how idle OpenMP workers wait.
bool OpenMpWaitPolicyChosen();

}  // namespace gqa
