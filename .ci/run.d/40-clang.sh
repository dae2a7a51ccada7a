#!/usr/bin/env bash
# Portability: the whole of make check with clang, strict ISO C11 (the
# Makefile adds -std=c11 -Wall -Wextra) plus -pedantic -Werror, in its own
# build directory.
set -euo pipefail
cd "$(dirname "$0")/../.."
rm -rf build/clang
make BUILD=build/clang CC=clang CFLAGS='-O2 -g -pedantic -Werror' check
