#include "policy/file_trust.h"

#include <sys/stat.h>
#include <unistd.h>

#include <cstdio>

#include "util/error.h"

namespace paddock {

void check_trusted_file(const std::string& path, const std::string& what) {
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) throw_errno(path + ": cannot read " + what);
  check_trusted_stat(st, path, what);
}

void check_trusted_stat(const struct stat& st, const std::string& path, const std::string& what) {
  if (!S_ISREG(st.st_mode)) throw Error(path + ": " + what + " is not a regular file");
  if (st.st_uid != geteuid() && st.st_uid != 0) {
    throw Error(path + ": refusing " + what + " owned by uid " + std::to_string(st.st_uid) +
                " (it must belong to you or to root)");
  }
  if ((st.st_mode & (S_IWGRP | S_IWOTH)) != 0) {
    char mode[8];
    std::snprintf(mode, sizeof mode, "%04o", static_cast<unsigned>(st.st_mode & 07777));
    throw Error(path + ": refusing " + what + " writable by " + ((st.st_mode & S_IWOTH) != 0 ? "others" : "group") +
                " (mode " + mode + "; run chmod go-w)");
  }
}

}  // namespace paddock
