// Runtime: the few symbols a freestanding g++ build still calls (mem* functions, C++ ABI hooks).
#include <cstddef>
#include <cstdint>

// GCC may emit calls to these for copies and zeroing even in freestanding code. They are written with
// string instructions so the compiler cannot turn their loops back into calls to themselves.
extern "C" {

void* memcpy(void* dest, const void* src, size_t n) {
  void* d = dest;
  asm volatile("rep movsb" : "+D"(d), "+S"(src), "+c"(n)::"memory");
  return dest;
}

void* memset(void* dest, int value, size_t n) {
  void* d = dest;
  asm volatile("rep stosb" : "+D"(d), "+c"(n) : "a"(value) : "memory");
  return dest;
}

void* memmove(void* dest, const void* src, size_t n) {
  auto* d = static_cast<unsigned char*>(dest);
  const auto* s = static_cast<const unsigned char*>(src);
  if (d <= s || d >= s + n) return memcpy(dest, src, n);
  // Overlapping with dest above src: copy backwards.
  const void* s_end = s + n - 1;
  void* d_end = d + n - 1;
  asm volatile("std; rep movsb; cld" : "+D"(d_end), "+S"(s_end), "+c"(n)::"memory");
  return dest;
}

int memcmp(const void* a, const void* b, size_t n) {
  if (n == 0) return 0;
  const auto* x = static_cast<const unsigned char*>(a);
  const auto* y = static_cast<const unsigned char*>(b);
  // repe cmpsb stops after the first differing byte or after n equal ones; either way the last bytes
  // it compared sit just before the pointers it leaves behind.
  asm volatile("repe cmpsb" : "+S"(x), "+D"(y), "+c"(n)::"memory", "cc");
  if (x[-1] == y[-1]) return 0;
  return x[-1] < y[-1] ? -1 : 1;
}

// Global destructors never run: a kernel ends by exit(), not by returning.
void* __dso_handle = nullptr;
int __cxa_atexit(void (*)(void*), void*, void*) { return 0; }

[[noreturn]] void __cxa_pure_virtual() {
  asm volatile("ud2");
  __builtin_unreachable();
}

}  // extern "C"
