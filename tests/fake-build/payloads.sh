#!/bin/sh
# A stand-in for hypervisor/payloads.sh (ARCH DIR): two tiny dom0 payloads and
# the dom0less domUs' initramfs.
set -eu
printf 'fake kernel\n' >"$2/dom0-kernel"
printf 'fake initrd\n' >"$2/dom0-initrd"
printf 'fake domu initrd\n' >"$2/domu-initrd"
