#!/usr/bin/env bash
# Turns the PyInstaller onedir (dist/director-desktop/) into dist/director-desktop_<version>_amd64.deb:
# the app under /opt/director-desktop, /usr/bin/director-desktop (a symlink; the bootloader finds
# its _internal/ through /proc/self/exe), the .desktop entry and hicolor icons under /usr/share.
# The version is the one frozen into the bundle (its package metadata).
#   build/linux/build-deb.sh [ONEDIR] [OUTDIR]
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
onedir=$(realpath "${1:-$root/dist/director-desktop}")
outdir=$(realpath -m "${2:-$root/dist}")
here="$root/build/linux"
icons="$root/build/icons"

[ -x "$onedir/director-desktop" ] || {
  echo "build-deb: no onedir at $onedir; run: pyinstaller director.spec --distpath dist --workpath .pyinstaller" >&2
  exit 1
}
# copy_metadata() bundles a .dist-info (installed) or an .egg-info (editable install).
metadata=$(find "$onedir/_internal" -maxdepth 2 -path '*/director_desktop*-info/*' \
  \( -name METADATA -o -name PKG-INFO \) -print -quit)
[ -n "$metadata" ] || { echo "build-deb: $onedir carries no director_desktop metadata" >&2; exit 1; }
version=$(sed -n 's/^Version: *//p' "$metadata" | head -n1)
[ -n "$version" ] || { echo "build-deb: no Version in $metadata" >&2; exit 1; }

stage=$(mktemp -d)
trap 'rm -rf "$stage"' EXIT
pkg="$stage/pkg"
install -d "$pkg/DEBIAN" "$pkg/opt" "$pkg/usr/bin" "$pkg/usr/share/applications" \
  "$pkg/usr/share/doc/director-desktop"
cp -a "$onedir" "$pkg/opt/director-desktop"
ln -s /opt/director-desktop/director-desktop "$pkg/usr/bin/director-desktop"
install -m 644 "$here/director-desktop.desktop" "$pkg/usr/share/applications/"
install -m 644 "$icons/director-desktop.svg" -D "$pkg/usr/share/icons/hicolor/scalable/apps/director-desktop.svg"
for png in "$icons"/png/*x*.png; do
  size=$(basename "$png" .png)
  install -m 644 -D "$png" "$pkg/usr/share/icons/hicolor/$size/apps/director-desktop.png"
done
# The notices the spec bundled (FFmpeg is GPLv3: its licence and where its source is), also where
# Debian users look for them.
notices="$onedir/_internal/THIRD-PARTY-NOTICES.md"
[ -f "$notices" ] || { echo "build-deb: $notices is missing; rebuild with director.spec" >&2; exit 1; }
install -m 644 "$notices" "$pkg/usr/share/doc/director-desktop/THIRD-PARTY-NOTICES.md"
printf 'Director Desktop %s\nLicense: MIT\n\n%s\n' "$version" \
  "Third-party components (FFmpeg: GPL-3): see THIRD-PARTY-NOTICES.md beside this file." \
  > "$pkg/usr/share/doc/director-desktop/copyright"

# Files dpkg owns are root's and world-readable whoever builds; nothing is group/world-writable.
chmod -R u+rwX,go+rX,go-w "$pkg"
installed_kib=$(du -sk --exclude=DEBIAN "$pkg" | cut -f1)
sed -e "s/@VERSION@/$version/" -e "s/@INSTALLED_SIZE@/$installed_kib/" \
  "$here/debian/control.in" > "$pkg/DEBIAN/control"
install -m 755 "$here/debian/postinst" "$here/debian/postrm" "$pkg/DEBIAN/"

mkdir -p "$outdir"
deb="$outdir/director-desktop_${version}_amd64.deb"
# zstd -9: 69 MB in ~5 s of CPU for a 168 MiB bundle, where xz -6 makes 57 MB in ~105 s. Every
# dpkg that can satisfy Depends (WebKitGTK 4.1: Debian 12, Ubuntu 22.04 and later) reads zstd.
fakeroot dpkg-deb -Zzstd -z9 --build "$pkg" "$deb" >&2
echo "$deb"
