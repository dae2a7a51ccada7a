#!/usr/bin/env bash
# The waiter hand-off protocol as a Promela model (tests/model/): SPIN
# checks every interleaving of each scenario (make model), then that it
# rejects each mutant of the model, a bug the C code could have (make
# model-mutants); run.sh runs as many verifiers at a time as there are
# CPUs.  The verifiers are built with clang, which compiles pan.c at -O0
# in 0.7 s where gcc takes 1.6 s: over 33 verifiers that outweighs its
# slower search (a quarter slower): 56 s of CPU time against 76 s here,
# and 33 s against 44 s for the step.
set -euo pipefail
cd "$(dirname "$0")/../.."
. .ci/lib.sh
need_packages spin clang
export MODEL_CC=clang
make model
make model-mutants
