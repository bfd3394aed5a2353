// Stress test of the thread pool (cpp/fastoptim/parallel.cpp) for
// ThreadSanitizer: tools/tsan.sh builds it with -fsanitize=thread and runs it.
// Several caller threads run static and shared regions of random sizes at
// once; every item of every region must be processed exactly once, and a
// shared region's data (on the caller's stack) must never be touched after
// the call returns. (Python cannot host TSan here: an uninstrumented
// interpreter with the TSan runtime preloaded crashes at start.)
#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <random>
#include <thread>
#include <vector>

#include "fastoptim/parallel.hpp"

namespace {

std::atomic<int> g_failures{0};

void check(bool ok, const char* what) {
  if (!ok && g_failures.fetch_add(1) < 10) std::fprintf(stderr, "FAIL: %s\n", what);
}

// Shared work: threads take items from one counter until none is left.
void shared_region(int nt, std::size_t items) {
  std::vector<int> seen(items, 0);  // plain ints: TSan checks the handoff
  std::atomic<std::size_t> next{0};
  auto body = [&](int, int) {
    for (;;) {
      const std::size_t i = next.fetch_add(1, std::memory_order_relaxed);
      if (i >= items) break;
      seen[i] += 1;
    }
  };
  fastoptim::parallel_share(nt, body);
  for (std::size_t i = 0; i < items; ++i) check(seen[i] == 1, "shared item count");
}

// Static work: thread t does its own part only, so every t must run.
void static_region(int nt, std::size_t items) {
  std::vector<int> seen(items, 0);
  auto body = [&](int t, int n) {
    std::size_t b, e;
    fastoptim::split_range(items, t, n, 1, &b, &e);
    for (std::size_t i = b; i < e; ++i) seen[i] += 1;
  };
  fastoptim::parallel_for_threads(nt, body);
  for (std::size_t i = 0; i < items; ++i) check(seen[i] == 1, "static item count");
}

}  // namespace

int main(int argc, char** argv) {
  const int rounds = argc > 1 ? std::atoi(argv[1]) : 2000;
  fastoptim::set_num_threads(3);
  std::vector<std::thread> callers;
  for (int c = 0; c < 3; ++c) {
    callers.emplace_back([c, rounds] {
      std::mt19937 rng(static_cast<unsigned>(c));
      for (int r = 0; r < rounds; ++r) {
        const int nt = 1 + static_cast<int>(rng() % 3);
        const std::size_t items = rng() % 5000;
        if (rng() % 2)
          shared_region(nt, items);
        else
          static_region(nt, items);
      }
    });
  }
  for (auto& t : callers) t.join();
  const int f = g_failures.load();
  std::printf("%s: %d caller threads x %d regions, %d failures\n", f ? "FAILED" : "ok", 3,
              rounds, f);
  return f ? 1 : 0;
}
