#!/bin/bash
# test-xen-guest-arm64.sh — tests/e2e/test-xen-guest.sh on the arm64 board
# (qemu-arm64, the toolstack cross-built against the agent's sysroot): the
# arch make check leaves to make check-long (a cross-built toolstack and three
# flights of guests under TCG, 15-40 min). The cases are that script's.
exec bash "$(dirname "$0")/../e2e/test-xen-guest.sh" arm64
