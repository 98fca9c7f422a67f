// The vector unit of the build target, behind one small interface: the CPU kernels are written
// once against Vec<T> and compiled for AVX-512, AVX2+FMA, NEON or plain scalar code.
#pragma once

#include <cstddef>

#if defined(__AVX512F__) || (defined(__AVX2__) && defined(__FMA__))
#include <immintrin.h>
#elif defined(__ARM_NEON) && defined(__aarch64__)
#include <arm_neon.h>
#endif

namespace edgeroof::kernels::cpu::detail {

template <class T>
struct Vec;

#if defined(__AVX512F__)
inline constexpr const char* isa_name = "avx512";
template <>
struct Vec<float> {
  using R = __m512;
  static constexpr int width = 16;
  static R load(const float* p) { return _mm512_loadu_ps(p); }
  static void store(float* p, R v) { _mm512_storeu_ps(p, v); }
  static R set1(float x) { return _mm512_set1_ps(x); }
  static R fma(R a, R b, R c) { return _mm512_fmadd_ps(a, b, c); }
  static R mul(R a, R b) { return _mm512_mul_ps(a, b); }
  static R add(R a, R b) { return _mm512_add_ps(a, b); }
  // A plain store and add: GCC 12's _mm512_reduce_* trips -Wuninitialized inside its own header.
  static float sum(R v) {
    alignas(64) float t[16];
    _mm512_store_ps(t, v);
    float s = 0.0f;
    for (float x : t) s += x;
    return s;
  }
};
template <>
struct Vec<double> {
  using R = __m512d;
  static constexpr int width = 8;
  static R load(const double* p) { return _mm512_loadu_pd(p); }
  static void store(double* p, R v) { _mm512_storeu_pd(p, v); }
  static R set1(double x) { return _mm512_set1_pd(x); }
  static R fma(R a, R b, R c) { return _mm512_fmadd_pd(a, b, c); }
  static R mul(R a, R b) { return _mm512_mul_pd(a, b); }
  static R add(R a, R b) { return _mm512_add_pd(a, b); }
  static double sum(R v) {
    alignas(64) double t[8];
    _mm512_store_pd(t, v);
    double s = 0.0;
    for (double x : t) s += x;
    return s;
  }
};
inline constexpr int fma_chains = 16;  // 32 architectural registers

#elif defined(__AVX2__) && defined(__FMA__)
inline constexpr const char* isa_name = "avx2";
template <>
struct Vec<float> {
  using R = __m256;
  static constexpr int width = 8;
  static R load(const float* p) { return _mm256_loadu_ps(p); }
  static void store(float* p, R v) { _mm256_storeu_ps(p, v); }
  static R set1(float x) { return _mm256_set1_ps(x); }
  static R fma(R a, R b, R c) { return _mm256_fmadd_ps(a, b, c); }
  static R mul(R a, R b) { return _mm256_mul_ps(a, b); }
  static R add(R a, R b) { return _mm256_add_ps(a, b); }
  static float sum(R v) {
    alignas(32) float t[8];
    _mm256_store_ps(t, v);
    return ((t[0] + t[1]) + (t[2] + t[3])) + ((t[4] + t[5]) + (t[6] + t[7]));
  }
};
template <>
struct Vec<double> {
  using R = __m256d;
  static constexpr int width = 4;
  static R load(const double* p) { return _mm256_loadu_pd(p); }
  static void store(double* p, R v) { _mm256_storeu_pd(p, v); }
  static R set1(double x) { return _mm256_set1_pd(x); }
  static R fma(R a, R b, R c) { return _mm256_fmadd_pd(a, b, c); }
  static R mul(R a, R b) { return _mm256_mul_pd(a, b); }
  static R add(R a, R b) { return _mm256_add_pd(a, b); }
  static double sum(R v) {
    alignas(32) double t[4];
    _mm256_store_pd(t, v);
    return (t[0] + t[1]) + (t[2] + t[3]);
  }
};
inline constexpr int fma_chains = 12;  // 16 architectural registers, two hold a and b

#elif defined(__ARM_NEON) && defined(__aarch64__)
inline constexpr const char* isa_name = "neon";
template <>
struct Vec<float> {
  using R = float32x4_t;
  static constexpr int width = 4;
  static R load(const float* p) { return vld1q_f32(p); }
  static void store(float* p, R v) { vst1q_f32(p, v); }
  static R set1(float x) { return vdupq_n_f32(x); }
  static R fma(R a, R b, R c) { return vfmaq_f32(c, a, b); }
  static R mul(R a, R b) { return vmulq_f32(a, b); }
  static R add(R a, R b) { return vaddq_f32(a, b); }
  static float sum(R v) { return vaddvq_f32(v); }
};
template <>
struct Vec<double> {
  using R = float64x2_t;
  static constexpr int width = 2;
  static R load(const double* p) { return vld1q_f64(p); }
  static void store(double* p, R v) { vst1q_f64(p, v); }
  static R set1(double x) { return vdupq_n_f64(x); }
  static R fma(R a, R b, R c) { return vfmaq_f64(c, a, b); }
  static R mul(R a, R b) { return vmulq_f64(a, b); }
  static R add(R a, R b) { return vaddq_f64(a, b); }
  static double sum(R v) { return vaddvq_f64(v); }
};
inline constexpr int fma_chains = 16;  // 32 architectural registers

#else
inline constexpr const char* isa_name = "scalar";
template <class T>
struct Vec {
  using R = T;
  static constexpr int width = 1;
  static R load(const T* p) { return *p; }
  static void store(T* p, R v) { *p = v; }
  static R set1(T x) { return x; }
  static R fma(R a, R b, R c) { return a * b + c; }
  static R mul(R a, R b) { return a * b; }
  static R add(R a, R b) { return a + b; }
  static T sum(R v) { return v; }
};
inline constexpr int fma_chains = 8;
#endif

// Elements one block of independent chains covers; chunks are multiples of it.
template <class T>
inline constexpr std::size_t block_elements = std::size_t(fma_chains) * Vec<T>::width;

// Keeps the compiler from merging or dropping passes that store the same values again.
inline void compiler_barrier() { asm volatile("" ::: "memory"); }

}  // namespace edgeroof::kernels::cpu::detail
