// A self-contained SHA-256 (FIPS 180-4), used to hash-chain audit log lines. No OpenSSL: the
// launcher stays small and the audit code has no optional dependency.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace paddock {

class Sha256 {
 public:
  using Digest = std::array<std::uint8_t, 32>;

  Sha256() { reset(); }

  void update(const void* data, std::size_t len);
  void update(std::string_view data) { update(data.data(), data.size()); }

  // Finishes the hash and returns the digest; the object is then reset and can be reused.
  [[nodiscard]] Digest final();

  void reset();

  // Lower-case hexadecimal, 64 characters.
  [[nodiscard]] static std::string hex(const Digest& digest);

 private:
  void block(const std::uint8_t* p);

  std::array<std::uint32_t, 8> h_{};
  std::array<std::uint8_t, 64> buf_{};
  std::size_t buf_len_ = 0;
  std::uint64_t total_ = 0;  // bytes hashed so far
};

// SHA-256 of `data` as 64 lower-case hex digits.
std::string sha256_hex(std::string_view data);

}  // namespace paddock
