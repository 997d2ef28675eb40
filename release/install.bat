@echo off
rem Offline install of tenken from this bundle (Windows x86_64, Python 3.11). No network is used.
rem
rem   install.bat [VENV]        VENV defaults to %LOCALAPPDATA%\tenken\venv
rem
rem 1. every file is checked against SHA256SUMS (PowerShell Get-FileHash); 2. a virtual
rem environment is made with the py launcher; 3. the locked wheels are installed with
rem --no-index --require-hashes; 4. tenken's wheel.
setlocal
cd /d "%~dp0"
set "VENV=%~1"
if "%VENV%"=="" set "VENV=%LOCALAPPDATA%\tenken\venv"
set PIP_CONFIG_FILE=nul
set PIP_DISABLE_PIP_VERSION_CHECK=1
set PIP_NO_INPUT=1

powershell -NoProfile -ExecutionPolicy Bypass -Command "$bad = 0; Get-Content -LiteralPath 'SHA256SUMS' | ForEach-Object { $sum, $file = $_ -split '  ', 2; if ((Get-FileHash -Algorithm SHA256 -LiteralPath $file).Hash.ToLower() -ne $sum) { Write-Host ('mismatch: ' + $file); $bad = 1 } }; exit $bad"
if errorlevel 1 (
    echo SHA256SUMS mismatch: rebuild and carry the bundle again [BUNDLE_CORRUPT]
    exit /b 1
)
py -3.11 -m venv "%VENV%" || exit /b 1
"%VENV%\Scripts\python.exe" -m pip install --quiet --no-index --find-links wheels --require-hashes -r requirements.lock || exit /b 1
for %%w in (wheels\tenken-*.whl) do "%VENV%\Scripts\python.exe" -m pip install --quiet --no-index --no-deps "%%w" || exit /b 1
"%VENV%\Scripts\python.exe" -m pip check || exit /b 1
echo tenken installed: %VENV%\Scripts\tenken.exe [INSTALLED]
