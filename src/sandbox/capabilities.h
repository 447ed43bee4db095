// Drops every capability for good: bounding and ambient sets cleared, securebits locked so
// that uid 0 (paddock run as root) regains nothing on exec, all sets emptied, no_new_privs.
#pragma once

namespace paddock {

void drop_capabilities();

}  // namespace paddock
