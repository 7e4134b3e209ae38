"""Build the wheel and report its size and what it holds: code only, the shipped models stay out.

python bench/wheel_size.py    # writes bench/wheel.json
"""

import json
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent


def main() -> None:
    with tempfile.TemporaryDirectory() as folder:
        command = [sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", folder, str(REPO)]
        subprocess.run(command, check=True)
        (wheel,) = Path(folder).glob("*.whl")
        names = zipfile.ZipFile(wheel).namelist()
        report = {
            "wheel": wheel.name,
            "bytes": wheel.stat().st_size,
            "files": len(names),
            "suffixes": sorted({Path(name).suffix for name in names}),
            "command": "python bench/wheel_size.py",
        }
    (REPO / "bench" / "wheel.json").write_text(json.dumps(report, indent=2) + "\n")
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
