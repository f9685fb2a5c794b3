#!/usr/bin/env bash
# Turns the PyInstaller .app (dist/Director Desktop.app) into dist/Director-Desktop_<version>.dmg.
# Signs with the hardened runtime when MACOS_SIGN_IDENTITY is set (a "Developer ID Application"
# identity in the keychain), and notarizes when APPLE_ID, APPLE_TEAM_ID and APPLE_APP_PASSWORD are
# set too. Unsigned otherwise: fine for local testing, Gatekeeper warns on other Macs.
#   build/macos/build-dmg.sh [APP] [OUTDIR]
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
app="${1:-$root/dist/Director Desktop.app}"
outdir="${2:-$root/dist}"
[ -d "$app" ] || { echo "build-dmg: no app at $app; run pyinstaller director.spec first" >&2; exit 1; }
version=$(/usr/libexec/PlistBuddy -c "Print :CFBundleShortVersionString" "$app/Contents/Info.plist")

if [ -n "${MACOS_SIGN_IDENTITY:-}" ]; then
  # Inside out: every Mach-O in the bundle, then the app itself, all with the hardened runtime.
  find "$app/Contents" -type f \( -name '*.so' -o -name '*.dylib' -o -perm -u+x \) -print0 |
    xargs -0 codesign --force --timestamp --options runtime \
      --entitlements "$root/build/macos/entitlements.plist" --sign "$MACOS_SIGN_IDENTITY"
  codesign --force --timestamp --options runtime \
    --entitlements "$root/build/macos/entitlements.plist" --sign "$MACOS_SIGN_IDENTITY" "$app"
  codesign --verify --deep --strict --verbose=2 "$app"
fi

stage=$(mktemp -d)
trap 'rm -rf "$stage"' EXIT
cp -R "$app" "$stage/"
ln -s /Applications "$stage/Applications"
# The third-party notices (FFmpeg's GPLv3 and where its source is) beside the app on the disk
# image; the app carries a copy in Contents/Resources.
cp "$root/build/THIRD-PARTY-NOTICES.md" "$stage/"
mkdir -p "$outdir"
dmg="$outdir/Director-Desktop_${version}.dmg"
rm -f "$dmg"
hdiutil create -volname "Director Desktop" -srcfolder "$stage" -ov -format UDZO "$dmg" >&2

if [ -n "${MACOS_SIGN_IDENTITY:-}" ]; then
  codesign --force --timestamp --sign "$MACOS_SIGN_IDENTITY" "$dmg"
  if [ -n "${APPLE_ID:-}" ] && [ -n "${APPLE_TEAM_ID:-}" ] && [ -n "${APPLE_APP_PASSWORD:-}" ]; then
    xcrun notarytool submit "$dmg" --apple-id "$APPLE_ID" --team-id "$APPLE_TEAM_ID" \
      --password "$APPLE_APP_PASSWORD" --wait >&2
    xcrun stapler staple "$dmg" >&2
  fi
fi
echo "$dmg"
