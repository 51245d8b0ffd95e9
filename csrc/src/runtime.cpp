// Thread pool, dispatch state and the top-level evaluate (no Python headers).
#include <pthread.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <memory>
#include <new>

#include "fastlr/plateau.hpp"
#include "fastlr/runtime.hpp"
#include "fastlr/thread_pool.hpp"

#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>
#define FASTLR_PAUSE() _mm_pause()
#else
#define FASTLR_PAUSE() std::this_thread::yield()
#endif

namespace fastlr {

// ---------------------------------------------------------------------------------------------
// ThreadPool

std::atomic<int64_t> ThreadPool::spin_micros{2000};

ThreadPool::ThreadPool(int n_workers) {
    threads_.reserve(size_t(n_workers > 0 ? n_workers : 0));
    for (int i = 0; i < n_workers; ++i) threads_.emplace_back([this] { worker_loop(); });
}

ThreadPool::~ThreadPool() {
    {
        std::lock_guard<std::mutex> lk(mu_);
        stop_.store(true);
    }
    cv_.notify_all();
    for (auto& t : threads_) t.join();
}

void ThreadPool::work(uint64_t seq) {
    for (;;) {
        uint64_t s = state_.load(std::memory_order_acquire);
        if ((s >> (2 * kChunkBits)) != seq) return;
        const uint64_t next = s & kChunkMask, n = (s >> kChunkBits) & kChunkMask;
        if (next >= n) return;
        if (!state_.compare_exchange_weak(s, s + 1, std::memory_order_acq_rel)) continue;
        fn_.load(std::memory_order_acquire)(ctx_.load(std::memory_order_acquire), int64_t(next));
        done_.fetch_add(1, std::memory_order_acq_rel);
    }
}

void ThreadPool::worker_loop() {
    uint64_t seen = state_.load() >> (2 * kChunkBits);
    for (;;) {
        bool found = false;
        const auto t0 = std::chrono::steady_clock::now();
        for (int64_t it = 0;; ++it) {
            if ((state_.load(std::memory_order_acquire) >> (2 * kChunkBits)) != seen || stop_.load()) {
                found = true;
                break;
            }
            FASTLR_PAUSE();
            if ((it & 255) == 255 && std::chrono::steady_clock::now() - t0 >
                                         std::chrono::microseconds(spin_micros.load(std::memory_order_relaxed)))
                break;
        }
        if (!found) {
            std::unique_lock<std::mutex> lk(mu_);
            sleepers_.fetch_add(1);
            cv_.wait(lk, [&] { return (state_.load() >> (2 * kChunkBits)) != seen || stop_.load(); });
            sleepers_.fetch_sub(1);
        }
        if (stop_.load()) return;
        seen = state_.load(std::memory_order_acquire) >> (2 * kChunkBits);
        work(seen);
    }
}

bool ThreadPool::run(int64_t n_chunks, Fn fn, void* ctx) {
    if (n_chunks <= 0) return true;
    if (uint64_t(n_chunks) > kChunkMask) return false;
    std::unique_lock<std::mutex> lk(submit_mu_, std::try_to_lock);
    if (!lk.owns_lock()) return false;
    fn_.store(fn, std::memory_order_release);
    ctx_.store(ctx, std::memory_order_release);
    done_.store(0);
    seq_ = (seq_ + 1) & ((uint64_t(1) << (64 - 2 * kChunkBits)) - 1);
    state_.store(pack(seq_, 0, uint64_t(n_chunks)));
    if (sleepers_.load() > 0) {
        { std::lock_guard<std::mutex> g(mu_); }
        cv_.notify_all();
    }
    work(seq_);
    for (int64_t it = 0; done_.load(std::memory_order_acquire) < n_chunks; ++it) {
        if (it < 4096) FASTLR_PAUSE(); else std::this_thread::yield();
    }
    return true;
}

// ---------------------------------------------------------------------------------------------
// runtime state

namespace {

int env_threads() {
    const char* e = std::getenv("FASTLR_NUM_THREADS");
    if (e && *e) {
        const int v = std::atoi(e);
        if (v > 0) return v;
    }
    const unsigned h = std::thread::hardware_concurrency();
    return h ? int(h) : 1;
}

bool env_portable() {
    const char* e = std::getenv("FASTLR_PORTABLE");
    return e && *e && *e != '0';
}

std::atomic<int> g_threads{0};  // 0: not initialized yet
std::atomic<bool> g_portable{env_portable()};

// The pool lives behind a shared_ptr so that set_num_threads never destroys a pool in use.
alignas(std::shared_ptr<ThreadPool>) unsigned char g_pool_mem[sizeof(std::shared_ptr<ThreadPool>)];
alignas(std::mutex) unsigned char g_pool_mu_mem[sizeof(std::mutex)];
std::shared_ptr<ThreadPool>& g_pool() { return *reinterpret_cast<std::shared_ptr<ThreadPool>*>(g_pool_mem); }
std::mutex& g_pool_mu() { return *reinterpret_cast<std::mutex*>(g_pool_mu_mem); }

void after_fork_child() {
    // The worker threads do not exist in the child: forget (leak) the old pool and its mutexes.
    new (g_pool_mem) std::shared_ptr<ThreadPool>();
    new (g_pool_mu_mem) std::mutex();
}

struct Init {
    Init() {
        new (g_pool_mem) std::shared_ptr<ThreadPool>();
        new (g_pool_mu_mem) std::mutex();
        pthread_atfork(nullptr, nullptr, &after_fork_child);
    }
    // never destroyed: worker threads may outlive static destruction order at interpreter exit
} g_init;

std::shared_ptr<ThreadPool> get_pool(int n_workers) {
    std::lock_guard<std::mutex> lk(g_pool_mu());
    auto& p = g_pool();
    if (!p || p->workers() != n_workers) p = std::make_shared<ThreadPool>(n_workers);
    return p;
}

struct RangeJob {
    const KernelTable* k;
    const ProgramView* P;
    const EvalArgs* A;
    int64_t chunk;
};

void range_chunk(void* ctx, int64_t c) {
    const auto* j = static_cast<const RangeJob*>(ctx);
    const int64_t b = c * j->chunk;
    const int64_t e = b + j->chunk < j->A->size ? b + j->chunk : j->A->size;
    j->k->run_range(*j->P, *j->A, b, e);
}

}  // namespace

std::atomic<int64_t> parallel_threshold{200000};

void set_num_threads(int n) { g_threads.store(n > 0 ? n : env_threads()); }

int get_num_threads() {
    int n = g_threads.load();
    if (n == 0) {
        n = env_threads();
        g_threads.store(n);
    }
    return n;
}

void set_portable(bool flag) { g_portable.store(flag); }
bool get_portable() { return g_portable.load(); }

bool cpu_has_avx2() {
#if defined(FASTLR_HAVE_AVX2)
    static const bool has = [] {
        __builtin_cpu_init();
        // the AVX2 kernels also use FMA (every AVX2 CPU from Intel and AMD has both)
        return __builtin_cpu_supports("avx2") != 0 && __builtin_cpu_supports("fma") != 0;
    }();
    return has;
#else
    return false;
#endif
}

const KernelTable& active_kernels() {
#if defined(FASTLR_HAVE_AVX2)
    if (!g_portable.load(std::memory_order_relaxed) && cpu_has_avx2()) return kernels_avx2;
#endif
    return kernels_baseline;
}

void evaluate(const ProgramView& P, const EvalArgs& A) {
    const KernelTable& k = active_kernels();
    const int nt = get_num_threads();
    if (A.size <= 0) return;
    if (nt <= 1 || A.size < parallel_threshold) {
        k.run_range(P, A, 0, A.size);
        return;
    }
    // chunks: whole blocks, at least kMinChunk elements, about 8 per thread for balance
    int64_t chunk = (A.size + 8 * nt - 1) / (8 * nt);
    if (chunk < kMinChunk) chunk = kMinChunk;
    chunk = (chunk + kBlockAlign - 1) / kBlockAlign * kBlockAlign;
    const int64_t n_chunks = (A.size + chunk - 1) / chunk;
    RangeJob job{&k, &P, &A, chunk};
    if (n_chunks <= 1 || !get_pool(nt - 1)->run(n_chunks, &range_chunk, &job)) k.run_range(P, A, 0, A.size);
}

// ---------------------------------------------------------------------------------------------
// plateau: runs split across the pool in chunks of whole runs

namespace {
struct PlateauJob {
    const double* metrics;
    int64_t runs, epochs, runs_per_chunk;
    const double* lr;
    const double* min_lr;
    const PlateauRule* rule;
    double* out;
};

void plateau_chunk(void* ctx, int64_t chunk) {
    const PlateauJob& j = *static_cast<const PlateauJob*>(ctx);
    const int64_t first = chunk * j.runs_per_chunk;
    const int64_t last = first + j.runs_per_chunk < j.runs ? first + j.runs_per_chunk : j.runs;
    for (int64_t r = first; r < last; ++r)
        plateau_run(j.metrics + r * j.epochs, j.epochs, j.lr[r], j.min_lr[r], *j.rule, j.out + r * j.epochs);
}
}  // namespace

void plateau(const double* metrics, int64_t runs, int64_t epochs, const double* lr, const double* min_lr,
             const PlateauRule& rule, double* out) {
    if (runs <= 0 || epochs <= 0) return;
    const int nt = get_num_threads();
    const int64_t size = runs * epochs;
    int64_t per_chunk = (runs + 8 * int64_t(nt) - 1) / (8 * int64_t(nt));
    const int64_t min_runs = (kMinChunk + epochs - 1) / epochs;
    if (per_chunk < min_runs) per_chunk = min_runs;
    const int64_t n_chunks = (runs + per_chunk - 1) / per_chunk;
    PlateauJob job{metrics, runs, epochs, per_chunk, lr, min_lr, &rule, out};
    if (nt <= 1 || size < parallel_threshold || n_chunks <= 1 || !get_pool(nt - 1)->run(n_chunks, &plateau_chunk, &job)) {
        job.runs_per_chunk = runs;
        plateau_chunk(&job, 0);
    }
}

}  // namespace fastlr
