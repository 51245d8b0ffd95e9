// Constant: lr.
#pragma once

#include "../math.hpp"

namespace fastlr {
namespace FASTLR_ARCH_NS {

struct ConstantF {
    static constexpr int kOps = 1;
    static constexpr int kLogOp = -1;
    struct P { double lr; };
    static FASTLR_INLINE P load(const double* v) { return {v[0]}; }
    static constexpr bool kVec = true;  // has the vector form evalv (a vector store, also for float32)
    static FASTLR_INLINE double eval(double, const P& p) { return p.lr; }
    static FASTLR_INLINE vd evalv(vd, const P& p) { return splat(p.lr); }
};

}  // namespace FASTLR_ARCH_NS
}  // namespace fastlr
