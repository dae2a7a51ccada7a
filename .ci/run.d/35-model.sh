#!/usr/bin/env bash
# The waiter hand-off protocol as a Promela model (tests/model/): SPIN
# checks every interleaving of each scenario (make model, about 20 s
# here), then that it rejects each mutant of the model, a bug the C code
# could have (make model-mutants, about 20 s); run.sh runs as many
# verifiers at a time as there are CPUs.
set -euo pipefail
cd "$(dirname "$0")/../.."
. .ci/lib.sh
need_packages spin
make model
make model-mutants
