// The small dense linear algebra behind the energy fit (least_squares.cpp); nnls() itself is
// public (energy.hpp).
#pragma once

#include "edgeroof/reports/energy.hpp"

#include <optional>
#include <vector>

namespace edgeroof::reports::detail {

// AᵀA.
[[nodiscard]] Matrix gram(const Matrix& a);

// The inverse of a symmetric positive definite matrix with a unit-ish diagonal (Cholesky);
// nullopt when a pivot vanishes (the design is singular to working precision).
[[nodiscard]] std::optional<Matrix> spd_inverse(const Matrix& m);

// M v.
[[nodiscard]] std::vector<double> times(const Matrix& m, const std::vector<double>& v);

// The condition number of A (largest over smallest singular value; 1/ε when a column is a
// combination of the others) and the right singular vector of the smallest: the combination of
// unknowns the data cannot see.
struct Conditioning {
  double condition = 1.0;
  std::vector<double> weakest;
};

// One-sided Jacobi (Hestenes): accurate for the small singular values that the normal equations
// would square away.
[[nodiscard]] Conditioning conditioning(const Matrix& a);

}  // namespace edgeroof::reports::detail
