// ReduceLROnPlateau over whole metric histories: the learning rate in force after each epoch's step,
// for many independent runs. Each run is a scan (an epoch's state depends on the one before); runs
// are independent, so the runtime splits them across threads. The comparisons and roundings are
// torch's scheduler's, operation for operation (Python floats are IEEE doubles), so the result is
// the scheduler's own: a NaN metric is never better, as there.
#pragma once

#include <cmath>
#include <cstdint>

namespace fastlr {

struct PlateauRule {
    bool maximize = false;   // mode "max" (else "min")
    bool relative = true;    // threshold_mode "rel" (else "abs")
    double factor = 0.1;
    double threshold = 1e-4;
    double eps = 1e-8;
    int64_t patience = 10;
    int64_t cooldown = 0;
};

// One run: metrics[0, epochs) -> out[0, epochs), starting from lr.
inline void plateau_run(const double* metrics, int64_t epochs, double lr, double min_lr, const PlateauRule& r,
                        double* out) {
    double best = r.maximize ? -INFINITY : INFINITY;
    const double rel = r.maximize ? r.threshold + 1.0 : 1.0 - r.threshold;
    int64_t bad = 0, cooldown = 0;
    for (int64_t e = 0; e < epochs; ++e) {
        const double a = metrics[e];
        bool better;
        if (r.relative)
            better = r.maximize ? a > best * rel : a < best * rel;
        else
            better = r.maximize ? a > best + r.threshold : a < best - r.threshold;
        if (better) {
            best = a;
            bad = 0;
        } else {
            ++bad;
        }
        if (cooldown > 0) {  // bad epochs do not count during the cooldown
            --cooldown;
            bad = 0;
        }
        if (bad > r.patience) {
            const double reduced = lr * r.factor;
            const double next = min_lr > reduced ? min_lr : reduced;  // Python's max(reduced, min_lr)
            if (lr - next > r.eps) lr = next;
            cooldown = r.cooldown;
            bad = 0;
        }
        out[e] = lr;
    }
}

// runs x epochs metrics (C order, a run's epochs contiguous), one lr and min_lr per run; out has the
// metrics' layout. Multi-threaded over runs for large inputs (runtime.cpp).
void plateau(const double* metrics, int64_t runs, int64_t epochs, const double* lr, const double* min_lr,
             const PlateauRule& rule, double* out);

}  // namespace fastlr
