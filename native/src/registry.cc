#include "registry.h"

#include <algorithm>
#include <cstdio>
#include <cstdlib>

namespace pb {
namespace {
// Function-local: registrars in other translation units may run before this file's statics.
std::vector<KernelDef>& table() {
  static std::vector<KernelDef>* t = new std::vector<KernelDef>();
  return *t;
}
}  // namespace

void register_kernel(const KernelDef& def) {
  for (const KernelDef& k : table()) {
    if (std::string(k.name) == def.name) {
      std::fprintf(stderr, "pixelbytes native: kernel '%s' registered twice (%s and %s)\n", def.name, k.file, def.file);
      std::abort();
    }
  }
  table().push_back(def);
}

const KernelDef* find_kernel(const std::string& name) {
  for (const KernelDef& k : table()) if (name == k.name) return &k;
  return nullptr;
}

const std::vector<KernelDef>& all_kernels() {
  std::vector<KernelDef>& t = table();
  std::sort(t.begin(), t.end(), [](const KernelDef& a, const KernelDef& b) { return std::string(a.name) < b.name; });
  return t;
}

}  // namespace pb
