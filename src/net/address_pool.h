// The fake addresses paddock's resolver inside the sandbox answers allowed names with (a private
// pool such as 198.18.0.0/15, made local on the sandbox's lo). A connection to one is mapped back
// to the name, which the supervisor then checks and resolves on the host side. Pure.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <unordered_map>

namespace paddock {

class AddressPool {
 public:
  using Addr = std::array<std::uint8_t, 4>;

  // `prefix` between 8 and 30. The network and broadcast addresses are never handed out.
  AddressPool(Addr base, int prefix);

  // The address standing for `name` (lower-case), assigning the next free one. When every
  // address is taken the oldest assignment is recycled: a flood of names cannot exhaust the pool,
  // only make very old answers stale.
  Addr address_for(const std::string& name);
  // The name an address stands for; nullopt when outside the pool or never assigned.
  [[nodiscard]] std::optional<std::string> name_for(const Addr& addr) const;
  [[nodiscard]] bool contains(const Addr& addr) const;
  [[nodiscard]] std::size_t capacity() const { return capacity_; }

 private:
  [[nodiscard]] Addr at(std::size_t index) const;

  std::uint32_t base_ = 0;
  std::uint32_t mask_ = 0;
  std::size_t capacity_ = 0;
  std::unordered_map<std::size_t, std::string> names_;  // by index (sparse: the pool is large)
  std::unordered_map<std::string, std::size_t> index_;
  std::size_t next_ = 0;
};

}  // namespace paddock
