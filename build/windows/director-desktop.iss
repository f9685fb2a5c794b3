; Inno Setup 6 script: turns the PyInstaller onedir (dist\director-desktop\) into
; dist\director-desktop-<version>-setup.exe. build-installer.ps1 passes the version:
;   iscc /DAppVersion=0.1.0 build\windows\director-desktop.iss
; Installs per user by default (no admin prompt; the user may choose all users), adds Start menu
; and optional desktop shortcuts, and uninstalls only what it installed: the user's chats in
; %LOCALAPPDATA%\Director Desktop stay.

#ifndef AppVersion
  #error Pass the version: iscc /DAppVersion=X.Y.Z director-desktop.iss
#endif
#define AppName "Director Desktop"
#define AppExe "director-desktop.exe"
#define Root ".."

[Setup]
; A fixed AppId makes later versions upgrade this install in place.
AppId={{6A1C8E52-2F0D-4B7E-9C3A-5D2E8F41B7A0}
AppName={#AppName}
AppVersion={#AppVersion}
AppVerName={#AppName} {#AppVersion}
AppPublisher=Director Desktop maintainers
AppPublisherURL=https://github.com/video-db/Director
DefaultDirName={autopf}\{#AppName}
DefaultGroupName={#AppName}
DisableProgramGroupPage=yes
PrivilegesRequired=lowest
PrivilegesRequiredOverridesAllowed=dialog
ArchitecturesAllowed=x64compatible
ArchitecturesInstallIn64BitMode=x64compatible
OutputDir={#Root}\..\dist
OutputBaseFilename=director-desktop-{#AppVersion}-setup
SetupIconFile={#Root}\icons\director-desktop.ico
UninstallDisplayIcon={app}\{#AppExe}
Compression=lzma2/max
SolidCompression=yes
WizardStyle=modern
; The app holds a lock in the data dir, not in {app}; closing it before upgrade is enough.
CloseApplications=yes
RestartApplications=no

[Languages]
Name: "english"; MessagesFile: "compiler:Default.isl"

[Tasks]
Name: "desktopicon"; Description: "{cm:CreateDesktopIcon}"; GroupDescription: "{cm:AdditionalIcons}"; Flags: unchecked

[Files]
Source: "{#Root}\..\dist\director-desktop\*"; DestDir: "{app}"; Flags: ignoreversion recursesubdirs createallsubdirs
; The third-party notices (FFmpeg's GPLv3 and where its source is) beside the app, where users look;
; a copy is inside the app too (_internal\THIRD-PARTY-NOTICES.md).
Source: "{#Root}\THIRD-PARTY-NOTICES.md"; DestDir: "{app}"; Flags: ignoreversion

[Icons]
Name: "{autoprograms}\{#AppName}"; Filename: "{app}\{#AppExe}"
Name: "{autodesktop}\{#AppName}"; Filename: "{app}\{#AppExe}"; Tasks: desktopicon

[Run]
Filename: "{app}\{#AppExe}"; Description: "{cm:LaunchProgram,{#AppName}}"; Flags: nowait postinstall skipifsilent

[UninstallDelete]
; Only what the installer itself put in {app}; never {localappdata}\{#AppName} (the user's data).
Type: filesandordirs; Name: "{app}\_internal"
