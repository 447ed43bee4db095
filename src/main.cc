// The supervisor's one error boundary: every paddock::Error becomes a one-line message and
// exit status 125 ("paddock's own error"), as DESIGN.md's exit-status table says.
#include <cstdio>
#include <exception>

#include "cli/cli.h"
#include "util/error.h"

int main(int argc, char** argv) {
  try {
    return paddock::cli_main(argc, argv);
  } catch (const paddock::Error& e) {
    std::fprintf(stderr, "paddock: %s\n", e.what());
  } catch (const std::exception& e) {
    std::fprintf(stderr, "paddock: internal error: %s\n", e.what());
  }
  return 125;
}
