import re
from pathlib import Path

import atomic_sdk


def test_the_package_is_the_version_its_wheel_is_built_as():
    pyproject = (Path(__file__).resolve().parents[1] / "pyproject.toml").read_text()
    assert re.search(r'^version = "([^"]+)"$', pyproject, re.M).group(1) == atomic_sdk.__version__
