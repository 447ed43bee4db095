#include "net/address_pool.h"

#include "util/error.h"

namespace paddock {
namespace {

std::uint32_t to_u32(const AddressPool::Addr& a) {
  return (std::uint32_t{a[0]} << 24) | (std::uint32_t{a[1]} << 16) | (std::uint32_t{a[2]} << 8) | a[3];
}

}  // namespace

AddressPool::AddressPool(Addr base, int prefix) {
  if (prefix < 8 || prefix > 30) throw Error("address pool: prefix must be between 8 and 30");
  mask_ = ~std::uint32_t{0} << (32 - prefix);
  base_ = to_u32(base) & mask_;
  capacity_ = (std::size_t{1} << (32 - prefix)) - 2;
}

AddressPool::Addr AddressPool::at(std::size_t index) const {
  std::uint32_t v = base_ + 1 + static_cast<std::uint32_t>(index);
  return {static_cast<std::uint8_t>(v >> 24), static_cast<std::uint8_t>(v >> 16), static_cast<std::uint8_t>(v >> 8),
          static_cast<std::uint8_t>(v)};
}

AddressPool::Addr AddressPool::address_for(const std::string& name) {
  if (auto it = index_.find(name); it != index_.end()) return at(it->second);
  std::size_t i = next_;
  next_ = (next_ + 1) % capacity_;
  if (auto old = names_.find(i); old != names_.end()) index_.erase(old->second);
  names_[i] = name;
  index_[name] = i;
  return at(i);
}

bool AddressPool::contains(const Addr& addr) const {
  return (to_u32(addr) & mask_) == base_;
}

std::optional<std::string> AddressPool::name_for(const Addr& addr) const {
  if (!contains(addr)) return std::nullopt;
  std::uint32_t off = to_u32(addr) - base_;
  auto it = names_.find(off - 1);
  if (off == 0 || it == names_.end()) return std::nullopt;
  return it->second;
}

}  // namespace paddock
