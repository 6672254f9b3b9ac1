"""PyTorch's MNIST example (pytorch/examples, mnist/main.py) ported line by line to compgraph.

Every line that differs from PyTorch's says what PyTorch wrote in a ``# PyTorch:``
comment; every other line is PyTorch's own. Run it as PyTorch's:

    python examples/pytorch_mnist.py --epochs 1

Three options are compgraph's, for a machine without the data and for quick checks:
``--dataset synthetic`` (compgraph's generated stand-in for MNIST, no download),
``--limit-train N`` and ``--limit-test N`` (the first N examples of each split).
"""

from __future__ import annotations

import argparse
from typing import Any

import compgraph as cg
import compgraph.functional as F  # PyTorch: import torch.nn.functional as F
import compgraph.nn as nn  # PyTorch: import torch.nn as nn
import compgraph.optim as optim  # PyTorch: import torch.optim as optim
from compgraph import data as datasets  # PyTorch: from torchvision import datasets, transforms
from compgraph.data import DataLoader, Normalize  # PyTorch: torch.utils.data.DataLoader
from compgraph.optim.lr_scheduler import StepLR


class Net(nn.Module):
    def __init__(self) -> None:
        super().__init__()  # PyTorch: super(Net, self).__init__()
        self.conv1 = nn.Conv2d(1, 32, 3, 1)
        self.conv2 = nn.Conv2d(32, 64, 3, 1)
        self.dropout1 = nn.Dropout(0.25)
        self.dropout2 = nn.Dropout(0.5)
        self.fc1 = nn.Linear(9216, 128)
        self.fc2 = nn.Linear(128, 10)

    def forward(self, x: Any) -> cg.Tensor:
        x = self.conv1(x)
        x = F.relu(x)
        x = self.conv2(x)
        x = F.relu(x)
        x = F.max_pool2d(x, 2)
        x = self.dropout1(x)
        x = x.flatten(1)  # PyTorch: x = torch.flatten(x, 1)
        x = self.fc1(x)
        x = F.relu(x)
        x = self.dropout2(x)
        x = self.fc2(x)
        output = F.log_softmax(x, dim=1)
        return output


def train(
    args: argparse.Namespace,
    model: Net,
    device: str,
    train_loader: DataLoader,
    optimizer: optim.Optimizer,
    epoch: int,
) -> None:
    model.train()
    for batch_idx, (data, target) in enumerate(train_loader):
        # PyTorch: data, target = data.to(device), target.to(device)  (compgraph: the CPU only)
        optimizer.zero_grad()
        output = model(data)
        loss = F.nll_loss(output, target)
        loss.backward()
        optimizer.step()
        if batch_idx % args.log_interval == 0:
            print(
                "Train Epoch: {} [{}/{} ({:.0f}%)]\tLoss: {:.6f}".format(  # noqa: UP032
                    epoch,
                    batch_idx * len(data),
                    len(train_loader.dataset),
                    100.0 * batch_idx / len(train_loader),
                    loss.item(),
                )
            )
            if args.dry_run:
                break


def test(model: Net, device: str, test_loader: DataLoader) -> None:
    model.eval()
    test_loss = 0.0  # PyTorch: test_loss = 0
    correct = 0
    with cg.no_grad():  # PyTorch: with torch.no_grad():
        for data, target in test_loader:
            # PyTorch: data, target = data.to(device), target.to(device)
            output = model(data)
            test_loss += F.nll_loss(output, target, reduction="sum").item()  # sum up batch loss
            pred = output.argmax(dim=1, keepdim=True)  # get the index of the max log-probability
            # PyTorch: correct += pred.eq(target.view_as(pred)).sum().item()  (target: an array)
            correct += (pred == target.reshape(pred.shape)).sum().item()

    test_loss /= len(test_loader.dataset)

    print(
        "\nTest set: Average loss: {:.4f}, Accuracy: {}/{} ({:.0f}%)\n".format(  # noqa: UP032
            test_loss,
            correct,
            len(test_loader.dataset),
            100.0 * correct / len(test_loader.dataset),
        )
    )


def load_split(args: argparse.Namespace, train: bool) -> Any:
    """compgraph's: MNIST or the synthetic stand-in, cut to ``--limit-train``/``--limit-test``
    (PyTorch would write ``torch.utils.data.Subset(dataset, range(n))``)."""
    split = "train" if train else "test"
    dataset: Any
    if args.dataset == "synthetic":
        dataset = datasets.Synthetic(split)
    else:
        dataset = datasets.MNIST(split=split)
    limit = args.limit_train if train else args.limit_test
    if limit is not None:
        dataset.images, dataset.labels = dataset.images[:limit], dataset.labels[:limit]
    return dataset


def main(argv: list[str] | None = None) -> None:
    # Training settings
    # PyTorch: description='PyTorch MNIST Example'
    parser = argparse.ArgumentParser(description="PyTorch MNIST Example, on compgraph")
    parser.add_argument(
        "--batch-size",
        type=int,
        default=64,
        metavar="N",
        help="input batch size for training (default: 64)",
    )
    parser.add_argument(
        "--test-batch-size",
        type=int,
        default=1000,
        metavar="N",
        help="input batch size for testing (default: 1000)",
    )
    parser.add_argument(
        "--epochs",
        type=int,
        default=14,
        metavar="N",
        help="number of epochs to train (default: 14)",
    )
    parser.add_argument(
        "--lr", type=float, default=1.0, metavar="LR", help="learning rate (default: 1.0)"
    )
    parser.add_argument(
        "--gamma",
        type=float,
        default=0.7,
        metavar="M",
        help="Learning rate step gamma (default: 0.7)",
    )
    # PyTorch: --no-accel alone; compgraph runs on the CPU, so both are accepted and ignored.
    parser.add_argument("--no-accel", "--no-cuda", action="store_true", help="disables accelerator")
    parser.add_argument("--dry-run", action="store_true", help="quickly check a single pass")
    parser.add_argument("--seed", type=int, default=1, metavar="S", help="random seed (default: 1)")
    parser.add_argument(
        "--log-interval",
        type=int,
        default=10,
        metavar="N",
        help="how many batches to wait before logging training status",
    )
    parser.add_argument("--save-model", action="store_true", help="For Saving the current Model")
    # compgraph's: the data, and slices of it for quick checks.
    parser.add_argument(
        "--dataset",
        choices=("mnist", "synthetic"),
        default="mnist",
        help="mnist, or compgraph's generated stand-in (no download; default: mnist)",
    )
    parser.add_argument(
        "--limit-train", type=int, metavar="N", help="train on the first N examples only"
    )
    parser.add_argument(
        "--limit-test", type=int, metavar="N", help="test on the first N examples only"
    )
    args = parser.parse_args(argv)  # PyTorch: parser.parse_args()

    # PyTorch: use_accel = not args.no_accel and torch.accelerator.is_available()
    # (compgraph computes with NumPy, on the CPU: there is no accelerator to use)

    cg.manual_seed(args.seed)  # PyTorch: torch.manual_seed(args.seed)

    device = "cpu"  # PyTorch: torch.accelerator.current_accelerator() or torch.device("cpu")

    # PyTorch: {'batch_size': ...} for both, and 'shuffle': True added for an accelerator.
    # compgraph's loader shuffles by default (PyTorch's does not) and flattens by default
    # (into N×784): the test set needs no shuffle, the Net wants N×1×28×28 images.
    train_kwargs: dict[str, Any] = {"batch_size": args.batch_size, "flatten": False}
    test_kwargs: dict[str, Any] = {
        "batch_size": args.test_batch_size,
        "shuffle": False,
        "flatten": False,
    }
    # PyTorch: if use_accel: num_workers, persistent_workers, pin_memory (nothing to port)

    # PyTorch: transforms.Compose([transforms.ToTensor(), transforms.Normalize(...)]);
    # the loader itself turns bytes into floats in [0, 1], as ToTensor.
    transform = Normalize((0.1307,), (0.3081,))
    # PyTorch: datasets.MNIST('../data', train=True, download=True, transform=transform)
    dataset1 = load_split(args, train=True)
    # PyTorch: datasets.MNIST('../data', train=False, transform=transform)
    dataset2 = load_split(args, train=False)
    # PyTorch: torch.utils.data.DataLoader(dataset1, **train_kwargs), the transform on the set
    train_loader = DataLoader(dataset1, transform=transform, **train_kwargs)
    test_loader = DataLoader(dataset2, transform=transform, **test_kwargs)

    model = Net()  # PyTorch: Net().to(device)
    optimizer = optim.Adadelta(model.parameters(), lr=args.lr)

    scheduler = StepLR(optimizer, step_size=1, gamma=args.gamma)
    for epoch in range(1, args.epochs + 1):
        train(args, model, device, train_loader, optimizer, epoch)
        test(model, device, test_loader)
        scheduler.step()

    if args.save_model:
        cg.save("mnist_cnn.npz", model)  # PyTorch: torch.save(model.state_dict(), "mnist_cnn.pt")


if __name__ == "__main__":
    main()
