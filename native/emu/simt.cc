// The SIMT emulator's scheduler: fibers for the threads of a block, block and warp barriers,
// warp exchanges, deadlock and divergence detection. See simt.h for the model and its limits.
#include "simt.h"

#include <sys/mman.h>
#include <unistd.h>

#include <cstdlib>
#include <exception>
#include <sstream>
#include <vector>

#if !defined(__x86_64__)
#include <ucontext.h>
#endif

__thread uint3 threadIdx;
__thread uint3 blockIdx;
__thread dim3 blockDim;
__thread dim3 gridDim;

// The declarations in simt.h say thread_local; __thread is the same storage without the C++
// dynamic-initialisation wrapper (these are plain structs), which keeps every access a TLS load.
static_assert(std::is_trivially_destructible<uint3>::value, "uint3 must be trivial");

#if defined(__x86_64__)
// pb_emu_switch(save, load): pushes the callee-saved registers and the SSE/x87 control words on
// the current stack, stores the stack pointer in *save, switches to `load` and pops the same
// frame from there. A fresh fiber's stack holds a hand-made frame whose return address is
// pb_emu_trampoline, which calls r13(r12) = fiber_entry(fiber).
extern "C" void pb_emu_switch(void** save, void* load);
extern "C" void pb_emu_trampoline();
asm(R"(
  .text
  .p2align 4
  .globl pb_emu_switch
  .hidden pb_emu_switch
  .type pb_emu_switch,@function
pb_emu_switch:
  pushq %rbp
  pushq %rbx
  pushq %r12
  pushq %r13
  pushq %r14
  pushq %r15
  subq $8, %rsp
  stmxcsr (%rsp)
  fnstcw 4(%rsp)
  movq %rsp, (%rdi)
  movq %rsi, %rsp
  ldmxcsr (%rsp)
  fldcw 4(%rsp)
  addq $8, %rsp
  popq %r15
  popq %r14
  popq %r13
  popq %r12
  popq %rbx
  popq %rbp
  ret
  .size pb_emu_switch,.-pb_emu_switch

  .p2align 4
  .globl pb_emu_trampoline
  .hidden pb_emu_trampoline
  .type pb_emu_trampoline,@function
pb_emu_trampoline:
  .cfi_startproc
  .cfi_undefined rip
  movq %r12, %rdi
  callq *%r13
  ud2
  .cfi_endproc
  .size pb_emu_trampoline,.-pb_emu_trampoline
)");
#endif

namespace pb_emu {
namespace {

const char* op_name(WarpOp op) {
  switch (op) {
    case WarpOp::Sync: return "__syncwarp";
    case WarpOp::ShflIdx: return "__shfl_sync";
    case WarpOp::ShflUp: return "__shfl_up_sync";
    case WarpOp::ShflDown: return "__shfl_down_sync";
    case WarpOp::ShflXor: return "__shfl_xor_sync";
    case WarpOp::Ballot: return "__ballot_sync";
    case WarpOp::Any: return "__any_sync";
    case WarpOp::All: return "__all_sync";
  }
  return "?";
}

const char* base_name(const char* path) {
  const char* b = path;
  for (const char* p = path; *p; ++p) if (*p == '/' || *p == '\\') b = p + 1;
  return b;
}

enum class State : uint8_t { Ready, BlockWait, WarpWait, Done, Failed };

struct Fiber {
#if defined(__x86_64__)
  void* sp = nullptr;
#else
  ucontext_t uc;
#endif
  char* stack = nullptr;  // lowest usable byte (above the guard page)
  size_t stack_size = 0;
  uint3 tid{0, 0, 0};
  unsigned linear = 0;
  State state = State::Ready;
  // where it waits
  const char* file = nullptr;
  int line = 0;
  // warp exchange / barrier operands and result
  WarpOp op = WarpOp::Sync;
  unsigned mask = 0;
  uint64_t value = 0;
  int param = 0;
  int width = 32;
  uint64_t result = 0;
  std::exception_ptr error;
};

struct Scheduler {
  std::vector<Fiber> fibers;
  char* region = nullptr;
  size_t region_bytes = 0;
#if defined(__x86_64__)
  void* host_sp = nullptr;
#else
  ucontext_t host_uc;
#endif
  Fiber* current = nullptr;
  ThreadBody body = nullptr;
  void* ctx = nullptr;
  std::vector<unsigned char> dyn_smem;
  const char* kernel = "";
  bool in_launch = false;
  unsigned nthreads = 0;
  unsigned block_waiting = 0;

  ~Scheduler() { if (region) munmap(region, region_bytes); }
};

thread_local Scheduler* tls_sched = nullptr;

Scheduler& sched() {
  if (!tls_sched) tls_sched = new Scheduler();  // one per host thread; lives as long as it
  return *tls_sched;
}

size_t stack_bytes() {
  static size_t bytes = [] {
    size_t kb = 64;
    if (const char* e = std::getenv("PIXELBYTES_EMU_STACK_KB")) { long v = std::atol(e); if (v >= 16) kb = (size_t)v; }
    return kb * 1024;
  }();
  return bytes;
}

void fiber_entry(void* p);

#if !defined(__x86_64__)
void fiber_entry_uc(unsigned hi, unsigned lo) {
  fiber_entry(reinterpret_cast<void*>((static_cast<uintptr_t>(hi) << 32) | lo));
}
#endif

/** Lays a fresh start frame on the fiber's stack: the next switch into it starts the body. */
void init_fiber(Scheduler& S, Fiber& f) {
#if defined(__x86_64__)
  uintptr_t top = (reinterpret_cast<uintptr_t>(f.stack) + f.stack_size) & ~static_cast<uintptr_t>(15);
  uint64_t* frame = reinterpret_cast<uint64_t*>(top - 64);
  uint32_t mxcsr;
  uint16_t fpcw;
  asm volatile("stmxcsr %0" : "=m"(mxcsr));
  asm volatile("fnstcw %0" : "=m"(fpcw));
  frame[0] = static_cast<uint64_t>(mxcsr) | (static_cast<uint64_t>(fpcw) << 32);
  frame[1] = 0;                                                  // r15
  frame[2] = 0;                                                  // r14
  frame[3] = reinterpret_cast<uint64_t>(&fiber_entry);           // r13: what the trampoline calls
  frame[4] = reinterpret_cast<uint64_t>(&f);                     // r12: its argument
  frame[5] = 0;                                                  // rbx
  frame[6] = 0;                                                  // rbp
  frame[7] = reinterpret_cast<uint64_t>(&pb_emu_trampoline);     // return address
  f.sp = frame;
  (void)S;
#else
  getcontext(&f.uc);
  f.uc.uc_stack.ss_sp = f.stack;
  f.uc.uc_stack.ss_size = f.stack_size;
  f.uc.uc_link = nullptr;
  uintptr_t p = reinterpret_cast<uintptr_t>(&f);
  makecontext(&f.uc, reinterpret_cast<void (*)()>(&fiber_entry_uc), 2, static_cast<unsigned>(p >> 32), static_cast<unsigned>(p & 0xffffffffu));
  (void)S;
#endif
}

void switch_to_fiber(Scheduler& S, Fiber& f) {
#if defined(__x86_64__)
  pb_emu_switch(&S.host_sp, f.sp);
#else
  swapcontext(&S.host_uc, &f.uc);
#endif
}

void switch_to_host(Scheduler& S, Fiber& f) {
#if defined(__x86_64__)
  pb_emu_switch(&f.sp, S.host_sp);
#else
  swapcontext(&f.uc, &S.host_uc);
#endif
}

void fiber_entry(void* p) {
  Fiber* f = static_cast<Fiber*>(p);
  Scheduler& S = *tls_sched;
  try {
    S.body(S.ctx);
    f->state = State::Done;
  } catch (...) {
    f->error = std::current_exception();
    f->state = State::Failed;
  }
  switch_to_host(S, *f);
  std::abort();  // a finished fiber is never resumed: the next block lays a fresh frame
}

void ensure_fibers(Scheduler& S, unsigned n) {
  if (S.fibers.size() >= n) return;
  unsigned want = n < 32 ? 32 : ((n + 31) / 32) * 32;
  const size_t page = static_cast<size_t>(sysconf(_SC_PAGESIZE));
  const size_t stack = ((stack_bytes() + page - 1) / page) * page;
  const size_t slot = stack + page;  // guard page below each stack
  if (S.region) munmap(S.region, S.region_bytes);
  S.region = nullptr;
  S.fibers.clear();
  size_t bytes = slot * want;
  void* mem = mmap(nullptr, bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
  if (mem == MAP_FAILED) throw Error("cudaErrorMemoryAllocation", "cuda-emu: cannot map fiber stacks for " + std::to_string(want) + " threads");
  S.region = static_cast<char*>(mem);
  S.region_bytes = bytes;
  S.fibers.resize(want);
  for (unsigned i = 0; i < want; i++) {
    char* base = S.region + slot * i;
    mprotect(base, page, PROT_NONE);
    S.fibers[i].stack = base + page;
    S.fibers[i].stack_size = stack;
  }
}

std::string tid_str(const uint3& t) {
  std::ostringstream os;
  os << "(" << t.x << "," << t.y << "," << t.z << ")";
  return os.str();
}

std::string site(const Fiber& f) {
  return std::string(base_name(f.file ? f.file : "?")) + ":" + std::to_string(f.line);
}

/** "threads (0,0,0)-(31,0,0) wait at __syncthreads() (k.cu:12); thread (40,0,0) has returned; …" */
std::string describe(Scheduler& S) {
  std::ostringstream os;
  const unsigned n = S.nthreads;
  unsigned i = 0;
  int groups = 0;
  while (i < n && groups < 6) {
    const Fiber& f = S.fibers[i];
    unsigned j = i + 1;
    while (j < n) {
      const Fiber& g = S.fibers[j];
      if (g.state != f.state || g.file != f.file || g.line != f.line || (f.state == State::WarpWait && g.op != f.op)) break;
      j++;
    }
    const bool one = j - i == 1;
    std::string what;
    switch (f.state) {
      case State::Done: what = one ? "has returned" : "have returned"; break;
      case State::BlockWait: what = std::string(one ? "waits" : "wait") + " at __syncthreads() (" + site(f) + ")"; break;
      case State::WarpWait: what = std::string(one ? "waits" : "wait") + " at " + op_name(f.op) + " (" + site(f) + ")"; break;
      default: what = one ? "is runnable" : "are runnable"; break;
    }
    if (groups) os << "; ";
    if (one) os << "thread " << tid_str(f.tid) << " " << what;
    else os << "threads " << tid_str(f.tid) << "-" << tid_str(S.fibers[j - 1].tid) << " " << what;
    groups++;
    i = j;
  }
  if (i < n) os << "; …";
  return os.str();
}

[[noreturn]] void fail(Scheduler& S, const std::string& code, const std::string& msg) {
  std::ostringstream os;
  os << "cuda-emu: " << msg << " in block " << tid_str(blockIdx) << " of grid (" << gridDim.x << "," << gridDim.y << "," << gridDim.z
     << "), block (" << blockDim.x << "," << blockDim.y << "," << blockDim.z << ")";
  (void)S;
  throw Error(code, os.str());
}

/** Tries to complete the warp exchanges of one warp; returns true if any lane was released. */
bool resolve_warp(Scheduler& S, unsigned w) {
  const unsigned base = w * 32;
  const unsigned count = std::min(32u, S.nthreads - base);
  const unsigned exist = count == 32 ? 0xffffffffu : ((1u << count) - 1);
  bool released = false;
  for (unsigned l = 0; l < count; l++) {
    Fiber& lead = S.fibers[base + l];
    if (lead.state != State::WarpWait) continue;
    const unsigned need = lead.mask & exist;
    if ((lead.mask >> l & 1u) == 0) fail(S, "emuWarpError", std::string(op_name(lead.op)) + " called by lane " + std::to_string(l) + " with a mask that excludes it (" + site(lead) + ")");
    bool ready = true;
    for (unsigned k = 0; k < count; k++) {
      if (!(need >> k & 1u)) continue;
      Fiber& f = S.fibers[base + k];
      if (f.state == State::Done) {
        fail(S, "emuWarpError", "thread " + tid_str(f.tid) + " returned while lane " + std::to_string(l) + " waits for it at " + op_name(lead.op) + " (" + site(lead) + ")");
      }
      if (f.state != State::WarpWait) { ready = false; break; }
      if (f.mask != lead.mask) {
        fail(S, "emuWarpError", "lanes of warp " + std::to_string(w) + " disagree on the mask of a warp operation (" + site(lead) + " vs " + site(f) + ")");
      }
      if (f.op != lead.op) {
        fail(S, "emuWarpError", "lanes of warp " + std::to_string(w) + " are in different warp operations: " + op_name(lead.op) + " (" + site(lead) + ") and " + op_name(f.op) + " (" + site(f) + ")");
      }
    }
    if (!ready) continue;
    // every participant has arrived: compute each lane's result
    uint64_t vote = 0;
    for (unsigned k = 0; k < count; k++) if ((need >> k & 1u) && S.fibers[base + k].value) vote |= 1ull << k;
    for (unsigned k = 0; k < count; k++) {
      if (!(need >> k & 1u)) continue;
      Fiber& f = S.fibers[base + k];
      const int wd = f.width;
      if (f.op >= WarpOp::ShflIdx && f.op <= WarpOp::ShflXor && (wd < 1 || wd > 32 || (wd & (wd - 1)))) {
        fail(S, "emuWarpError", std::string(op_name(f.op)) + " with width " + std::to_string(wd) + " (must be a power of two ≤ 32) at " + site(f));
      }
      int src = (int)k;
      const int seg = (int)k / (wd > 0 ? wd : 1) * wd, inseg = (int)k - seg;
      switch (f.op) {
        case WarpOp::Sync: f.result = 0; break;
        case WarpOp::Ballot: f.result = vote; break;
        case WarpOp::Any: f.result = vote != 0; break;
        case WarpOp::All: f.result = vote == need; break;
        case WarpOp::ShflIdx: src = seg + (((f.param % wd) + wd) % wd); break;
        case WarpOp::ShflUp: src = inseg >= f.param ? (int)k - f.param : (int)k; break;
        case WarpOp::ShflDown: src = inseg + f.param < wd ? (int)k + f.param : (int)k; break;
        case WarpOp::ShflXor: { int s = (int)k ^ f.param; src = (s >= seg && s < seg + wd) ? s : (int)k; break; }
      }
      if (f.op >= WarpOp::ShflIdx && f.op <= WarpOp::ShflXor) {
        if (src < 0 || src >= (int)count || !(need >> src & 1u)) {
          fail(S, "emuWarpError", std::string(op_name(f.op)) + ": lane " + std::to_string(k) + " of warp " + std::to_string(w) + " reads lane " + std::to_string(src) +
                                      ", which does not take part (mask 0x" + [&] { std::ostringstream h; h << std::hex << f.mask; return h.str(); }() + ", " + std::to_string(count) + " lanes in this warp) at " + site(f));
        }
        f.result = S.fibers[base + src].value;
      }
    }
    for (unsigned k = 0; k < count; k++) if (need >> k & 1u) S.fibers[base + k].state = State::Ready;
    released = true;
  }
  return released;
}

void run_block(Scheduler& S) {
  const unsigned n = S.nthreads;
  const unsigned bx = blockDim.x, by = blockDim.y;
  for (unsigned i = 0; i < n; i++) {
    Fiber& f = S.fibers[i];
    f.linear = i;
    f.tid = uint3{i % bx, (i / bx) % by, i / (bx * by)};
    f.state = State::Ready;
    f.file = nullptr;
    f.line = 0;
    f.error = nullptr;
    init_fiber(S, f);
  }
  if (!S.dyn_smem.empty()) std::memset(S.dyn_smem.data(), 0xFF, S.dyn_smem.size());
  S.block_waiting = 0;
  unsigned done = 0;
  const Fiber* first_done = nullptr;
  for (;;) {
    for (unsigned i = 0; i < n; i++) {
      Fiber& f = S.fibers[i];
      if (f.state != State::Ready) continue;
      S.current = &f;
      threadIdx = f.tid;
      switch_to_fiber(S, f);
      S.current = nullptr;
      if (f.state == State::Failed) std::rethrow_exception(f.error);
      if (f.state == State::Done) {
        done++;
        if (!first_done) first_done = &f;
      }
    }
    if (done == n) return;
    bool progress = false;
    if (S.block_waiting > 0) {
      if (done > 0) {
        fail(S, "emuBarrierError", "thread " + tid_str(first_done->tid) + " returned while other threads wait at __syncthreads() — a barrier that not every thread of the block reaches (" + describe(S) + ")");
      }
      if (S.block_waiting == n) {
        const Fiber& f0 = S.fibers[0];
        uint64_t count = 0;
        for (unsigned i = 0; i < n; i++) {
          const Fiber& f = S.fibers[i];
          if (f.file != f0.file || f.line != f0.line) {
            fail(S, "emuBarrierError", "divergent __syncthreads(): thread " + tid_str(f0.tid) + " waits at " + site(f0) + ", thread " + tid_str(f.tid) + " at " + site(f));
          }
          count += f.value;
        }
        for (unsigned i = 0; i < n; i++) { S.fibers[i].state = State::Ready; S.fibers[i].result = count; }
        S.block_waiting = 0;
        progress = true;
      }
    }
    for (unsigned w = 0; w * 32 < n; w++) progress = resolve_warp(S, w) || progress;
    if (!progress) fail(S, "emuDeadlock", "deadlock: " + describe(S));
  }
}

struct LaunchGuard {
  Scheduler& S;
  explicit LaunchGuard(Scheduler& s) : S(s) { S.in_launch = true; }
  ~LaunchGuard() { S.in_launch = false; S.current = nullptr; S.body = nullptr; S.ctx = nullptr; }
};

}  // namespace

void syncthreads(const char* file, int line) { syncthreads_count(0, file, line); }

int syncthreads_count(int pred, const char* file, int line) {
  Scheduler& S = sched();
  Fiber* f = S.current;
  if (!f) throw Error("emuUsageError", "cuda-emu: __syncthreads() called outside a kernel");
  f->state = State::BlockWait;
  f->file = file;
  f->line = line;
  f->value = pred ? 1 : 0;
  S.block_waiting++;
  switch_to_host(S, *f);
  return static_cast<int>(f->result);
}

uint64_t warp_exchange(WarpOp op, unsigned mask, uint64_t value, int param, int width, const char* file, int line) {
  Scheduler& S = sched();
  Fiber* f = S.current;
  if (!f) throw Error("emuUsageError", std::string("cuda-emu: ") + op_name(op) + " called outside a kernel");
  f->state = State::WarpWait;
  f->op = op;
  f->mask = mask;
  f->value = value;
  f->param = param;
  f->width = width;
  f->file = file;
  f->line = line;
  switch_to_host(S, *f);
  return f->result;
}

unsigned lane_id() {
  Scheduler& S = sched();
  return S.current ? S.current->linear % 32 : 0;
}

unsigned active_mask() {
  Scheduler& S = sched();
  if (!S.current) return 0;
  unsigned base = S.current->linear / 32 * 32, m = 0;
  for (unsigned k = 0; k < 32 && base + k < S.nthreads; k++) if (S.fibers[base + k].state != State::Done) m |= 1u << k;
  return m;
}

void* dynamic_shared() {
  Scheduler& S = sched();
  static thread_local unsigned char dummy[16];
  return S.dyn_smem.empty() ? static_cast<void*>(dummy) : static_cast<void*>(S.dyn_smem.data());
}

void run_grid(const char* kernel, dim3 grid, dim3 block, size_t dynamic_smem, ThreadBody body, void* ctx) {
  Scheduler& S = sched();
  auto bad = [&](const std::string& code, const std::string& why) {
    std::ostringstream os;
    os << "cuda-emu: launch of " << kernel << " with grid (" << grid.x << "," << grid.y << "," << grid.z << "), block (" << block.x << "," << block.y << "," << block.z
       << "), " << dynamic_smem << " B dynamic shared memory: " << why;
    throw Error(code, os.str());
  };
  if (S.in_launch) bad("emuUsageError", "a kernel launched from inside a kernel (dynamic parallelism is not emulated)");
  const uint64_t nthreads = static_cast<uint64_t>(block.x) * block.y * block.z;
  if (grid.x == 0 || grid.y == 0 || grid.z == 0 || nthreads == 0) bad("cudaErrorInvalidConfiguration", "invalid configuration argument (an empty grid or block)");
  if (block.x > 1024 || block.y > 1024 || block.z > 64 || nthreads > 1024) bad("cudaErrorInvalidConfiguration", "invalid configuration argument (more than 1024 threads per block, or block.z > 64)");
  if (grid.y > 65535 || grid.z > 65535 || grid.x > 0x7fffffffu) bad("cudaErrorInvalidConfiguration", "invalid configuration argument (grid too large)");
  if (dynamic_smem > 48 * 1024) bad("cudaErrorInvalidValue", "invalid argument (more than 48 KiB of dynamic shared memory)");
  LaunchGuard guard(S);
  ensure_fibers(S, static_cast<unsigned>(nthreads));
  S.kernel = kernel;
  S.body = body;
  S.ctx = ctx;
  S.nthreads = static_cast<unsigned>(nthreads);
  S.dyn_smem.assign(dynamic_smem, 0xFF);
  gridDim = grid;
  blockDim = block;
  for (unsigned z = 0; z < grid.z; z++)
    for (unsigned y = 0; y < grid.y; y++)
      for (unsigned x = 0; x < grid.x; x++) {
        blockIdx = uint3{x, y, z};
        run_block(S);
      }
}

}  // namespace pb_emu
