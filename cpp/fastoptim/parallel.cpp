#include "fastoptim/parallel.hpp"

#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <system_error>
#include <thread>
#include <vector>

#if defined(__linux__)
#include <pthread.h>
#include <sched.h>
#endif

namespace fastoptim {

namespace {

int cpus_available() {
#if defined(__linux__)
  cpu_set_t set;
  if (sched_getaffinity(0, sizeof(set), &set) == 0) {
    const int n = CPU_COUNT(&set);
    if (n > 0) return n;
  }
#endif
  const unsigned n = std::thread::hardware_concurrency();
  return n > 0 ? static_cast<int>(n) : 1;
}

class Pool {
 public:
  Pool() : wanted_(cpus_available()) {}

  int wanted() const { return wanted_.load(std::memory_order_relaxed); }

  void set_wanted(int n) {
    std::lock_guard<std::mutex> run(run_mutex_);
    wanted_.store(std::max(1, n), std::memory_order_relaxed);
  }

  void run(int nt, ParallelFn fn, void* ctx, bool shared) {
    nt = std::max(1, std::min(nt, wanted()));
    std::unique_lock<std::mutex> run(run_mutex_, std::defer_lock);
    if (nt == 1 || !run.try_lock()) {
      fn(ctx, 0, 1);
      return;
    }
    // A worker that cannot be started (thread limit) shrinks the region
    // instead of failing the step halfway.
    nt = std::min(nt, ensure_workers(nt - 1) + 1);
    if (nt == 1) {
      run.unlock();
      fn(ctx, 0, 1);
      return;
    }
    {
      std::lock_guard<std::mutex> lk(m_);
      fn_ = fn;
      ctx_ = ctx;
      nt_ = nt;
      shared_ = shared;
      open_ = true;
      pending_ = nt - 1;
      running_ = 0;
      ++generation_;
    }
    wake_.notify_all();
    fn(ctx, 0, nt);
    std::unique_lock<std::mutex> lk(m_);
    if (shared) {
      // The caller's fn returned: every piece of work has been taken. Workers
      // that have not joined yet (a sleeping vCPU can take tens of
      // microseconds to wake) skip this region; wait only for those inside.
      open_ = false;
      done_.wait(lk, [&] { return running_ == 0; });
    } else {
      done_.wait(lk, [&] { return pending_ == 0; });
    }
  }

  // fork(): hold the run lock across it so the child never inherits a
  // half-started region; the child gets a fresh pool with no workers.
  void before_fork() { run_mutex_.lock(); }
  void after_fork_parent() { run_mutex_.unlock(); }

 private:
  // Starts workers up to n; returns how many exist.
  int ensure_workers(int n) {
    while (static_cast<int>(workers_) < n) {
      const int id = static_cast<int>(workers_) + 1;
      // The generation is read here, before the caller publishes the next
      // region: a worker that read it after starting could miss that region.
      unsigned long seen;
      {
        std::lock_guard<std::mutex> lk(m_);
        seen = generation_;
      }
      // Detached, never joined: at exit the process may be tearing down the
      // interpreter while they sleep, and joining could hang.
      try {
        std::thread([this, id, seen] { worker(id, seen); }).detach();
      } catch (const std::system_error&) {
        break;
      }
      ++workers_;
    }
    return static_cast<int>(workers_);
  }

  void worker(int id, unsigned long seen) {
    for (;;) {
      ParallelFn fn;
      void* ctx;
      int nt;
      bool shared;
      {
        std::unique_lock<std::mutex> lk(m_);
        wake_.wait(lk, [&] { return generation_ != seen; });
        seen = generation_;
        fn = fn_;
        ctx = ctx_;
        nt = nt_;
        shared = shared_;
        if (id >= nt) continue;              // this region needs fewer threads
        if (shared && !open_) continue;      // finished without this worker
        ++running_;
      }
      fn(ctx, id, nt);
      std::lock_guard<std::mutex> lk(m_);
      --running_;
      if (shared ? running_ == 0 && !open_ : --pending_ == 0) done_.notify_one();
    }
  }

  std::atomic<int> wanted_;
  std::mutex run_mutex_;  // one parallel region at a time
  std::mutex m_;
  std::condition_variable wake_;
  std::condition_variable done_;
  unsigned long generation_ = 0;
  ParallelFn fn_ = nullptr;
  void* ctx_ = nullptr;
  int nt_ = 1;
  bool shared_ = false;  // the region's work is shared (parallel_run_shared)
  bool open_ = false;    // a shared region still admits workers
  int pending_ = 0;      // static region: workers not yet finished
  int running_ = 0;      // workers inside the current region's fn
  std::size_t workers_ = 0;
};

Pool* g_pool = nullptr;
std::once_flag g_once;

void at_fork_prepare();
void at_fork_parent();
void at_fork_child();

Pool& pool() {
  std::call_once(g_once, [] {
    g_pool = new Pool();
#if defined(__linux__)
    pthread_atfork(at_fork_prepare, at_fork_parent, at_fork_child);
#endif
  });
  return *g_pool;
}

void at_fork_prepare() { g_pool->before_fork(); }
void at_fork_parent() { g_pool->after_fork_parent(); }
void at_fork_child() {
  // The parent's workers do not exist in the child. The old pool (its mutex
  // still locked) is leaked on purpose; the child starts with no workers.
  const int wanted = g_pool->wanted();
  g_pool = new Pool();
  g_pool->set_wanted(wanted);
}

}  // namespace

int num_threads() { return pool().wanted(); }

void set_num_threads(int n) { pool().set_wanted(n); }

void parallel_run(int nt, ParallelFn fn, void* ctx) { pool().run(nt, fn, ctx, false); }

void parallel_run_shared(int nt, ParallelFn fn, void* ctx) { pool().run(nt, fn, ctx, true); }

RangeShare* range_shares(int nt) {
  static thread_local std::unique_ptr<RangeShare[]> scratch;
  static thread_local int capacity = 0;
  if (capacity < nt) {
    scratch.reset(new RangeShare[static_cast<std::size_t>(nt)]);
    capacity = nt;
  }
  return scratch.get();
}

}  // namespace fastoptim
