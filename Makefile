# purple-ppmessage: a libpurple protocol plugin for PPMessage.
# Builds the plugin, the client library, the PPMessage test server and the tests.

# Pidgin and Finch look for protocol icons and translations under libpurple's
# own prefix, so that is the default (the plugin itself always goes into
# libpurple's plugin directory).
PKG_CONFIG ?= pkg-config
PREFIX    ?= $(shell $(PKG_CONFIG) --variable=prefix purple 2>/dev/null || echo /usr)
DESTDIR   ?=
CC        ?= gcc

# Debian 12 packages the build and the tests need; `make deps` installs the missing ones.
DEBIAN_BUILD_DEPS = build-essential pkg-config gettext libglib2.0-dev libpurple-dev \
                    libsoup-3.0-dev libjson-glib-dev
DEPS_PKGCONFIG    = purple glib-2.0 gio-2.0 libsoup-3.0 json-glib-1.0
# Packages only the tests need, and the commands that show they are there:
# real Finch under tmux, real Pidgin under Xvfb on a private D-Bus (screenshots
# with imagemagick, windows awaited with x11-utils), real IRC and XMPP servers beside PPMessage accounts, the
# AppStream metainfo check, real HTTP and SOCKS5 proxies, and BitlBee with
# libpurple driven by a scripted IRC client.
CHECK_DEPS        = finch tmux appstream pidgin xvfb dbus-daemon imagemagick x11-utils ngircd tinyproxy \
                    microsocks bitlbee-libpurple prosody
CHECK_COMMANDS    = finch tmux appstreamcli pidgin Xvfb dbus-daemon import xwininfo ngircd tinyproxy \
                    microsocks bitlbee prosody
# Debian 12's third-party protocol plugins, which Pidgin loads beside ours
# (they ship no command: checked as installed packages).
CHECK_PLUGINS     = purple-discord purple-rocketchat pidgin-sipe pidgin-nateon
# `make check VALGRIND=1` runs the test programs under valgrind memcheck
# (tests/run-tests.sh), except those that drive other programs (real Finch and
# Pidgin, BitlBee, make install), whose own code valgrind would not see, and the load
# tests (1,000-message fault bursts, a 200,000-message team), which would take
# hours 20 times slower; the other programs cover the same code.
VALGRIND_SKIP     = test-finch test-pidgin test-bitlbee test-install test-faults test-server-scale
ifeq ($(VALGRIND),1)
CHECK_DEPS       += valgrind
CHECK_COMMANDS   += valgrind
endif

LIB_PKGS    = glib-2.0 gio-2.0 gobject-2.0 libsoup-3.0 json-glib-1.0
PURPLE_PKGS = purple $(LIB_PKGS)

ifeq ($(SANITIZE),1)
BUILD     ?= build-san
SAN_FLAGS  = -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined
else
BUILD     ?= build
SAN_FLAGS  =
endif

CFLAGS    ?= -O2 -g
WARNINGS   = -Wall -Wextra -Werror -Wno-unused-parameter -Wno-missing-field-initializers
I18N_DEFINES = -DGETTEXT_PACKAGE=\"purple-ppmessage\" -DLOCALEDIR=\"$(LOCALEDIR)\"
BASE_CFLAGS = -std=gnu11 -fPIC $(WARNINGS) $(SAN_FLAGS) -D_GNU_SOURCE $(I18N_DEFINES)

PKG_CFLAGS  = $(shell $(PKG_CONFIG) --cflags $(1) 2>/dev/null)
PKG_LIBS    = $(shell $(PKG_CONFIG) --libs $(1) 2>/dev/null)

PLUGINDIR  ?= $(shell $(PKG_CONFIG) --variable=plugindir purple 2>/dev/null)
DATADIR    ?= $(PREFIX)/share
LOCALEDIR  ?= $(DATADIR)/locale
PIXMAPDIR  ?= $(DATADIR)/pixmaps/pidgin/protocols
METAINFODIR ?= $(DATADIR)/metainfo
METAINFO   = data/io.github.purple_ppmessage.metainfo.xml

PLUGIN     = $(BUILD)/libppmessage.so
BRIDGE     = $(BUILD)/libppmessage-bridge.so
CLIENT_LIB = $(BUILD)/libppmclient.a
SERVER_LIB = $(BUILD)/libppmserver.a
SERVER_EXE = $(BUILD)/ppmessage-test-server

# Layer 1: the PPMessage client library (no libpurple in it).
LIB_SRC    = $(wildcard src/lib/*.c)
LIB_OBJ    = $(LIB_SRC:%.c=$(BUILD)/%.o)
# Layer 2: the libpurple glue.
PURPLE_SRC = $(wildcard src/purple/*.c)
PURPLE_OBJ = $(PURPLE_SRC:%.c=$(BUILD)/%.o)
# The bridge: a second (standard) plugin on the same client library.
BRIDGE_SRC = $(wildcard src/bridge/*.c)
BRIDGE_OBJ = $(BRIDGE_SRC:%.c=$(BUILD)/%.o)
# The PPMessage test server: a library for tests plus a standalone program.
SERVER_SRC = $(filter-out tests/server/main.c,$(wildcard tests/server/*.c))
SERVER_OBJ = $(SERVER_SRC:%.c=$(BUILD)/%.o)
# Tests: test-purple-*.c and test-faults.c (message counts where a user sees
# them) load the built plugin into a libpurple core; the others link the
# client library and the test server directly.
PURPLE_TEST_SRC = $(wildcard tests/test-purple-*.c tests/test-bridge*.c) tests/test-faults.c
LIB_TEST_SRC    = $(filter-out $(PURPLE_TEST_SRC),$(wildcard tests/test-*.c))
TEST_SUPPORT_SRC = $(wildcard tests/support/*.c)
TEST_SUPPORT_OBJ = $(TEST_SUPPORT_SRC:%.c=$(BUILD)/%.o)
LIB_TESTS    = $(LIB_TEST_SRC:tests/%.c=$(BUILD)/tests/%)
PURPLE_TESTS = $(PURPLE_TEST_SRC:tests/%.c=$(BUILD)/tests/%)
TESTS      = $(LIB_TESTS) $(PURPLE_TESTS)
# libpurple's plugin probe in a headless core (test-install runs it).
PURPLE_PROBE = $(BUILD)/tests/purple-probe

PO_FILES   = $(wildcard po/*.po)
MO_FILES   = $(PO_FILES:po/%.po=$(BUILD)/po/%.mo)
ICON_SIZES = 16 22 48

.PHONY: all deps check demo bench bench-deps bench-readme install uninstall install-user clean pot fuzz lintian

all: $(PLUGIN) $(BRIDGE) $(SERVER_EXE) $(MO_FILES)

# Installs the Debian build dependencies that are missing; does nothing when all are there.
deps:
	@sh tests/install-deps.sh $(DEBIAN_BUILD_DEPS) -- $(DEPS_PKGCONFIG)

$(BUILD)/src/lib/%.o: src/lib/%.c $(wildcard src/lib/*.h)
	@mkdir -p $(dir $@)
	$(CC) $(BASE_CFLAGS) $(CFLAGS) $(call PKG_CFLAGS,$(LIB_PKGS)) -Isrc/lib -c $< -o $@

$(BUILD)/src/purple/%.o: src/purple/%.c $(wildcard src/purple/*.h src/lib/*.h)
	@mkdir -p $(dir $@)
	$(CC) $(BASE_CFLAGS) $(CFLAGS) $(call PKG_CFLAGS,$(PURPLE_PKGS)) -Isrc/lib -Isrc/purple -c $< -o $@

$(BUILD)/src/bridge/%.o: src/bridge/%.c $(wildcard src/bridge/*.h src/lib/ppm-client.h src/lib/ppm-types.h src/lib/ppm-error.h src/lib/ppm-transfer.h src/lib/ppm-transport.h src/lib/ppm-tls.h)
	@mkdir -p $(dir $@)
	$(CC) $(BASE_CFLAGS) $(CFLAGS) $(call PKG_CFLAGS,$(PURPLE_PKGS)) -Isrc/lib -Isrc/bridge -c $< -o $@

$(BUILD)/tests/server/%.o: tests/server/%.c $(wildcard tests/server/*.h)
	@mkdir -p $(dir $@)
	$(CC) $(BASE_CFLAGS) $(CFLAGS) $(call PKG_CFLAGS,$(LIB_PKGS)) -Itests/server -c $< -o $@

$(TEST_SUPPORT_OBJ): $(BUILD)/tests/support/%.o: tests/support/%.c $(wildcard tests/support/*.h tests/server/*.h)
	@mkdir -p $(dir $@)
	$(CC) $(BASE_CFLAGS) $(CFLAGS) $(call PKG_CFLAGS,$(PURPLE_PKGS)) -Itests/server -Itests/support -c $< -o $@

$(CLIENT_LIB): $(LIB_OBJ)
	@mkdir -p $(dir $@)
	rm -f $@ && ar rcs $@ $^

$(SERVER_LIB): $(SERVER_OBJ)
	@mkdir -p $(dir $@)
	rm -f $@ && ar rcs $@ $^

# Only purple_init_plugin is exported (src/purple/exports.map says why).
PLUGIN_EXPORTS = src/purple/exports.map

$(PLUGIN): $(PURPLE_OBJ) $(CLIENT_LIB) $(PLUGIN_EXPORTS)
	$(CC) -shared $(SAN_FLAGS) -o $@ $(PURPLE_OBJ) $(CLIENT_LIB) $(call PKG_LIBS,$(PURPLE_PKGS)) -Wl,--no-undefined \
	  -Wl,--version-script=$(PLUGIN_EXPORTS) $(LDFLAGS)

$(BRIDGE): $(BRIDGE_OBJ) $(CLIENT_LIB) $(PLUGIN_EXPORTS)
	$(CC) -shared $(SAN_FLAGS) -o $@ $(BRIDGE_OBJ) $(CLIENT_LIB) $(call PKG_LIBS,$(PURPLE_PKGS)) -Wl,--no-undefined \
	  -Wl,--version-script=$(PLUGIN_EXPORTS) $(LDFLAGS)

$(SERVER_EXE): tests/server/main.c $(SERVER_LIB)
	$(CC) $(BASE_CFLAGS) $(CFLAGS) $(call PKG_CFLAGS,$(LIB_PKGS)) -Itests/server $< -o $@ $(SERVER_LIB) $(call PKG_LIBS,$(LIB_PKGS)) -lm $(LDFLAGS)

$(PURPLE_TESTS): $(BUILD)/tests/%: tests/%.c $(wildcard tests/*.h) $(SERVER_LIB) $(TEST_SUPPORT_OBJ) $(PLUGIN) $(BRIDGE)
	@mkdir -p $(dir $@)
	$(CC) $(BASE_CFLAGS) $(CFLAGS) $(call PKG_CFLAGS,$(PURPLE_PKGS)) -Itests/server -Itests/support $< -o $@ $(TEST_SUPPORT_OBJ) $(SERVER_LIB) $(call PKG_LIBS,$(PURPLE_PKGS)) -lm $(LDFLAGS)

$(PURPLE_PROBE): tests/purple-probe.c $(SERVER_LIB) $(TEST_SUPPORT_OBJ)
	@mkdir -p $(dir $@)
	$(CC) $(BASE_CFLAGS) $(CFLAGS) $(call PKG_CFLAGS,$(PURPLE_PKGS)) -Itests/server -Itests/support $< -o $@ $(TEST_SUPPORT_OBJ) $(SERVER_LIB) $(call PKG_LIBS,$(PURPLE_PKGS)) -lm $(LDFLAGS)

# test-pidgin's bridge picture needs a local IRC server (no libpurple in that object).
$(BUILD)/tests/test-pidgin: TEST_EXTRA_OBJ = $(BUILD)/tests/support/local-servers.o
$(BUILD)/tests/test-pidgin: $(BUILD)/tests/support/local-servers.o

# The library tests link the libpurple-free part of tests/support.
LIB_TEST_SUPPORT_OBJ = $(BUILD)/tests/support/server-start.o

$(LIB_TESTS): $(BUILD)/tests/%: tests/%.c $(wildcard tests/*.h) $(CLIENT_LIB) $(SERVER_LIB) $(LIB_TEST_SUPPORT_OBJ)
	@mkdir -p $(dir $@)
	$(CC) $(BASE_CFLAGS) $(CFLAGS) $(call PKG_CFLAGS,$(LIB_PKGS)) -Isrc/lib -Itests/server -Itests/support $< -o $@ $(TEST_EXTRA_OBJ) $(LIB_TEST_SUPPORT_OBJ) $(CLIENT_LIB) $(SERVER_LIB) $(call PKG_LIBS,$(LIB_PKGS)) -lm $(LDFLAGS)

# libFuzzer targets for every parser of server data (tests/fuzz/fuzz-*.c),
# built with clang and ASan+UBSan, each run for FUZZ_SECONDS on the seeds
# extracted from the protocol transcripts (when ../shared/protocol is there)
# plus the small corpus kept in tests/fuzz/corpus.
FUZZ_CC       ?= clang-14
FUZZ_SECONDS  ?= 60
PROTOCOL_DIR  ?= ../shared/protocol
FUZZ_FLAGS     = -g -O1 -std=gnu11 -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined \
                 -D_GNU_SOURCE $(I18N_DEFINES) $(call PKG_CFLAGS,$(LIB_PKGS)) -Isrc/lib -Itests/fuzz
FUZZ_TARGETS   = $(patsubst tests/fuzz/%.c,%,$(wildcard tests/fuzz/fuzz-*.c))
FUZZ_BINS      = $(FUZZ_TARGETS:%=$(BUILD)/fuzz/%)

$(BUILD)/fuzz/fuzz-%: tests/fuzz/fuzz-%.c tests/fuzz/fuzz-common.h $(LIB_SRC) $(wildcard src/lib/*.h)
	@mkdir -p $(dir $@)
	$(FUZZ_CC) $(FUZZ_FLAGS) $< $(LIB_SRC) -o $@ $(call PKG_LIBS,$(LIB_PKGS)) -lm

fuzz:
	@sh tests/install-deps.sh clang-14 libclang-rt-14-dev -- -- $(FUZZ_CC)
	@$(MAKE) --no-print-directory $(FUZZ_BINS)
	@if [ -d "$(PROTOCOL_DIR)/transcripts" ]; then \
	  python3 tests/fuzz/extract-corpus.py $(PROTOCOL_DIR)/transcripts $(BUILD)/fuzz-corpus; fi
	@set -e; for t in $(FUZZ_TARGETS); do \
	  mkdir -p $(BUILD)/fuzz-corpus/$$t $(BUILD)/fuzz-artifacts/$$t; \
	  echo "fuzzing $$t for $(FUZZ_SECONDS) s"; \
	  ASAN_OPTIONS=detect_leaks=1 $(BUILD)/fuzz/$$t -max_total_time=$(FUZZ_SECONDS) -timeout=10 \
	    -rss_limit_mb=2048 -max_len=65536 -print_final_stats=1 \
	    -artifact_prefix=$(BUILD)/fuzz-artifacts/$$t/ \
	    $(BUILD)/fuzz-corpus/$$t tests/fuzz/corpus/$$t 2>$(BUILD)/fuzz-artifacts/$$t.log \
	    || { tail -40 $(BUILD)/fuzz-artifacts/$$t.log; exit 1; }; \
	  grep -E "stat::number_of_executed_units|stat::peak_rss_mb" $(BUILD)/fuzz-artifacts/$$t.log; \
	done

$(BUILD)/po/%.mo: po/%.po
	@mkdir -p $(dir $@)
	msgfmt --check -o $@ $<

# Starts the test server with a demo team and a scripted visitor, then Finch
# with a throw-away profile and the agent account set up.
demo:
	@sh tests/install-deps.sh $(DEBIAN_BUILD_DEPS) finch curl -- $(DEPS_PKGCONFIG) -- finch curl
	@$(MAKE) --no-print-directory all
	@BUILD=$(BUILD) sh tests/demo.sh

check: deps
	@sh tests/install-deps.sh $(CHECK_DEPS) $(CHECK_PLUGINS) -- -- $(CHECK_COMMANDS) -- $(CHECK_PLUGINS)
	@$(MAKE) --no-print-directory all $(TESTS) $(PURPLE_PROBE)
	@BUILD=$(BUILD) PLUGIN_DIR=$(abspath $(BUILD)) SERVER_EXE=$(abspath $(SERVER_EXE)) \
	  SANITIZE=$(SANITIZE) VALGRIND=$(VALGRIND) sh tests/run-tests.sh \
	  $(if $(filter 1,$(VALGRIND)),$(filter-out $(VALGRIND_SKIP:%=$(BUILD)/tests/%),$(TESTS)),$(TESTS))

# Builds the Debian source and binary packages from the tracked files, in
# $(BUILD)/deb (dpkg-buildpackage writes next to the tree it builds, so never
# in the source tree itself), without running the tests again, and checks
# the .dsc and the .deb as Debian does: any lintian tag, pedantic ones
# included, fails.
lintian:
	@sh tests/install-deps.sh debhelper lintian -- -- dh lintian
	rm -rf $(BUILD)/deb && mkdir -p $(BUILD)/deb/purple-ppmessage
	git ls-files -z | xargs -0 tar -cf - | tar -xf - -C $(BUILD)/deb/purple-ppmessage
	cd $(BUILD)/deb/purple-ppmessage && DEB_BUILD_OPTIONS=nocheck dpkg-buildpackage -us -uc \
	  > ../dpkg-buildpackage.log 2>&1 || { tail -30 ../dpkg-buildpackage.log; exit 1; }
	lintian --pedantic --display-info --fail-on error,warning,info,pedantic \
	  $(BUILD)/deb/purple-ppmessage_*.dsc $(BUILD)/deb/purple-ppmessage_*.deb
	@echo "lintian: no tag on $$(cd $(BUILD)/deb && ls purple-ppmessage_*.dsc purple-ppmessage_*.deb | tr '\n' ' ')"

pot:
	xgettext --keyword=_ --keyword=N_ --from-code=UTF-8 --package-name=purple-ppmessage \
	  --add-comments=TRANSLATORS -o po/purple-ppmessage.pot $(sort $(LIB_SRC) $(PURPLE_SRC) $(BRIDGE_SRC))

install: $(PLUGIN) $(BRIDGE) $(MO_FILES)
	install -d $(DESTDIR)$(PLUGINDIR)
	install -m 644 $(PLUGIN) $(DESTDIR)$(PLUGINDIR)/libppmessage.so
	install -m 644 $(BRIDGE) $(DESTDIR)$(PLUGINDIR)/libppmessage-bridge.so
	for s in $(ICON_SIZES); do \
	  install -d $(DESTDIR)$(PIXMAPDIR)/$$s; \
	  install -m 644 icons/$$s/ppmessage.png $(DESTDIR)$(PIXMAPDIR)/$$s/ppmessage.png; \
	done
	install -d $(DESTDIR)$(PIXMAPDIR)/scalable
	install -m 644 icons/scalable/ppmessage.svg $(DESTDIR)$(PIXMAPDIR)/scalable/ppmessage.svg
	for mo in $(MO_FILES); do \
	  lang=$$(basename $$mo .mo); \
	  install -d $(DESTDIR)$(LOCALEDIR)/$$lang/LC_MESSAGES; \
	  install -m 644 $$mo $(DESTDIR)$(LOCALEDIR)/$$lang/LC_MESSAGES/purple-ppmessage.mo; \
	done
	install -d $(DESTDIR)$(METAINFODIR)
	install -m 644 $(METAINFO) $(DESTDIR)$(METAINFODIR)/$(notdir $(METAINFO))

uninstall:
	rm -f $(DESTDIR)$(PLUGINDIR)/libppmessage.so $(DESTDIR)$(PLUGINDIR)/libppmessage-bridge.so
	for s in $(ICON_SIZES); do rm -f $(DESTDIR)$(PIXMAPDIR)/$$s/ppmessage.png; done
	rm -f $(DESTDIR)$(PIXMAPDIR)/scalable/ppmessage.svg
	for po in $(PO_FILES); do \
	  lang=$$(basename $$po .po); \
	  rm -f $(DESTDIR)$(LOCALEDIR)/$$lang/LC_MESSAGES/purple-ppmessage.mo; \
	done
	rm -f $(DESTDIR)$(METAINFODIR)/$(notdir $(METAINFO))

install-user: $(PLUGIN) $(BRIDGE)
	install -d $(HOME)/.purple/plugins
	install -m 644 $(PLUGIN) $(HOME)/.purple/plugins/libppmessage.so
	install -m 644 $(BRIDGE) $(HOME)/.purple/plugins/libppmessage-bridge.so

clean:
	rm -rf build build-san

# Benchmarks (speed and memory targets; tests/bench/README.md). bench-purple-*
# load the built plugin like test-purple-*; the others link the client library.
BENCH_SRC        = $(wildcard tests/bench/bench-*.c)
PURPLE_BENCH     = $(patsubst tests/%.c,$(BUILD)/tests/%,$(filter tests/bench/bench-purple-%,$(BENCH_SRC)))
LIB_BENCH        = $(patsubst tests/%.c,$(BUILD)/tests/%,$(filter-out tests/bench/bench-purple-%,$(BENCH_SRC)))
BENCH            = $(LIB_BENCH) $(PURPLE_BENCH)

$(PURPLE_BENCH): $(BUILD)/tests/bench/%: tests/bench/%.c tests/bench/util.c tests/bench/loop.c $(wildcard tests/bench/*.h) $(SERVER_LIB) $(TEST_SUPPORT_OBJ) $(PLUGIN)
	@mkdir -p $(dir $@)
	$(CC) $(BASE_CFLAGS) $(CFLAGS) $(call PKG_CFLAGS,$(PURPLE_PKGS)) -Itests/server -Itests/support -Itests/bench $< tests/bench/util.c tests/bench/loop.c -o $@ $(TEST_SUPPORT_OBJ) $(SERVER_LIB) $(call PKG_LIBS,$(PURPLE_PKGS)) -lm $(LDFLAGS)

$(LIB_BENCH): $(BUILD)/tests/bench/%: tests/bench/%.c tests/bench/util.c tests/bench/loop.c $(wildcard tests/bench/*.h) $(CLIENT_LIB) $(SERVER_LIB)
	@mkdir -p $(dir $@)
	$(CC) $(BASE_CFLAGS) $(CFLAGS) $(call PKG_CFLAGS,$(LIB_PKGS)) -Isrc/lib -Itests/server -Itests/bench $< tests/bench/util.c tests/bench/loop.c -o $@ $(CLIENT_LIB) $(SERVER_LIB) $(call PKG_LIBS,$(LIB_PKGS)) -lm $(LDFLAGS)

# The side-by-side comparison (tests/bench/compare.py): one test server
# process, and against it the bare client (the limit), the Python peer, the
# client library and the plugin. Its Debian dependencies are installed here.
COMPARE_DIR    = $(BUILD)/tests/bench
COMPARE_SERVER = $(COMPARE_DIR)/compare-server
COMPARE_C      = $(COMPARE_DIR)/compare-bare $(COMPARE_DIR)/compare-lib $(COMPARE_DIR)/compare-plugin
COMPARE_COMMON = tests/bench/compare-common.c tests/bench/compare-common.h tests/bench/loop.c tests/bench/loop.h
BENCH_DEBIAN_DEPS = python3 python3-websocket python3-requests gnuplot-nox valgrind

$(COMPARE_SERVER): tests/bench/compare-server.c tests/bench/util.c tests/bench/util.h tests/bench/loop.c tests/bench/loop.h $(SERVER_LIB)
	@mkdir -p $(dir $@)
	$(CC) $(BASE_CFLAGS) $(CFLAGS) $(call PKG_CFLAGS,$(LIB_PKGS)) -Itests/server -Itests/bench $< tests/bench/util.c tests/bench/loop.c -o $@ $(SERVER_LIB) $(call PKG_LIBS,$(LIB_PKGS)) -lm $(LDFLAGS)

# The bare client links libsoup, json-glib and GLib only.
$(COMPARE_DIR)/compare-bare: tests/bench/compare-bare.c $(COMPARE_COMMON)
	@mkdir -p $(dir $@)
	$(CC) $(BASE_CFLAGS) $(CFLAGS) $(call PKG_CFLAGS,$(LIB_PKGS)) -Itests/bench $< tests/bench/compare-common.c tests/bench/loop.c -o $@ $(call PKG_LIBS,$(LIB_PKGS)) $(LDFLAGS)

$(COMPARE_DIR)/compare-lib: tests/bench/compare-lib.c $(COMPARE_COMMON) $(CLIENT_LIB)
	@mkdir -p $(dir $@)
	$(CC) $(BASE_CFLAGS) $(CFLAGS) $(call PKG_CFLAGS,$(LIB_PKGS)) -Isrc/lib -Itests/bench $< tests/bench/compare-common.c tests/bench/loop.c -o $@ $(CLIENT_LIB) $(call PKG_LIBS,$(LIB_PKGS)) $(LDFLAGS)

$(COMPARE_DIR)/compare-plugin: tests/bench/compare-plugin.c $(COMPARE_COMMON) $(TEST_SUPPORT_OBJ) $(SERVER_LIB) $(PLUGIN)
	@mkdir -p $(dir $@)
	$(CC) $(BASE_CFLAGS) $(CFLAGS) $(call PKG_CFLAGS,$(PURPLE_PKGS)) -Itests/server -Itests/support -Itests/bench $< tests/bench/compare-common.c tests/bench/loop.c -o $@ $(TEST_SUPPORT_OBJ) $(SERVER_LIB) $(call PKG_LIBS,$(PURPLE_PKGS)) -lm $(LDFLAGS)

# The README's Performance block and its plot, from the last make bench.
bench-readme:
	python3 tests/bench/report.py --results $(BUILD)/bench/results.json --out $(BUILD)/bench \
	  --readme README.md --image-dir docs/bench

bench-deps:
	@sh tests/install-deps.sh $(BENCH_DEBIAN_DEPS) -- -- python3 gnuplot valgrind -- -- websocket requests

# BENCH_QUICK=1: small sizes, for development (figures not comparable).
bench: all bench-deps $(BENCH) $(COMPARE_SERVER) $(COMPARE_C)
	@BUILD=$(BUILD) PLUGIN_DIR=$(abspath $(BUILD)) BENCH_QUICK=$(BENCH_QUICK) \
	  python3 tests/bench/compare.py --build $(BUILD) --out $(BUILD)/bench; \
	  compare=$$?; \
	  [ -n "$(BENCH_QUICK)" ] || BUILD=$(BUILD) PLUGIN_DIR=$(abspath $(BUILD)) sh tests/bench/run-bench.sh $(BENCH) || exit 1; \
	  exit $$compare
