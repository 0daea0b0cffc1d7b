"""Shared test tools: compare symdiff's gradient (and value) with the function itself."""

import re

import numpy as np

from symdiff import check_grad, value_and_grad


def agrees(f, *args, wrt=0, **kw):
    """symdiff's value equals f's and its gradient passes the finite-difference check."""
    value, _ = value_and_grad(f, wrt=wrt)(*args)
    expected = f(*args)
    np.testing.assert_allclose(value, expected, rtol=1e-12, atol=1e-12)
    return check_grad(f, *args, wrt=wrt, **kw)


def doc_blocks(page: str, section: str) -> list[str]:
    """The Python blocks of ``docs/<page>`` under the heading ``## <section>`` (up to the
    next heading of that level) that import something: the runnable ones."""
    from pathlib import Path

    text = (Path(__file__).resolve().parent.parent / "docs" / page).read_text()
    body = text.split(f"\n## {section}\n", 1)[1].split("\n## ", 1)[0]
    return [b for b in re.findall(r"```python\n(.*?)```", body, re.S) if "import" in b]
