// gqa-bench: a serving benchmark client for gqa-server (in the spirit of
// `vllm bench serve`). `gqa-bench --help` lists the flags; see benchmark.h.
#include <unistd.h>

#include <cstdio>
#include <iostream>

#include "client/loadgen/benchmark.h"

int main(int argc, char** argv) {
  return gqa::loadgen::RunBenchCommand(argc, argv, std::cout, std::cerr,
                                       isatty(fileno(stderr)) != 0);
}
