"""The client configurations shown in docs/clients.md (docs/clients/*), made runnable for a test.

The files use placeholders a reader replaces (you@outlook.com, ports, ~/.mailtrixy/server.crt);
render() replaces them with the test's values and fails when a placeholder is missing, so the
documented file and the tested one cannot drift apart.
"""

import os

from harness import SOURCE_DIR


def render(name, replacements):
    """docs/clients/NAME with each key of `replacements` (which must occur) replaced."""
    with open(os.path.join(SOURCE_DIR, "docs", "clients", name)) as f:
        text = f.read()
    for placeholder, value in replacements.items():
        if placeholder not in text:
            raise AssertionError(f"docs/clients/{name} no longer contains {placeholder!r}; update the test")
        text = text.replace(placeholder, str(value))
    return text


def write_password_file(path, password):
    with open(path, "w") as f:
        f.write(password + "\n")
    os.chmod(path, 0o600)
    return path
