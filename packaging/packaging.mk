# packaging/packaging.mk — included by the top-level Makefile.
#   make install [PREFIX=/usr/local] [DESTDIR=]   the three programs, man pages, systemd
#                units and sysusers.d entry, and the controller's and agent's shared files
#   make uninstall                                removes what install put there
# Nothing is written to /etc or /var: configuration and state are the admin's
# (docs/operations.md, docs/contributing-a-board.md).

PREFIX ?= /usr/local
BINDIR ?= $(PREFIX)/bin
MANDIR ?= $(PREFIX)/share/man
SHAREDIR ?= $(PREFIX)/share/xenci
SYSCONFDIR ?= /etc
UNITDIR ?= $(PREFIX)/lib/systemd/system
SYSUSERSDIR ?= $(PREFIX)/lib/sysusers.d
INSTALL ?= install

PKG_DIR := packaging
PKG_UNITS := xenci-controller.service xenci-agent@.service
PKG_EXAMPLES := controller.yaml
# Every build recipe (hypervisor/build-KIND.sh, docs/flights.md "Adding a kind") is
# installed by its name's pattern: a new kind needs no line here.
HYPERVISOR_FILES := $(addprefix hypervisor/,README.md build.sh recipe-lib.sh payloads.sh import.sh \
	sysroot.sh debs-lib.sh \
	boot-test.sh dom0-init.sh dom0-guest.sh domu-init.sh tap.sh mkcpio.py) $(sort $(wildcard hypervisor/build-*.sh)) \
	$(wildcard hypervisor/config/*.config) $(wildcard hypervisor/boot/*.template)

# @BINDIR@, @SHAREDIR@ and @SYSCONFDIR@ in the units and examples become the install paths.
PKG_SUBST = sed -e 's|@BINDIR@|$(BINDIR)|g' -e 's|@SHAREDIR@|$(SHAREDIR)|g' \
	-e 's|@SYSCONFDIR@|$(SYSCONFDIR)|g'

.PHONY: install uninstall
install: $(PROGRAMS)
	$(INSTALL) -d $(DESTDIR)$(BINDIR) $(DESTDIR)$(MANDIR)/man1 $(DESTDIR)$(MANDIR)/man8 \
		$(DESTDIR)$(UNITDIR) $(DESTDIR)$(SYSUSERSDIR) \
		$(DESTDIR)$(SHAREDIR)/web $(DESTDIR)$(SHAREDIR)/jobs $(DESTDIR)$(SHAREDIR)/schema \
		$(DESTDIR)$(SHAREDIR)/boards/examples $(DESTDIR)$(SHAREDIR)/examples \
		$(DESTDIR)$(SHAREDIR)/hypervisor/config $(DESTDIR)$(SHAREDIR)/hypervisor/boot
	$(INSTALL) -m 755 $(PROGRAMS) $(DESTDIR)$(BINDIR)/
	$(INSTALL) -m 644 $(PKG_DIR)/man/xenci.1 $(DESTDIR)$(MANDIR)/man1/
	$(INSTALL) -m 644 $(PKG_DIR)/man/xenci-controller.8 $(PKG_DIR)/man/xenci-agent.8 \
		$(DESTDIR)$(MANDIR)/man8/
	$(INSTALL) -m 644 $(wildcard web/*.css web/*.js) $(DESTDIR)$(SHAREDIR)/web/
	$(INSTALL) -m 644 $(wildcard jobs/*.yaml) $(DESTDIR)$(SHAREDIR)/jobs/
	$(INSTALL) -m 644 $(wildcard schema/*.sql) $(DESTDIR)$(SHAREDIR)/schema/
	$(INSTALL) -m 644 $(wildcard boards/*.yaml) $(DESTDIR)$(SHAREDIR)/boards/
	$(INSTALL) -m 644 $(wildcard boards/examples/*) $(DESTDIR)$(SHAREDIR)/boards/examples/
	for f in $(HYPERVISOR_FILES); do \
		case $$f in *.sh) m=755 ;; *) m=644 ;; esac; \
		$(INSTALL) -m $$m $$f $(DESTDIR)$(SHAREDIR)/$$f || exit 1; \
	done
	for f in $(PKG_UNITS); do \
		$(PKG_SUBST) $(PKG_DIR)/$$f >$(DESTDIR)$(UNITDIR)/$$f && chmod 644 $(DESTDIR)$(UNITDIR)/$$f || exit 1; \
	done
	for f in $(PKG_EXAMPLES); do \
		$(PKG_SUBST) $(PKG_DIR)/$$f >$(DESTDIR)$(SHAREDIR)/examples/$$f || exit 1; \
	done
	$(INSTALL) -m 644 $(PKG_DIR)/xenci.sysusers $(DESTDIR)$(SYSUSERSDIR)/xenci.conf

uninstall:
	rm -f $(addprefix $(DESTDIR)$(BINDIR)/,xenci-controller xenci-agent xenci) \
		$(DESTDIR)$(MANDIR)/man1/xenci.1 $(DESTDIR)$(MANDIR)/man8/xenci-controller.8 \
		$(DESTDIR)$(MANDIR)/man8/xenci-agent.8 $(addprefix $(DESTDIR)$(UNITDIR)/,$(PKG_UNITS)) \
		$(DESTDIR)$(SYSUSERSDIR)/xenci.conf
	rm -rf $(DESTDIR)$(SHAREDIR)
