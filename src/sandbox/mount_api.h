// Thin wrappers for the fd-based mount API (open_tree, move_mount, mount_setattr, fsopen,
// fsconfig, fsmount). glibc 2.36 has no wrappers, and the fd-based API lets paddock mount
// onto targets it opened without following symlinks.
#pragma once

#include <linux/mount.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cstdint>

namespace paddock::sys {

#ifndef MOUNT_ATTR_SIZE_VER0
struct mount_attr {
  std::uint64_t attr_set, attr_clr, propagation, userns_fd;
};
#endif

inline int open_tree(int dfd, const char* path, unsigned flags) {
  return static_cast<int>(::syscall(SYS_open_tree, dfd, path, flags));
}
inline int move_mount(int from_dfd, const char* from, int to_dfd, const char* to, unsigned flags) {
  return static_cast<int>(::syscall(SYS_move_mount, from_dfd, from, to_dfd, to, flags));
}
inline int mount_setattr(int dfd, const char* path, unsigned flags, std::uint64_t set, std::uint64_t clr = 0) {
  struct mount_attr attr {};
  attr.attr_set = set;
  attr.attr_clr = clr;
  return static_cast<int>(::syscall(SYS_mount_setattr, dfd, path, flags, &attr, sizeof attr));
}
inline int fsopen(const char* fs, unsigned flags) {
  return static_cast<int>(::syscall(SYS_fsopen, fs, flags));
}
inline int fsconfig(int fd, unsigned cmd, const char* key, const void* value, int aux) {
  return static_cast<int>(::syscall(SYS_fsconfig, fd, cmd, key, value, aux));
}
inline int fsmount(int fd, unsigned flags, unsigned attrs) {
  return static_cast<int>(::syscall(SYS_fsmount, fd, flags, attrs));
}
inline int pivot_root(const char* new_root, const char* put_old) {
  return static_cast<int>(::syscall(SYS_pivot_root, new_root, put_old));
}

}  // namespace paddock::sys
