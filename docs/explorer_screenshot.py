"""Regenerate docs/explorer.png: the explorer on the notebook's softmax regression.

The example notebook's cell, run here: the original notebook's Linear (784 → 10) on four MNIST
training images, then Softmax → CrossEntropy against one-hot labels → Mean. The page is
opened in Debian's Chromium (driven by Playwright, as the browser tests do), stepped to
the last backward step — the Linear node, handing dL/dW and dL/db to its parameters —
and photographed at 1280×720.

    python3 run.py test tests/test_explorer_browser.py   # creates .venv with playwright
    .venv/bin/python docs/explorer_screenshot.py [--out docs/explorer.png]

Needs ``apt-get install chromium`` (at /usr/bin/chromium) and MNIST (downloaded and
verified on first use, as ``compgraph train`` does).
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

import numpy as np

import compgraph as cg
from compgraph import data, files, nn, nodes
from compgraph.viz import explore

CHROMIUM = Path("/usr/bin/chromium")
DOCS = Path(__file__).resolve().parent


def notebook_loss() -> tuple[nn.Module, cg.Tensor]:
    """The example notebook's softmax regression and its loss on four training images."""
    rng = np.random.default_rng(5)  # the notebook's seed
    layer = nn.Linear(784, 10, init="notebook", rng=rng)
    train_set = data.MNIST(split="train")
    batch = data.DataLoader((train_set.images[:4], train_set.labels[:4]), 4, shuffle=False)
    x_batch, y_batch = next(iter(batch))
    images = cg.tensor(x_batch, name="images")
    probabilities = nodes.Softmax()(layer(images))
    targets = cg.tensor(data.one_hot(y_batch, 10), name="one-hot labels p")
    loss = nodes.Mean()(nodes.CrossEntropy()(probabilities, targets))
    return layer, loss


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=DOCS / "explorer.png")
    args = parser.parse_args()
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        print("needs playwright: pip install playwright (or python3 run.py test)", file=sys.stderr)
        return 2
    if not CHROMIUM.exists():
        print(f"needs Chromium at {CHROMIUM}: apt-get install chromium", file=sys.stderr)
        return 2
    layer, loss = notebook_loss()
    page_html = explore(loss, layer, title="the notebook's softmax regression on four images")
    steps = len(page_html.data["backward"])
    with tempfile.TemporaryDirectory() as folder, sync_playwright() as playwright:
        path = page_html.save(Path(folder) / "explorer.html")
        browser = playwright.chromium.launch(
            executable_path=str(CHROMIUM), args=["--no-sandbox", "--disable-gpu"]
        )
        page = browser.new_page(viewport={"width": 1280, "height": 720})
        page.goto(path.as_uri())
        page.check("#mode-backward")
        for _ in range(steps):
            page.click("#step")
        picture = page.screenshot()
        browser.close()
    files.write_bytes(args.out, picture)
    print(f"wrote {args.out} (backward step {steps} of {steps})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
