#include "policy/trust.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "util/error.h"
#include "util/unique_fd.h"

namespace paddock {

bool TrustStore::trusted(const std::string& path, const std::string& sha256) const {
  std::ifstream in(file_);
  std::string line;
  while (std::getline(in, line)) {
    // "<sha256> <path>"
    auto sp = line.find(' ');
    if (sp == std::string::npos) continue;
    if (line.compare(0, sp, sha256) == 0 && line.substr(sp + 1) == path) return true;
  }
  return false;
}

void TrustStore::trust(const std::string& path, const std::string& sha256) const {
  if (trusted(path, sha256)) return;
  std::error_code ec;
  std::filesystem::path dir = std::filesystem::path(file_).parent_path();
  std::filesystem::create_directories(dir, ec);
  if (ec) throw Error("cannot create " + dir.string() + ": " + ec.message());
  ::chmod(dir.c_str(), 0700);
  UniqueFd fd(::open(file_.c_str(), O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600));
  if (!fd) throw_errno("cannot open the trust store " + file_);
  std::string line = sha256 + " " + path + "\n";
  if (::write(fd.get(), line.data(), line.size()) != static_cast<ssize_t>(line.size())) {
    throw_errno("cannot write the trust store " + file_);
  }
}

}  // namespace paddock
