#!/bin/sh
# Installs what loacast needs on Debian 12 (as root): build tools, libraries, and the tools the
# tests use to check loacast's output independently. Installs only what is missing, so it is
# quick when everything is there.
set -eu

PACKAGES="
  meson ninja-build pkg-config gcc python3
  libuv1-dev libopus-dev libogg-dev libespeak-ng-dev espeak-ng-data espeak-ng
  libsoxr-dev libebur128-dev libsndfile1-dev
  libsqlite3-dev libhttp-parser-dev libjansson-dev libsodium-dev libinih-dev
  libcurl4-openssl-dev libopusfile-dev libasound2-dev
  libxml2-dev
  libavformat-dev libavcodec-dev libavutil-dev
  scdoc debhelper dpkg-dev fakeroot
  libxlsxwriter-dev
  libshout3-dev
"
# scdoc: the man pages (man/*.scd) are built with it. debhelper, dpkg-dev, fakeroot: the Debian
# packages (debian/, scripts/package.sh, docs/install.md).
# libxlsxwriter-dev: office reports as XLSX (server/api/xlsx.c, docs/reports.md): real numbers,
# dates, widths and a frozen header that a CSV cannot carry.
# libshout3-dev: fan-out through Icecast 2 (server/icecast/, issue 19, docs/icecast.md): Icecast's own
# source-client library (its HTTP PUT/SOURCE handshake, Ogg page timing), one per on-air commune.
# libxml2-dev: CAP 1.2 alerts (server/alerts/) are XML, parsed and checked against the CAP 1.2
# XML Schema with libxml2's parser and validator (docs/alerts.md).
# libavformat/libavcodec/libavutil (FFmpeg): relays of upstream streams (codecs/relay.h, issue 18):
# every protocol and format a station meets (Icecast/HTTP MP3, AAC, Ogg Vorbis/Opus, HLS); also
# uploads libsndfile does not read: phones' AAC/M4A, browsers' WebM/Opus (codecs/decode_av.c).
# Tests only: independent decoders and clients; nginx as the cache in front of GET /media
# (tests/media/nginx_test.py); chromium for the web console's browser tests;
# clang, its compiler-rt (libclang_rt.fuzzer, the sanitizers' runtimes: libclang-rt-14-dev) and
# llvm-symbolizer (llvm) for the fuzz build; promtool (prometheus) checks /metrics and the example
# alert rules (tests/stream/metrics_test.py); the real players and the Icecast relay of
# tests/stream/players_test.py: VLC (cvlc; its http access, Ogg, Opus and file-output plugins are
# in vlc-plugin-base), mpv, GStreamer (gst-launch-1.0; oggdemux, opusdec, audioconvert and
# audioresample in -base, souphttpsrc in -good) and icecast2. PulseAudio with ALSA's pulse plugin
# (libasound2-plugins) and parec/pactl (pulseaudio-utils): a real-time ALSA device for the
# receiver's ALSA sink where the machine has no sound card (tests/receiver/alsa_test.py).
TEST_PACKAGES="opus-tools ffmpeg sox curl chromium clang libclang-rt-14-dev llvm nginx prometheus
  vlc-bin vlc-plugin-base mpv gstreamer1.0-tools gstreamer1.0-plugins-base gstreamer1.0-plugins-good icecast2
  pulseaudio pulseaudio-utils libasound2-plugins
  systemd logrotate man-db
  libreoffice-calc-nogui locales"
# systemd (systemd-analyze verify), logrotate and man-db: tests/package/ checks the installed
# units, the logrotate file and the man pages.
# libreoffice-calc-nogui (headless Calc) and locales (vi_VN.UTF-8, generated below): the office
# reports opened as a Vietnamese office opens them (tests/reports/reports_test.py).

want="$PACKAGES"
[ "${1:-}" = "--test" ] && want="$PACKAGES $TEST_PACKAGES"

missing=""
for p in $want; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" ||
        missing="$missing $p"
done
if [ -n "$missing" ]; then
    echo "installing:$missing"
    SUDO=""
    [ "$(id -u)" -ne 0 ] && SUDO=sudo
    $SUDO apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends $missing
fi
# The Vietnamese locale of tests/reports/ (only that one, only once).
if [ "${1:-}" = "--test" ] && ! locale -a 2>/dev/null | grep -qix 'vi_VN.utf8'; then
    SUDO=""
    [ "$(id -u)" -ne 0 ] && SUDO=sudo
    $SUDO localedef -i vi_VN -f UTF-8 vi_VN.UTF-8
fi
