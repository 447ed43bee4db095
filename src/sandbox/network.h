// Network namespace setup from inside: bring up lo, the only interface in mode "none".
#pragma once

namespace paddock {

void bring_up_loopback();

}  // namespace paddock
