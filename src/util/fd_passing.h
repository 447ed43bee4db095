// Passing one descriptor over a UNIX socket (SCM_RIGHTS), tagged with a byte that says what
// it is. Used between the sandbox and the supervisor.
#pragma once

#include "util/unique_fd.h"

namespace paddock {

// Throws Error on failure.
void send_fd(int sock, int fd, char tag);
// The next descriptor and its tag; an invalid UniqueFd at end of stream or on error.
UniqueFd recv_fd(int sock, char* tag);

}  // namespace paddock
