# Builds the per-machine MSI on Windows (not built on the Linux build machine):
#   powershell -ExecutionPolicy Bypass -File packaging\windows\build.ps1 [-Version 0.1.0]
# Needs Python 3.11 and the WiX Toolset 4+ (`dotnet tool install --global wix`).
# Writes dist\timeback-companion-<version>-x64.msi.
param([string]$Version = "")
$ErrorActionPreference = "Stop"
$repo = Resolve-Path "$PSScriptRoot\..\.."
Set-Location $repo

if (-not (Test-Path .venv\Scripts\python.exe)) { py -3.11 -m venv .venv }
.venv\Scripts\python.exe -m pip install -q -e ".[test]"
if (-not $Version) {
  $Version = .venv\Scripts\python.exe -c "import tomllib; print(tomllib.load(open('pyproject.toml','rb'))['project']['version'])"
}
$build = (git rev-parse --short HEAD 2>$null); if (-not $build) { $build = "dev" }
New-Item -ItemType Directory -Force build\msi, dist | Out-Null
"{""version"": ""$Version"", ""build"": ""$build""}" | Set-Content -Encoding ascii build\msi\_build.json

$env:COMPANION_BUILD_INFO = "$repo\build\msi\_build.json"
.venv\Scripts\python.exe -m PyInstaller --noconfirm --distpath build\pyinstaller\dist `
  --workpath build\pyinstaller\work packaging\companion.spec

wix build packaging\windows\timeback-companion.wxs -arch x64 `
  -d Version=$Version -d SourceDir=build\pyinstaller\dist\companion `
  -ext WixToolset.Util.wixext -bindpath build\pyinstaller\dist\companion `
  -o "dist\timeback-companion-$Version-x64.msi"
Write-Output "dist\timeback-companion-$Version-x64.msi"
