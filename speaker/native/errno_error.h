// JavaScript errors for failed system calls, carrying the errno name the way Node's own errors do.
#pragma once

#include <napi.h>

#include <string>

namespace blb {

// The symbolic name of an errno value ("EPERM", "ENODEV", ...).
std::string ErrnoName(int err);

// An Error with `code` (errno name), `errno` (negated, as Node does) and `syscall` set, and a message that reads
// "<syscall> on <subject>: <strerror> (<CODE>)<hint>". Example:
//   throw ErrnoError(env, ENOBUFS, "sendto", "eth0");  // "sendto on eth0: No buffer space available (ENOBUFS)"
Napi::Error ErrnoError(Napi::Env env, int err, const char* syscall, const std::string& subject,
                       const std::string& hint = "");

}  // namespace blb
