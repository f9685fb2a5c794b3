# Windows: builds dist\director-desktop\ with PyInstaller (unless -SkipFreeze), then the Inno Setup
# installer dist\director-desktop-<version>-setup.exe. Signs the app and the installer with
# signtool when WINDOWS_CERT_FILE (a .pfx) and WINDOWS_CERT_PASSWORD are set.
#   powershell -ExecutionPolicy Bypass -File build\windows\build-installer.ps1 [-SkipFreeze]
param([switch]$SkipFreeze)
$ErrorActionPreference = "Stop"
$Root = Resolve-Path (Join-Path $PSScriptRoot "..\..")
Set-Location $Root

$Python = if (Test-Path ".venv\Scripts\python.exe") { ".venv\Scripts\python.exe" } else { "python" }
if (-not $SkipFreeze) {
    & $Python -m PyInstaller director.spec --noconfirm --distpath dist --workpath .pyinstaller
    if ($LASTEXITCODE -ne 0) { throw "pyinstaller failed ($LASTEXITCODE)" }
}
$Exe = "dist\director-desktop\director-desktop.exe"
if (-not (Test-Path $Exe)) { throw "no onedir at dist\director-desktop; run pyinstaller director.spec first" }

# copy_metadata() bundles a .dist-info (installed) or an .egg-info (editable install).
$Metadata = Get-ChildItem "dist\director-desktop\_internal\director_desktop*-info" -File -Include METADATA, PKG-INFO -Recurse |
    Select-Object -First 1
if (-not $Metadata) { throw "the onedir carries no director_desktop metadata" }
$Version = (Select-String -Path $Metadata.FullName -Pattern '^Version: *(.+)$' | Select-Object -First 1).Matches[0].Groups[1].Value.Trim()

function Invoke-Sign([string]$Path) {
    if (-not $env:WINDOWS_CERT_FILE) { return }
    & signtool sign /f $env:WINDOWS_CERT_FILE /p $env:WINDOWS_CERT_PASSWORD /fd SHA256 `
        /tr http://timestamp.digicert.com /td SHA256 $Path
    if ($LASTEXITCODE -ne 0) { throw "signtool failed on $Path" }
}
Invoke-Sign $Exe

$Iscc = (Get-Command iscc -ErrorAction SilentlyContinue).Source
if (-not $Iscc) { $Iscc = "${env:ProgramFiles(x86)}\Inno Setup 6\ISCC.exe" }
& $Iscc "/DAppVersion=$Version" "build\windows\director-desktop.iss"
if ($LASTEXITCODE -ne 0) { throw "iscc failed ($LASTEXITCODE)" }
$Setup = "dist\director-desktop-$Version-setup.exe"
Invoke-Sign $Setup
Write-Output (Resolve-Path $Setup).Path
