// A stand-alone self-test of the native CPU kernels, without Node: built and run by
// scripts/check-cpu-native-arm.sh for an Arm (aarch64) cross build under qemu, where no Node
// binary exists to run the vitest suite. It drives kernels through the same registry and
// KernelCall as the N-API binding and checks them against float64 loops written here:
//   matmul (every transpose, batch with a shared A, accumulate; 1 and 2 threads, bit-identical),
//   sum_axis, softmax; and the pool itself (every index visited once, exceptions propagate).
// Exit status 0 = all passed; failures print the first mismatches.
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <random>
#include <stdexcept>
#include <string>
#include <vector>

#include "../../src/registry.h"
#include "../gemm.h"
#include "../parallel.h"

namespace {

int failures = 0;

pb::DeviceBuffer view(std::vector<float>& v) {
  pb::DeviceBuffer b;
  b.ptr = v.data();
  b.numel = v.size();
  b.bytes = b.block = v.size() * 4;
  b.dtype = pb::F32;
  return b;
}

void launch(const char* name, std::vector<std::vector<float>*> outs, std::vector<std::vector<float>*> ins, std::vector<int64_t> ints) {
  const pb::KernelDef* k = pb::find_kernel(name);
  if (!k) throw std::runtime_error(std::string("no kernel ") + name);
  std::vector<pb::DeviceBuffer> views;
  views.reserve(outs.size() + ins.size());
  pb::KernelCall call;
  call.name = k->name;
  for (auto* o : outs) { views.push_back(view(*o)); call.outs.push_back(&views.back()); }
  for (auto* i : ins) { views.push_back(view(*i)); call.ins.push_back(&views.back()); }
  call.ints = ints;
  k->fn(call);
}

bool close(const std::vector<float>& got, const std::vector<double>& ref, double atol, double rtol, const std::string& what) {
  int bad = 0;
  for (size_t i = 0; i < ref.size(); i++) {
    const double d = std::fabs(got[i] - ref[i]);
    if (!(d <= atol + rtol * std::fabs(ref[i]))) {
      if (bad < 3) std::printf("  %s: [%zu] got %.8g expected %.8g\n", what.c_str(), i, got[i], ref[i]);
      bad++;
    }
  }
  if (bad) { std::printf("FAIL %s: %d of %zu mismatches\n", what.c_str(), bad, ref.size()); failures++; }
  return bad == 0;
}

std::vector<float> uniform(size_t n, std::mt19937& g) {
  std::uniform_real_distribution<float> u(-1.f, 1.f);
  std::vector<float> v(n);
  for (auto& x : v) x = u(g);
  return v;
}

void test_matmul(std::mt19937& g) {
  const int shapes[][4] = {{1, 1, 1, 1}, {1, 7, 5, 3}, {2, 33, 17, 65}, {3, 64, 64, 64}, {1, 130, 257, 97}, {2, 32, 64, 256}};
  for (const auto& s : shapes) {
    for (int tA = 0; tA < 2; tA++) for (int tB = 0; tB < 2; tB++) for (int acc = 0; acc < 2; acc++) {
      const int64_t batch = s[0], M = s[1], K = s[2], N = s[3];
      const int64_t strideA = batch > 1 && tA ? 0 : M * K;   // a shared A for some batched cases
      std::vector<float> A = uniform((batch - 1) * strideA + M * K, g), B = uniform(batch * K * N, g), C0 = uniform(batch * M * N, g);
      std::vector<double> ref(batch * M * N);
      for (int64_t b = 0; b < batch; b++)
        for (int64_t i = 0; i < M; i++)
          for (int64_t j = 0; j < N; j++) {
            double sum = 0;
            for (int64_t k = 0; k < K; k++) {
              const double a = tA ? A[b * strideA + k * M + i] : A[b * strideA + i * K + k];
              const double bb = tB ? B[b * K * N + j * K + k] : B[b * K * N + k * N + j];
              sum += a * bb;
            }
            ref[b * M * N + i * N + j] = sum + (acc ? C0[b * M * N + i * N + j] : 0.0);
          }
      std::vector<float> C1 = C0, C2 = C0;
      pb::cpu::set_num_threads(1);
      launch("matmul", {&C1}, {&A, &B}, {batch, M, K, N, tA, tB, strideA, K * N, acc});
      pb::cpu::set_num_threads(2);
      launch("matmul", {&C2}, {&A, &B}, {batch, M, K, N, tA, tB, strideA, K * N, acc});
      char what[128];
      std::snprintf(what, sizeof what, "matmul b%lld %lldx%lldx%lld tA%d tB%d acc%d", (long long)batch, (long long)M, (long long)K, (long long)N, tA, tB, acc);
      // float32 accumulation vs float64: 1e-4·√(K/256) + 1e-6 (as test/native/parity-cases.ts)
      close(C1, ref, 1e-4 * std::sqrt(std::max<double>(K, 1) / 256.0) + 1e-6, 1e-5, what);
      if (std::memcmp(C1.data(), C2.data(), C1.size() * 4) != 0) { std::printf("FAIL %s: 1 and 2 threads differ\n", what); failures++; }
    }
  }
}

void test_sum_softmax(std::mt19937& g) {
  const int64_t outer = 5, n = 37, inner = 3;
  std::vector<float> x = uniform(outer * n * inner, g), y(outer * inner);
  std::vector<double> ref(outer * inner, 0.0);
  for (int64_t o = 0; o < outer; o++) for (int64_t k = 0; k < n; k++) for (int64_t i = 0; i < inner; i++) ref[o * inner + i] += x[(o * n + k) * inner + i];
  if (pb::find_kernel("sum_axis")) {
    launch("sum_axis", {&y}, {&x}, {outer, n, inner});
    close(y, ref, 2e-6 * std::sqrt(double(n)), 1e-5, "sum_axis [5,37,3]");
  }
  const int64_t rows = 9, cols = 113;
  std::vector<float> logits = uniform(rows * cols, g), p(rows * cols);
  std::vector<double> pref(rows * cols);
  for (int64_t r = 0; r < rows; r++) {
    double m = -1e300, z = 0;
    for (int64_t j = 0; j < cols; j++) m = std::max(m, double(logits[r * cols + j]));
    for (int64_t j = 0; j < cols; j++) z += std::exp(logits[r * cols + j] - m);
    for (int64_t j = 0; j < cols; j++) pref[r * cols + j] = std::exp(logits[r * cols + j] - m) / z;
  }
  if (pb::find_kernel("softmax")) {
    launch("softmax", {&p}, {&logits}, {rows, cols});
    close(p, pref, 1e-6, 1e-5, "softmax [9,113]");
  }
}

void test_pool() {
  pb::cpu::set_num_threads(2);
  std::vector<int> seen(10007, 0);
  pb::cpu::parallel_for(10007, 100, [&](int64_t a, int64_t b) { for (int64_t i = a; i < b; i++) seen[i]++; });
  for (int v : seen) if (v != 1) { std::printf("FAIL pool: an index was visited %d times\n", v); failures++; break; }
  bool caught = false;
  try {
    pb::cpu::parallel_tasks(8, [](int64_t t) { if (t == 5) throw std::runtime_error("task 5"); });
  } catch (const std::runtime_error& e) {
    caught = std::string(e.what()) == "task 5";
  }
  if (!caught) { std::printf("FAIL pool: an exception in a task did not reach the caller\n"); failures++; }
}

}  // namespace

int main() {
  std::mt19937 g(20241125);
  std::printf("native CPU self-test: SGEMM %s, %d hardware threads\n", pb::cpu::gemm_isa(), pb::cpu::hardware_threads());
  try {
    test_pool();
    test_matmul(g);
    test_sum_softmax(g);
  } catch (const std::exception& e) {
    std::printf("FAIL: %s\n", e.what());
    return 1;
  }
  std::printf(failures ? "%d FAILED\n" : "all passed\n", failures);
  return failures ? 1 : 0;
}
