// A small persistent thread pool (std::thread, no OpenMP).
//
// * The caller always works too; workers claim chunks with a CAS on a packed (job, next chunk) word,
//   so a worker that wakes late finds nothing left and never delays the caller: a cold pool is
//   never slower than running alone (only the wake-up syscall is paid).
// * After a job, workers spin briefly (ThreadPool::spin_micros) before sleeping on a condition variable, so
//   back-to-back calls find them awake.
// * One job at a time: a second concurrent submitter does not wait, run() returns false and the
//   caller evaluates on its own thread (no deadlock, no unbounded waiting).
// * Results never depend on the split (every element is computed independently).
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <mutex>
#include <thread>
#include <vector>

namespace fastlr {

class ThreadPool {
public:
    using Fn = void (*)(void* ctx, int64_t chunk);

    explicit ThreadPool(int n_workers);
    ~ThreadPool();
    ThreadPool(const ThreadPool&) = delete;
    ThreadPool& operator=(const ThreadPool&) = delete;

    // Runs fn(ctx, c) for c in [0, n_chunks) on the caller and the workers. False if busy.
    bool run(int64_t n_chunks, Fn fn, void* ctx);
    int workers() const { return int(threads_.size()); }

    static std::atomic<int64_t> spin_micros;

private:
    static constexpr uint64_t kChunkBits = 20;
    static constexpr uint64_t kChunkMask = (uint64_t(1) << kChunkBits) - 1;
    static uint64_t pack(uint64_t seq, uint64_t next, uint64_t n) {
        return (seq << (2 * kChunkBits)) | (n << kChunkBits) | next;
    }
    void worker_loop();
    void work(uint64_t seq);

    std::mutex submit_mu_;
    std::atomic<uint64_t> state_{0};
    std::atomic<int64_t> done_{0};
    std::atomic<Fn> fn_{nullptr};
    std::atomic<void*> ctx_{nullptr};
    uint64_t seq_ = 0;
    std::mutex mu_;
    std::condition_variable cv_;
    std::atomic<int> sleepers_{0};
    std::atomic<bool> stop_{false};
    std::vector<std::thread> threads_;
};

}  // namespace fastlr
