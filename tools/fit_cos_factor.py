"""Derives the polynomial of the C++ core's cosine factor (csrc/include/fastlr/math.hpp, cos_factor_t).

D(z) = (1 - cos(pi sqrt z)) / (2 z) on [0, 1/4] (so that (1 - cos(pi m)) / 2 = z D(z), z = m**2, for
m = min(q, 1 - q) in [0, 1/2]), fitted by Chebyshev interpolation in 50-digit arithmetic, then checked
in float64 arithmetic (Horner, separate roundings as in the baseline build) against a 50-digit
reference: absolute error of the cosine factor in ulp(1), and relative error where it is tiny.

    python tools/fit_cos_factor.py [degree]      (needs mpmath)
"""

import sys

import mpmath as mp
import numpy as np

mp.mp.dps = 50


def half_one_minus_cos_over_z(z):
    if z == 0:
        return mp.pi**2 / 4
    return (1 - mp.cos(mp.pi * mp.sqrt(z))) / (2 * z)


def main() -> None:
    degree = int(sys.argv[1]) if len(sys.argv) > 1 else 7
    poly, error = mp.chebyfit(half_one_minus_cos_over_z, [0, 0.25], degree + 1, error=True)
    coefficients = [float(c) for c in poly]  # highest degree first
    print(f"degree {degree}: fit error {mp.nstr(error, 3)}")
    for k, c in enumerate(reversed(coefficients)):
        print(f"  d{k} = {c!r}")
    rng = np.random.default_rng(1)
    q = np.concatenate([rng.random(20000), np.linspace(0, 1, 20001), 1 - rng.random(2000) * 1e-4,
                        rng.random(2000) * 1e-4, 0.5 + (rng.random(2000) - 0.5) * 1e-6])
    upper = q > 0.5
    z = np.where(upper, 1 - q, q) ** 2
    d = np.full_like(z, coefficients[0])
    for c in coefficients[1:]:
        d = d * z + c
    w = z * d
    factor = np.where(upper, w, 1 - w)
    exact = np.array([float((1 + mp.cos(mp.pi * mp.mpf(x))) / 2) for x in q])
    numpy_formula = 0.5 * (1 + np.cos(np.pi * q))
    print(f"max |error| in ulp(1): {np.max(np.abs(factor - exact)) / np.spacing(1.0):.3f} "
          f"(numpy's 0.5 * (1 + cos(pi q)): {np.max(np.abs(numpy_formula - exact)) / np.spacing(1.0):.3f})")
    tiny = exact > 0
    print(f"max relative error: {np.max(np.abs(factor - exact)[tiny] / exact[tiny]):.2e} "
          f"(numpy's: {np.max(np.abs(numpy_formula - exact)[tiny] / exact[tiny]):.2e})")
    print(f"q = 0 -> {factor[q == 0][0]!r}, q = 1 -> {factor[q == 1][0]!r}")


if __name__ == "__main__":
    main()
