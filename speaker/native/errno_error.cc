#include "errno_error.h"

#include <uv.h>

#include <cstring>

namespace blb {

std::string ErrnoName(int err) {
#if defined(__GLIBC__) && (__GLIBC__ > 2 || (__GLIBC__ == 2 && __GLIBC_MINOR__ >= 32))
  if (const char* name = strerrorname_np(err)) return name;
#endif
  // libuv knows the common names on every libc; for unknown values it says "Unknown system error N".
  char name[64];
  uv_err_name_r(-err, name, sizeof name);
  return name;
}

Napi::Error ErrnoError(Napi::Env env, int err, const char* syscall, const std::string& subject,
                       const std::string& hint) {
  const std::string code = ErrnoName(err);
  std::string message = syscall;
  if (!subject.empty()) message += " on " + subject;
  message += std::string(": ") + std::strerror(err) + " (" + code + ")" + hint;
  Napi::Error error = Napi::Error::New(env, message);
  error.Set("code", code);
  error.Set("errno", Napi::Number::New(env, -err));  // negative, as in Node's own system errors
  error.Set("syscall", syscall);
  return error;
}

}  // namespace blb
