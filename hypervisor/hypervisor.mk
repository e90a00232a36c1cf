# hypervisor/hypervisor.mk — included by the top-level Makefile.
#   make hypervisor          import Xen from Debian's source package into hypervisor/xen (once)
#   make linux               import Linux the same way into hypervisor/linux (once)
#   make linux-build         build the dom0 kernel of hypervisor/linux for every arch into
#                            build/linux/ARCH (out of tree, objects in build/linux/ARCH/obj)
#   make payloads            dom0 kernel + initramfs for every arch into build/payloads/ARCH
#   make hypervisor-build    build hypervisor/xen for every arch into build/hypervisor/ARCH
#                            (out of tree, objects in build/hypervisor/ARCH/obj: the tree
#                            stays clean and each arch stays incremental)
#   make boot-test           netboot each arch on QEMU (make boot-test-x86_64, boot-test-arm64)
#   make hypervisor-lint     shellcheck the scripts
# Caches (source package, debs, payloads, ccache) live in $(XENCI_CACHE), default ~/.cache/xenci.

HYPERVISOR_DIR := $(patsubst %/,%,$(dir $(lastword $(MAKEFILE_LIST))))

# The scripts, for the agent, the tests and the demo.
HYPERVISOR_IMPORT := $(HYPERVISOR_DIR)/import.sh
HYPERVISOR_BUILD := $(HYPERVISOR_DIR)/build.sh
HYPERVISOR_BUILD_TOOLS := $(HYPERVISOR_DIR)/build-tools.sh
HYPERVISOR_BUILD_LINUX := $(HYPERVISOR_DIR)/build-linux.sh
HYPERVISOR_PAYLOADS := $(HYPERVISOR_DIR)/payloads.sh
HYPERVISOR_SYSROOT := $(HYPERVISOR_DIR)/sysroot.sh
HYPERVISOR_BOOT_TEST := $(HYPERVISOR_DIR)/boot-test.sh
HYPERVISOR_DOM0_INIT := $(HYPERVISOR_DIR)/dom0-init.sh
HYPERVISOR_DOM0_GUEST := $(HYPERVISOR_DIR)/dom0-guest.sh
HYPERVISOR_DOMU_INIT := $(HYPERVISOR_DIR)/domu-init.sh
HYPERVISOR_IPXE_TEMPLATE := $(HYPERVISOR_DIR)/boot/ipxe.template
HYPERVISOR_UBOOT_TEMPLATE := $(HYPERVISOR_DIR)/boot/uboot.template
HYPERVISOR_CONFIGS := $(wildcard $(HYPERVISOR_DIR)/config/*.config)

# The default tree and where things land.
HYPERVISOR_TREE ?= $(HYPERVISOR_DIR)/xen
HYPERVISOR_ARCHES := x86_64 arm64
HYPERVISOR_OUT ?= build/hypervisor
PAYLOADS_OUT ?= build/payloads
LINUX_TREE ?= $(HYPERVISOR_DIR)/linux
LINUX_OUT ?= build/linux

.PHONY: hypervisor payloads hypervisor-build boot-test hypervisor-lint linux linux-build \
	$(addprefix linux-build-,$(HYPERVISOR_ARCHES)) \
	$(addprefix payloads-,$(HYPERVISOR_ARCHES)) \
	$(addprefix hypervisor-build-,$(HYPERVISOR_ARCHES)) \
	$(addprefix boot-test-,$(HYPERVISOR_ARCHES))

hypervisor:
	$(HYPERVISOR_IMPORT) $(HYPERVISOR_TREE)

linux:
	$(HYPERVISOR_IMPORT) linux $(LINUX_TREE)

linux-build: $(addprefix linux-build-,$(HYPERVISOR_ARCHES))
$(addprefix linux-build-,$(HYPERVISOR_ARCHES)): linux-build-%: linux
	$(HYPERVISOR_BUILD_LINUX) $* $(LINUX_TREE) $(LINUX_OUT)/$* $(LINUX_OUT)/$*/obj

payloads: $(addprefix payloads-,$(HYPERVISOR_ARCHES))
$(addprefix payloads-,$(HYPERVISOR_ARCHES)): payloads-%:
	$(HYPERVISOR_PAYLOADS) $* $(PAYLOADS_OUT)/$*

hypervisor-build: $(addprefix hypervisor-build-,$(HYPERVISOR_ARCHES))
$(addprefix hypervisor-build-,$(HYPERVISOR_ARCHES)): hypervisor-build-%: hypervisor
	$(HYPERVISOR_BUILD) $* $(HYPERVISOR_TREE) $(HYPERVISOR_OUT)/$* $(HYPERVISOR_OUT)/$*/obj

# Static pattern rules: make skips implicit rules for .PHONY targets.
# One QEMU at a time: each takes a core under TCG.
boot-test:
	$(MAKE) --no-print-directory boot-test-x86_64
	$(MAKE) --no-print-directory boot-test-arm64
$(addprefix boot-test-,$(HYPERVISOR_ARCHES)): boot-test-%: hypervisor-build-% payloads-%
	$(HYPERVISOR_BOOT_TEST) --xen $(HYPERVISOR_OUT)/$*/xen --payloads $(PAYLOADS_OUT)/$* $*

hypervisor-lint:
	shellcheck -x $(HYPERVISOR_IMPORT) $(HYPERVISOR_BUILD) $(HYPERVISOR_PAYLOADS) \
		$(HYPERVISOR_BOOT_TEST) $(HYPERVISOR_DOM0_INIT) $(HYPERVISOR_BUILD_TOOLS) \
		$(HYPERVISOR_DOM0_GUEST) $(HYPERVISOR_DOMU_INIT) $(HYPERVISOR_DIR)/tap.sh \
		$(HYPERVISOR_BUILD_LINUX) $(HYPERVISOR_DIR)/recipe-lib.sh $(HYPERVISOR_SYSROOT) \
		$(HYPERVISOR_DIR)/debs-lib.sh
